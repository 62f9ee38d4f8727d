"""The web chat (Gradio). Thin: answers come from QABot, markup from render.py; this module only
lays out the page and wires its events.

The page: a chat whose answers are block quotes with numbered citations and a confidence cue;
a sources panel showing, for the selected answer, each cited passage with the quote highlighted;
example questions taken from the corpus; the list of articles; and, when the corpus has several
outlets or dates, filters by outlet and date range. Follow-up questions ("How many of them were
civilians?") are completed from the question before them. Gradio's ``/ask`` API endpoint returns
the ``qa-bot ask --json`` contract; the REST API (``api.py``, ``/api/...``) is served beside the
chat by the same process, or alone (``qa-bot serve --api-only``).

Serving (see docs/reliability.md for the measurements behind these choices):

- Answers come from a ``live.LiveBot``: before each request it reads the index's ``CURRENT``
  pointer (one small file) and, when ``qa-bot build`` has moved it, loads the new generation and
  swaps it in, so a rebuilt index is served without a restart. Requests already running finish
  on the index they started with; an index that fails to load is logged and the old one kept.
- The queue runs at most ``CONCURRENCY`` answers at a time and holds at most ``QUEUE_SIZE``
  waiting events, and every answer, the chat's and the REST API's, takes a slot of one
  ``gate.Gate`` of ``CONCURRENCY``; request bodies over ``limits.MAX_REQUEST_BYTES`` are refused
  with HTTP 413.
- With a question log (``--log-questions``), each question asked is written to it
  (``questionlog.py``), whichever way it came.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

# Imported at module level (web.py itself is imported only by `qa-bot serve`): Gradio resolves the
# `evt: gr.SelectData` annotation of event handlers through this module's globals.
import gradio as gr

from ..errors import IndexCorruptError, InvalidQuestionError
from ..records import Answer, ArticleFilter
from ..retrieval.question import clean_question
from .followup import ask_in_conversation, needs_context
from .gate import Gate
from .limits import MAX_REQUEST_BYTES, RequestSizeLimit
from .live import LiveBot
from .render import CSS, answer_markdown, corpus_html, escape, followup_note, sources_html
from .schema import as_text

if TYPE_CHECKING:
    from fastapi import FastAPI

    from ..bot import QABot
    from .questionlog import QuestionLog

MAX_EXAMPLES = 4
# Answers running at once, across the chat and the /ask API (one concurrency group). The encoder
# is CPU-bound and torch already spreads one question over both cores of the target machine; the
# rest of an answer (features, quote selection) is single-threaded Python that overlaps another
# question's encoding. Measured with 20 clients (docs/reliability.md): 1 -> 16.6 answers/s,
# 2 -> 27.5, 4 -> 27.0, 8 -> 24.6. Two reach the plateau; more only add contention inside torch.
CONCURRENCY = 2
ANSWER_GROUP = "answer"
# Events waiting in the queue. A client has at most one event waiting, so this is how many people
# can ask at the same moment before "queue full"; at ~27 answers/s, 128 waiting is ~5 s of delay.
QUEUE_SIZE = 128
ON_ITS_OWN = "Ask the last question on its own"


def example_questions(bot: QABot, limit: int = MAX_EXAMPLES) -> list[str]:
    """Questions a first-time reader can click: the corpus's example questions (QUESTIONS.md) and
    question headings ("What does the BLA want?") that stand on their own and that the bot answers."""
    seen = [question for question in bot.examples() if not needs_context(question)]
    answered = [q for q, a in zip(seen, bot.ask_batch(seen)) if a.answered] if seen else []
    return answered[:limit]


def as_sentence(message: str) -> str:
    """A library message as a sentence for the page: capitalised, with a full stop."""
    message = message.strip()
    ended = message.rstrip("'\"”’)").endswith((".", "!", "?"))
    return message[:1].upper() + message[1:] + ("" if ended else ".")


def _parse_date(value: str, label: str) -> str | None:
    value = (value or "").strip()
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value).isoformat()
    except ValueError:
        raise InvalidQuestionError(f"the {label} date {value!r} is not a date; write it as YYYY-MM-DD") from None


def make_filter(
    outlets: list[str] | None, all_outlets: list[str], date_from: str, date_to: str
) -> ArticleFilter | None:
    """The ArticleFilter for the page's filter controls (None when they restrict nothing)."""
    sources = None
    if outlets is not None and set(outlets) != set(all_outlets):
        sources = frozenset(outlets)
    where = ArticleFilter(sources, _parse_date(date_from, "from"), _parse_date(date_to, "to"))
    return None if where.is_empty else where


