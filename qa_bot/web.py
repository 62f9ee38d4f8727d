"""The web chat (Gradio). Thin: answers come from QABot, markup from render.py; this module only
lays out the page and wires its events.

The page: a chat whose answers are block quotes with numbered citations and a confidence cue;
a sources panel showing, for the selected answer, each cited passage with the quote highlighted;
example questions taken from the corpus; the list of articles; and, when the corpus has several
outlets or dates, filters by outlet and date range. Follow-up questions ("How many of them were
civilians?") are completed from the question before them. The ``/ask`` API endpoint returns the
``qa-bot ask --json`` contract.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

# Imported at module level (web.py itself is imported only by `qa-bot serve`): Gradio resolves the
# `evt: gr.SelectData` annotation of event handlers through this module's globals.
import gradio as gr

from .errors import InvalidQuestionError
from .followup import contextualize, is_followup
from .records import Answer, ArticleFilter
from .render import CSS, answer_markdown, corpus_rows, escape, sources_html

if TYPE_CHECKING:
    from .bot import QABot

MAX_EXAMPLES = 4
# Questions that reach the model are capped in bot.clean_question; the box also stops typing there.
MAX_INPUT_CHARS = 1000


def example_questions(bot: QABot, limit: int = MAX_EXAMPLES) -> list[str]:
    """Questions a first-time reader can click: the corpus's own question headings ("What does the
    BLA want?") that stand on their own and that the bot answers."""
    seen: list[str] = []
    for i in range(len(bot.data.passages)):
        heading = bot.data.heading(i)
        if heading.endswith("?") and heading not in seen and not is_followup(heading):
            seen.append(heading)
    answered = [q for q, a in zip(seen, bot.ask_batch(seen)) if a.answered] if seen else []
    return answered[:limit]


def _parse_date(value: str, label: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidQuestionError(f"the {label} date {value!r} is not a date; write it as YYYY-MM-DD") from None


def make_filter(outlets: list[str] | None, all_outlets: list[str], date_from: str, date_to: str) -> ArticleFilter | None:
    """The ArticleFilter for the page's filter controls (None when they restrict nothing)."""
    sources = None
    if outlets is not None and set(outlets) != set(all_outlets):
        sources = frozenset(outlets)
    where = ArticleFilter(sources, _parse_date(date_from, "from"), _parse_date(date_to, "to"))
    return None if where.is_empty else where


def build_app(bot: QABot):
    """The Gradio Blocks app for ``bot``."""
    articles = bot.articles
    all_outlets = sorted({a.source for a in articles if a.source})
    dates = sorted({a.published for a in articles if a.published})
    show_filters = len(all_outlets) > 1 or len(dates) > 1
    examples = example_questions(bot)

    def ask_api(question: str) -> dict[str, Any]:
        """Answer a question with verbatim quotes and citations (the `qa-bot ask --json` object)."""
        try:
            return bot.ask(question).to_dict()
        except InvalidQuestionError as exc:
            return {"question": str(question), "answered": False, "message": str(exc), "quotes": []}

    def respond(message, history, answers, asked, outlets, date_from, date_to):
        history, answers, asked = list(history or []), list(answers or []), list(asked or [])
        if not (message or "").strip():
            return history, "", answers, asked, gr.update()
        history.append({"role": "user", "content": escape(message)})
        try:
            where = make_filter(outlets, all_outlets, date_from, date_to)
            effective = contextualize(message, asked)
            answer = bot.ask(effective, where=where)
            # Show the reader their own words, not the completed question.
            answer = Answer(message, answer.answered, answer.message, answer.quotes)
            asked.append(effective)
        except InvalidQuestionError as exc:
            answer = Answer(message, False, str(exc)[:1].upper() + str(exc)[1:] + ".", [])
        history.append({"role": "assistant", "content": answer_markdown(answer)})
        answers.append(answer)
        return history, "", answers, asked, sources_html(answer)

    def select(answers, evt: gr.SelectData):
        # Messages alternate user, assistant: assistant message 2n+1 holds answers[n].
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        n = int(index) // 2
        return sources_html(answers[n]) if 0 <= n < len(answers or []) else gr.update()

    def clear():
        return [], "", [], [], sources_html(None)

    with gr.Blocks(title="qa-bot — answers from the articles") as app:
        gr.Markdown(
            "## Ask the articles\n"
            "Every answer is an exact quote from the articles, with its source. "
            "When the articles do not answer, the bot says so."
        )
        answers_state = gr.State([])
        asked_state = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Chat", height=520, sanitize_html=True, elem_id="qa-chat",
                    placeholder="Ask a question about the articles below.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question about the articles…", show_label=False, scale=5,
                        max_length=MAX_INPUT_CHARS, elem_id="qa-input", autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-send")
                if examples:
                    with gr.Row(elem_id="qa-examples"):
                        gr.Markdown("**Try:**")
                        example_buttons = [gr.Button(q, size="sm", elem_classes=["qa-example"]) for q in examples]
                else:
                    example_buttons = []
                clear_button = gr.Button("New conversation", size="sm", variant="secondary")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(None), elem_id="qa-sources")
                with gr.Accordion("Filter sources", open=False, visible=show_filters, elem_id="qa-filters"):
                    outlets = gr.CheckboxGroup(all_outlets, value=all_outlets, label="Outlets")
                    with gr.Row():
                        date_from = gr.Textbox(label="Published from", placeholder=dates[0] if dates else "YYYY-MM-DD")
                        date_to = gr.Textbox(label="Published to", placeholder=dates[-1] if dates else "YYYY-MM-DD")
                with gr.Accordion(f"Articles in the corpus ({len(articles)})", open=False, elem_id="qa-corpus"):
                    gr.Dataframe(
                        corpus_rows(articles), headers=["Published", "Outlet", "Headline"],
                        interactive=False, wrap=True, elem_id="qa-corpus-table",
                    )

        inputs = [box, chat, answers_state, asked_state, outlets, date_from, date_to]
        outputs = [chat, box, answers_state, asked_state, sources]
        box.submit(respond, inputs, outputs, api_visibility="private")
        send.click(respond, inputs, outputs, api_visibility="private")
        for button in example_buttons:
            button.click(
                lambda h, a, q, o, f, t, text=button.value: respond(text, h, a, q, o, f, t),
                inputs[1:], outputs, api_visibility="private",
            )
        chat.select(select, [answers_state], [sources], api_visibility="private")
        clear_button.click(clear, None, [chat, box, answers_state, asked_state, sources], api_visibility="private")
        gr.api(ask_api, api_name="ask")
    return app


def launch(bot: QABot, *, host: str = "127.0.0.1", port: int = 7860, share: bool = False) -> None:
    """Serve the chat on ``host:port`` (loopback by default; a public share link only if asked)."""
    bot.warm_up()
    app = build_app(bot)
    app.queue(default_concurrency_limit=4, max_size=64)
    app.launch(server_name=host, server_port=port, share=share, css=CSS, footer_links=["api"])
