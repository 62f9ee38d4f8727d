"""The web chat (Gradio). Thin: every answer comes from QABot; this module only renders it.

A first version: chat with quoted, cited answers, example questions, and the ``/ask`` API
endpoint returning the ``qa-bot ask --json`` contract. All article and user text is escaped
before it reaches the page.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bot import QABot
    from .records import Answer

from .errors import InvalidQuestionError

EXAMPLES = [
    "What does the BLA want?",
    "How many people were killed?",
    "What did New Delhi say about Pakistan's claims?",
    "Who does the BLA target?",
]
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(text: str) -> str:
    """Text safe to put in the chat's Markdown: HTML-escaped, Markdown punctuation backslashed."""
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=True))


def render_answer(answer: Answer) -> str:
    """The assistant message (Markdown) for an answer."""
    if not answer.answered:
        return escape(answer.message or "No answer.")
    parts = []
    for n, quote in enumerate(answer.quotes, 1):
        art = quote.article
        title = escape(art.title)
        if art.url.startswith(("http://", "https://")):
            title = f'<a href="{html.escape(art.url, quote=True)}" target="_blank" rel="noopener">{title}</a>'
        meta = " · ".join(escape(x) for x in (art.source, art.published) if x)
        strength = "strong match" if quote.score >= 0.8 else "partial match"
        parts.append(
            f"> {escape(quote.text)} <sup>[{n}]</sup>\n\n"
            f"[{n}] {title}" + (f" — {meta}" if meta else "") + f" · *{strength} ({quote.score:.0%})*"
        )
    return "\n\n".join(parts)


def build_app(bot: QABot):
    """The Gradio Blocks app for ``bot``."""
    import gradio as gr

    def ask_api(question: str) -> dict[str, Any]:
        try:
            return bot.ask(question).to_dict()
        except InvalidQuestionError as exc:
            return {"question": question, "answered": False, "message": str(exc), "quotes": []}

    def respond(message: str, history: list[dict[str, Any]]):
        history = list(history or [])
        if not (message or "").strip():
            return history, ""
        history.append({"role": "user", "content": escape(message)})
        try:
            reply = render_answer(bot.ask(message))
        except InvalidQuestionError as exc:
            reply = escape(str(exc))
        history.append({"role": "assistant", "content": reply})
        return history, ""

    with gr.Blocks(title="qa-bot: answers from the articles") as app:
        gr.Markdown("## Ask the articles\nAnswers are exact quotes from the corpus, with their source.")
        chat = gr.Chatbot(label="Chat", height=520, sanitize_html=True, allow_tags=False)
        box = gr.Textbox(placeholder="Ask a question about the articles…", show_label=False, max_length=1000)
        gr.Examples(EXAMPLES, inputs=box)
        box.submit(respond, [box, chat], [chat, box], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def launch(bot: QABot, *, host: str = "127.0.0.1", port: int = 7860) -> None:
    """Serve the chat on ``host:port`` (loopback by default; never a public share link)."""
    bot.warm_up()
    build_app(bot).queue(default_concurrency_limit=4).launch(server_name=host, server_port=port, share=False)