def build_app(bot: QABot | LiveBot, gate: Gate | None = None, questions: QuestionLog | None = None):
    """The Gradio Blocks app for ``bot``. With a :class:`LiveBot` every request asks the live index;
    the examples, corpus list and filter choices show the index the app was built with. Answers
    take a slot of ``gate`` (shared with the REST API) and are written to ``questions`` if given."""
    live = bot if isinstance(bot, LiveBot) else LiveBot(bot)
    gate = gate or Gate(CONCURRENCY)

    def logged(answer: Answer, via: str) -> Answer:
        if questions is not None:
            questions.record(answer, via=via)
        return answer

    bot = live.current()
    articles = bot.articles
    all_outlets = sorted({a.source for a in articles if a.source})
    dates = sorted({a.published for a in articles if a.published})
    show_filters = len(all_outlets) > 1 or len(dates) > 1
    examples = example_questions(bot)

    def ask_api(question: str) -> dict[str, Any]:
        """Answer a question with verbatim quotes and citations (the `qa-bot ask --json` object)."""
        return ask_as_of_api(question, "")

    def ask_as_of_api(question: str, as_of: str) -> dict[str, Any]:
        """The same, asked on ``as_of`` (YYYY-MM-DD; empty for today): the date time words such as
        "this week" are read against. A separate endpoint: Gradio wants every input of a call."""
        question = as_text(question)
        try:
            asked_on = _parse_date(as_text(as_of), "as-of")
            with gate.slot():
                answer = live.current().ask(question, as_of=asked_on)
            return logged(answer, "gradio-api").to_dict()
        except (InvalidQuestionError, IndexCorruptError) as exc:  # a damaged block is found as it is read
            return Answer(str(question), False, str(exc), []).to_dict()

    def respond(message, history, answers, asked, outlets, date_from, date_to, as_of):
        return _respond(message, history, answers, asked, outlets, date_from, date_to, as_of, on_its_own=False)

    def _respond(message, history, answers, asked, outlets, date_from, date_to, as_of, *, on_its_own: bool):
        history, answers, asked = list(history or []), list(answers or []), list(asked or [])
        message = as_text(message)
        try:
            # The command line's own checks and words: an empty or over-long question, or a date
            # that is not one, is refused, and the text stays in the box to be put right.
            clean_question(message)
            where = make_filter(outlets, all_outlets, date_from, date_to)
            asked_on = _parse_date(as_of, "as-of")
        except InvalidQuestionError as exc:
            gr.Warning(as_sentence(str(exc)))
            return history, message, answers, asked, gr.update(), gr.update()
        history.append({"role": "user", "content": escape(message) + (" *(on its own)*" if on_its_own else "")})
        earlier = None
        try:
            with gate.slot():
                answer, reading = ask_in_conversation(live.current(), message, [] if on_its_own else asked,
                                                      where, asked_on)
            logged(answer, "chat")
            asked.append(reading.searched)
            earlier = reading.earlier
        except (InvalidQuestionError, IndexCorruptError) as exc:  # a damaged block is found as it is read
            answer = Answer(message, False, as_sentence(str(exc)), [])
        history.append({"role": "assistant", "content": followup_note(earlier) + answer_markdown(answer)})
        answers.append(answer)
        # "Ask it on its own" is offered for a question read as a follow-up, and asks that one.
        alone = gr.update(visible=earlier is not None, value=ON_ITS_OWN)
        return history, "", answers, asked, sources_html(answer), alone

    def select(answers, evt: gr.SelectData):
        # Messages alternate user, assistant: assistant message 2n+1 holds answers[n].
        index = evt.index[0] if isinstance(evt.index, (list, tuple)) else evt.index
        n = int(index) // 2
        return sources_html(answers[n]) if 0 <= n < len(answers or []) else gr.update()

    def ask_on_its_own(history, answers, asked, outlets, date_from, date_to, as_of):
        """The last question again, read on its own rather than as a follow-up."""
        last = answers[-1].question if answers else ""
        return _respond(last, history, answers, asked, outlets, date_from, date_to, as_of, on_its_own=True)

    def clear():
        return [], "", [], [], sources_html(None), gr.update(visible=False)

    with gr.Blocks(title="qa-bot — answers from the articles") as app:
        gr.Markdown(
            "## Ask the articles\n"
            "Every answer is an exact quote from the articles, with its source. "
            "When the articles do not answer, the bot says so."
        )
        answers_state = gr.State([])
        asked_state = gr.State([])
        with gr.Row(equal_height=False):
            with gr.Column(scale=3, min_width=300):
                chat = gr.Chatbot(
                    label="Chat", height=420, sanitize_html=True, elem_id="qa-chat",
                    placeholder="Ask a question: the answer quotes the articles, with their sources.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question about the articles…", show_label=False, scale=5,
                        elem_id="qa-input", autofocus=True, min_width=200,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="qa-send", min_width=60)
                    clear_button = gr.Button("New conversation", variant="secondary", scale=2, min_width=150,
                                             elem_id="qa-new")
                alone_button = gr.Button(ON_ITS_OWN, size="sm", variant="secondary", visible=False, elem_id="qa-alone")
                if examples:
                    with gr.Row(elem_id="qa-examples"):
                        gr.Markdown("**Try:**")
                        example_buttons = [gr.Button(q, size="sm", elem_classes=["qa-example"]) for q in examples]
                else:
                    example_buttons = []
            with gr.Column(scale=2, min_width=300):
                with gr.Group(elem_id="qa-side-sources"):
                    gr.Markdown("### Sources")
                    sources = gr.HTML(sources_html(None), elem_id="qa-sources")
                with gr.Accordion("Filter sources", open=False, visible=show_filters, elem_id="qa-filters"):
                    outlets = gr.CheckboxGroup(all_outlets, value=all_outlets, label="Outlets")
                    with gr.Row():
                        date_from = gr.Textbox(label="Published from", placeholder=dates[0] if dates else "YYYY-MM-DD")
                        date_to = gr.Textbox(label="Published to", placeholder=dates[-1] if dates else "YYYY-MM-DD")
                with gr.Accordion("Date asked", open=False, elem_id="qa-when"):
                    as_of_box = gr.Textbox(
                        label="Asked as of", placeholder=f"{dt.date.today().isoformat()} (today)", elem_id="qa-as-of",
                        info="Time words such as “this week” or “yesterday” are read against this date.",
                    )
                with gr.Accordion(f"Articles in the corpus ({len(articles)})", open=False, elem_id="qa-corpus"):
                    gr.HTML(corpus_html(articles), elem_id="qa-corpus-table")

        inputs = [box, chat, answers_state, asked_state, outlets, date_from, date_to, as_of_box]
        outputs = [chat, box, answers_state, asked_state, sources, alone_button]
        answering = {"api_visibility": "private", "concurrency_id": ANSWER_GROUP}
        box.submit(respond, inputs, outputs, **answering)
        send.click(respond, inputs, outputs, **answering)
        for button in example_buttons:
            button.click(
                lambda h, a, q, o, f, t, d, text=button.value: respond(text, h, a, q, o, f, t, d),
                inputs[1:], outputs, **answering,
            )
        alone_button.click(ask_on_its_own, inputs[1:], outputs, **answering)
        chat.select(select, [answers_state], [sources], api_visibility="private")
        clear_button.click(clear, None, [chat, box, answers_state, asked_state, sources, alone_button],
                           api_visibility="private")
        gr.api(ask_api, api_name="ask", concurrency_id=ANSWER_GROUP)
        gr.api(ask_as_of_api, api_name="ask_as_of", concurrency_id=ANSWER_GROUP)
    return app


