"""The REST API: one JSON request, one JSON answer, described by an OpenAPI document.

``api_routes`` adds to a FastAPI app (the chat's, which Gradio runs on, or one of its own for
``qa-bot serve --api-only``):

- ``POST /api/ask`` a question (with ``as_of``, ``filters``, ``k``) -> ``Answer.to_dict()``;
- ``GET /api/search?q=&k=`` -> the best passages with citations;
- ``GET /api/articles?offset=&limit=`` and ``GET /api/articles/{id}`` -> metadata, and text;
- ``GET /api/health`` -> the index generation served, its size and model;
- ``GET /api/openapi.json`` (and ``/api/docs``) -> the description of all of it (``schema.py``).

Errors are ``{"error": {"code", "message"}}`` with their status: 400 a request or question that
cannot be used, 404 no such article, 413 a body over the size limit (``limits.py``), 503 no index
yet (``qa-bot build`` has not run) or every answer slot busy with a full queue (``gate.py``, shared
with the chat). Answers come from the same ``LiveBot`` as the chat's, so a rebuilt index is served
at the next request, and each question is logged when the server was asked to (``questionlog.py``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from fastapi import FastAPI, Path, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..errors import IndexCorruptError, IndexMissingError, InvalidQuestionError, QABotError
from ..records import ArticleFilter
from .gate import Busy, Gate
from .schema import (
    MAX_HITS,
    MAX_PAGE,
    AnswerOut,
    ArticleOut,
    ArticlesOut,
    ArticleSummaryOut,
    AskIn,
    ErrorOut,
    HealthOut,
    SearchOut,
    error_object,
)

if TYPE_CHECKING:
    from ..bot import QABot
    from .questionlog import QuestionLog

log = logging.getLogger(__name__)

OPENAPI_URL = "/api/openapi.json"
ERRORS = {
    400: {"model": ErrorOut, "description": "the request or the question cannot be used"},
    503: {"model": ErrorOut, "description": "no index yet, or the server is too busy: retry later"},
}


class NotFound(QABotError):
    """No article has the id asked for."""


def error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    """The API's error response."""
    return JSONResponse(error_object(code, message), status_code=status, headers=headers)


def api_app(bots: Callable[[], QABot], gate: Gate, questions: QuestionLog | None = None) -> FastAPI:
    """A FastAPI app serving only the API (``qa-bot serve --api-only``)."""
    app = FastAPI(title="qa-bot", openapi_url=None, docs_url=None, redoc_url=None)
    api_routes(app, bots, gate, questions)
    return app