def server_app(bot: QABot | None, *, pending=None, api_only: bool = False,
               questions: QuestionLog | None = None) -> FastAPI:
    """The ASGI app ``qa-bot serve`` runs: the REST API and (unless ``api_only``) the chat, on one
    FastAPI app behind the request size limit, sharing one LiveBot and one answer gate. ``pending``
    (a ``live.PendingBot``, API only) answers 503 until an index has been built."""
    from fastapi import FastAPI

    from .api import api_app, api_routes

    gate = Gate(CONCURRENCY, QUEUE_SIZE)
    if api_only:
        app = api_app(pending or LiveBot(bot).current, gate, questions)
    else:
        live = LiveBot(bot)
        blocks = build_app(live, gate, questions)
        blocks.queue(default_concurrency_limit=CONCURRENCY, max_size=QUEUE_SIZE)
        app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)
        api_routes(app, live.current, gate, questions)
        app = gr.mount_gradio_app(app, blocks, path="/", css=CSS, footer_links=["api"],
                                  max_file_size=MAX_REQUEST_BYTES)  # the app takes no uploads; refuse big ones anyway
    app.add_middleware(RequestSizeLimit, max_bytes=MAX_REQUEST_BYTES)
    return app


def launch(bot: QABot | None, *, host: str = "127.0.0.1", port: int = 7860, pending=None, api_only: bool = False,
           questions: QuestionLog | None = None) -> None:
    """Serve the chat and the REST API (or the API alone) on ``host:port``, loopback by default."""
    import uvicorn

    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if bot is not None:
        bot.warm_up()
    app = server_app(bot, pending=pending, api_only=api_only, questions=questions)
    what = "the REST API" if api_only else "the chat"
    print(f"* serving {what} on http://{host}:{port}/ (API: http://{host}:{port}/api/docs)", flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning")