def api_routes(app: FastAPI, bots: Callable[[], QABot], gate: Gate, questions: QuestionLog | None = None) -> None:
    """Add the API's routes, its OpenAPI document and its error handlers to ``app``.

    ``bots()`` gives the bot to answer with (``LiveBot.current``), or raises IndexMissingError
    while no index has been built; ``gate`` bounds the answers running and waiting.
    """
    from ..version import __version__

    @app.post("/api/ask", response_model=AnswerOut, responses=ERRORS, tags=["answers"],
              summary="Answer a question with verbatim quotes and their citations")
    def ask(body: AskIn) -> AnswerOut:
        """The answer object of `qa-bot ask --json`: quotes that answer the question, best first,
        each with the article it stands in; or `answered: false` with the reason (and the closest
        passage, if any). Time words ("this week") are read against `as_of`."""
        bot = bots()
        if body.k != bot.config.max_quotes:
            bot = bot.with_config(replace(bot.config, max_quotes=body.k))
        where = None
        if body.filters is not None:
            f = body.filters
            where = ArticleFilter(None if f.sources is None else frozenset(f.sources),
                                  f.from_.isoformat() if f.from_ else None, f.to.isoformat() if f.to else None)
        with gate.slot():
            answer = bot.ask(body.question, where=None if where is None or where.is_empty else where, as_of=body.as_of)
        if questions is not None:
            questions.record(answer, via="api")
        return AnswerOut.model_validate(answer.to_dict())

    @app.get("/api/search", response_model=SearchOut, responses=ERRORS, tags=["answers"],
             summary="The passages retrieval finds for a query")
    def search(q: str = Query(description="the query, in words", max_length=1000),
               k: int = Query(5, ge=1, le=MAX_HITS, description="how many passages")) -> SearchOut:
        with gate.slot():
            hits = bots().search(q, k)
        return SearchOut.model_validate({"query": q, "hits": [h.to_dict() for h in hits]})

    @app.get("/api/articles", response_model=ArticlesOut, responses=ERRORS, tags=["articles"],
             summary="The articles of the index, a page at a time")
    def articles(offset: int = Query(0, ge=0, description="skip this many articles"),
                 limit: int = Query(50, ge=1, le=MAX_PAGE, description="the most articles to return")) -> ArticlesOut:
        every = bots().articles
        page = [_summary(a) for a in every[offset : offset + limit]]
        return ArticlesOut(total=len(every), offset=offset, limit=limit, articles=page)

    @app.get("/api/articles/{article_id}", response_model=ArticleOut,
             responses={404: {"model": ErrorOut, "description": "no article has this id"}, **ERRORS},
             tags=["articles"], summary="One article: its metadata and text")
    def article(article_id: str = Path(description="the article's id, as /api/articles lists it")) -> ArticleOut:
        found = bots().article(article_id)
        if found is None:
            raise NotFound(f"no article has the id {article_id!r}; GET /api/articles lists them")
        return ArticleOut(**_summary(found).model_dump(), text=found.text)

    @app.get("/api/health", response_model=HealthOut, responses=ERRORS, tags=["service"],
             summary="The index being served")
    def health() -> HealthOut:
        bot = bots()
        data = bot.data
        if bot.served is not None:
            generation = f"{bot.served.collection}#{bot.served.version}"
        else:
            generation = data.path.name if data.path is not None else ""
        return HealthOut(status="ok", generation=generation, articles=len(data.articles),
                         passages=int(data.manifest.get("passages", len(data.passages))), model=data.model)

    @app.get(OPENAPI_URL, include_in_schema=False)
    def openapi() -> JSONResponse:
        from fastapi.openapi.utils import get_openapi

        routes = [r for r in app.routes if getattr(r, "path", "").startswith("/api/")]
        document = get_openapi(
            title="qa-bot", version=__version__, routes=routes,
            description="Questions answered with verbatim quotes from a collection of news articles, "
                        "each with its citation; a question the articles do not answer is declined.",
        )
        # FastAPI documents a 422 for every operation; this API answers a request it cannot use
        # with 400 and its own error object (above), so the 422 and its schemas would mislead.
        for operations in document.get("paths", {}).values():
            for operation in operations.values():
                operation.get("responses", {}).pop("422", None)
        for name in ("HTTPValidationError", "ValidationError"):
            document.get("components", {}).get("schemas", {}).pop(name, None)
        return JSONResponse(document)

    @app.get("/api/docs", include_in_schema=False)
    def docs():
        from fastapi.openapi.docs import get_swagger_ui_html

        return get_swagger_ui_html(openapi_url=OPENAPI_URL, title="qa-bot API")

    for kind, status, code in ((InvalidQuestionError, 400, "invalid_question"), (NotFound, 404, "not_found"),
                               (IndexMissingError, 503, "no_index"), (IndexCorruptError, 503, "index_damaged")):
        app.add_exception_handler(kind, _handler(status, code))
    app.add_exception_handler(Busy, lambda request, exc: error(503, "busy", str(exc), {"Retry-After": "1"}))
    app.add_exception_handler(RequestValidationError, _invalid)
    app.add_exception_handler(StarletteHTTPException, _http_error)


def _summary(a) -> ArticleSummaryOut:
    return ArticleSummaryOut(id=a.id, title=a.title, source=a.source, url=a.url, published=a.published,
                             author=a.author, license=a.license, characters=len(a.text))


def _handler(status: int, code: str):
    def handle(request: Request, exc: Exception) -> JSONResponse:
        return error(status, code, str(exc))

    return handle


def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
    """A request the models refuse: 400, naming each field and what is wrong with it."""
    problems = []
    for e in exc.errors():
        where = ".".join(str(p) for p in e.get("loc", ()) if p != "body") or "body"
        problems.append(f"{where}: {e.get('msg', 'invalid')}")
    return error(400, "invalid_request", "; ".join(problems) + " (see /api/openapi.json)")


def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    """Starlette's own errors (an unknown path under /api, a method not allowed) in the API's shape."""
    if not request.url.path.startswith("/api/"):
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=exc.headers)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return error(exc.status_code, code, str(exc.detail), exc.headers)
