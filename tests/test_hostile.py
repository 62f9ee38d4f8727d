"""Hostile and broken input, without the model: questions through the library, the command line
and the page's rendering; article sources through ingest. Property-based where the input space
is open (hypothesis), examples where a named case matters. The web API's side is in test_load.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import SMALL_ARTICLES, FakeEncoder, make_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from qa_bot.answer.config import FALLBACK_ABSTAIN, FALLBACK_RANK, AnswerConfig
from qa_bot.app.cli import main
from qa_bot.app.render import answer_markdown, escape
from qa_bot.bot import QABot
from qa_bot.corpus.files import load_corpus
from qa_bot.corpus.ingest import MAX_ARTICLE_CHARS, Overrides, add_sources
from qa_bot.errors import InvalidQuestionError
from qa_bot.indexing.build import build_index
from qa_bot.records import Answer
from qa_bot.retrieval.question import MAX_QUESTION_CHARS
from qa_bot.store.files import load_index

CONFIG = AnswerConfig(rank_weights=FALLBACK_RANK, abstain_weights=FALLBACK_ABSTAIN, min_confidence=0.05)
INJECTIONS = [
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "javascript:alert(1)",
    "[click](javascript:alert(1))", "**bold** _it_ `code` # head", "</textarea><svg onload=alert(1)>",
    "{{7*7}} ${7*7} %s %n", "'; DROP TABLE articles; --", "\u202eevil\u202c", "<!--", "]]>",
]
SCRIPTS = ["Что хочет BLA?", "بلوچستان کیا چاہتا ہے؟", "俾路支解放军想要什么？", "BLA क्या चाहता है?",
           "🙂🔥💣 BLA?", "e\u0301\u0301\u0301", "Ｗｈａｔ ｉｓ ＣＰＥＣ？", "\u200b\u200b\u200b"]
# Text a question can be, surrogates aside (test_lone_surrogate_question covers those).
ANY_TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=300)
QUESTIONS = st.one_of(
    ANY_TEXT,
    st.sampled_from(INJECTIONS + SCRIPTS + ["", " ", "\n\t\r", "\x00", "?" * 5]),
    st.binary(max_size=200).map(lambda b: b.decode("latin-1")),  # bytes as text: controls, C1, NUL
    st.lists(st.sampled_from(INJECTIONS + SCRIPTS + ["What does the BLA want?"]), max_size=6).map(" ".join),
    st.integers(MAX_QUESTION_CHARS - 2, MAX_QUESTION_CHARS + 2).map(lambda n: "a" * n),
)


@pytest.fixture(scope="module")
def bot(tmp_path_factory) -> QABot:
    tmp = tmp_path_factory.mktemp("hostile")
    corpus = make_corpus(tmp, SMALL_ARTICLES)
    build_index(corpus, tmp / "index", FakeEncoder())
    return QABot(load_index(tmp / "index"), FakeEncoder(), CONFIG)


def check_answer(answer: Answer) -> None:
    """A normal answer: decided, and every quote verbatim from its article."""
    assert isinstance(answer.answered, bool)
    assert answer.answered == bool(answer.quotes)
    assert answer.answered or answer.message
    json.dumps(answer.to_dict(), ensure_ascii=False).encode("utf-8")  # serialisable as UTF-8


# ---------------------------------------------------------------------------- questions


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=QUESTIONS)
def test_library_refuses_clearly_or_answers(bot, question):
    started = time.perf_counter()
    try:
        answer = bot.ask(question)
    except InvalidQuestionError as exc:
        assert "question" in str(exc) and ("empty" in str(exc) or "limit" in str(exc))
        assert len(str(exc)) < 200, "the refusal is one short line, not an echo of the input"
    else:
        check_answer(answer)
    assert time.perf_counter() - started < 5


def test_one_megabyte_question_is_refused_before_any_work(bot):
    started = time.perf_counter()
    with pytest.raises(InvalidQuestionError, match="1,000,000 characters long; the limit is 1,000"):
        bot.ask("x" * 1_000_000)
    assert time.perf_counter() - started < 0.5


def test_lone_surrogate_question(bot):
    check_answer(bot.ask("\ud800 What does the BLA want? \udcff"))


@pytest.fixture
def fake_model(monkeypatch):
    """The command line's model replaced by the fake encoder (same name as the test index's)."""
    monkeypatch.setattr("qa_bot.bot.make_encoder", lambda model=None, **kw: FakeEncoder())


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.one_of(QUESTIONS, st.text(max_size=50)))  # st.text includes lone surrogates
def test_cli_refuses_clearly_or_answers(bot, fake_model, question):
    index = str(bot.data.path.parent)
    # "--": a question such as "-0" is still the question, not an option (click would say "No such option").
    result = CliRunner().invoke(main, ["ask", "--index", index, "--json", "--", question])
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    assert "Traceback" not in result.output
    if result.exit_code == 0:
        payload = json.loads(result.stdout)
        assert set(payload) == {"question", "answered", "message", "quotes", "read_as", "closest", "filter", "time", "conflict"}
    else:
        assert result.exit_code == 1 and "Error: the question" in result.output


def test_cli_question_with_bytes_that_are_not_utf8(bot, fake_model):
    """What Python makes of non-UTF-8 bytes in argv (surrogate escapes) is answered, not a crash."""
    argv_text = b"\xff\xfe What does the BLA want?".decode("utf-8", "surrogateescape")
    result = CliRunner().invoke(main, ["ask", argv_text, "--index", str(bot.data.path.parent), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["question"].startswith("\ufffd\ufffd What does")


@given(question=st.one_of(ANY_TEXT, st.sampled_from(INJECTIONS)))
def test_a_question_never_becomes_markup(question):
    shown = escape(question)  # the user's message in the chat
    assert "<" not in shown and ">" not in shown
    reply = answer_markdown(Answer(question, False, f"Cannot answer {question}", [])).lower()
    assert "<script" not in reply and "<img" not in reply and "<svg" not in reply


# ---------------------------------------------------------------------------- articles

GOOD = "Storm hits the coast\n\nA storm hit the coast on Monday, officials said. Thousands lost power.\n"


def write(path: Path, content: bytes | str) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    return str(path)


def files_outside(root: Path, corpus: Path) -> dict[str, bytes]:
    return {str(p): p.read_bytes() for p in root.rglob("*") if p.is_file() and corpus not in p.parents}


def add_with_a_good_one(tmp_path: Path, bad: list[str], **kwargs):
    """Add the bad sources in one batch with a valid article; check the batch-level promises."""
    good = write(tmp_path / "in" / "good.txt", GOOD)
    corpus = tmp_path / "corpus"
    before = files_outside(tmp_path, corpus)
    report = add_sources(corpus, [*bad, good], **kwargs)
    assert [item.source for item, _ in report.added][-1:] == [good], "the valid article is still added"
    assert files_outside(tmp_path, corpus) == before, "nothing is written outside corpus/"
    assert all(p.parent == corpus and p.suffix == ".md" for p in corpus.iterdir() if p.is_file())
    assert load_corpus(corpus).errors == [], "whatever was added can be read back and built"
    return report


@pytest.mark.parametrize("suffix", [".txt", ".md", ".html", ".jsonl"])
def test_random_bytes_are_refused_by_name(tmp_path, suffix):
    bad = write(tmp_path / "in" / f"noise{suffix}", os.urandom(4096))
    report = add_with_a_good_one(tmp_path, [bad])
    [error] = report.errors
    assert error.source == bad and ("UTF-8" in error.problem or "binary" in error.problem)


@pytest.mark.parametrize("suffix", [".txt", ".jsonl"])
def test_a_byte_order_mark_alone_is_an_empty_file(tmp_path, suffix):
    bad = write(tmp_path / "in" / f"bom{suffix}", b"\xef\xbb\xbf\n")
    [error] = add_with_a_good_one(tmp_path, [bad]).errors
    assert error.source == bad and "empty" in error.problem


@pytest.mark.parametrize("content", [bytes(range(32)) * 40, b"Title\n\nText \x00 with a NUL byte in it.\n"])
def test_binary_that_decodes_as_utf8_is_refused(tmp_path, content):
    bad = write(tmp_path / "in" / "controls.txt", content)
    [error] = add_with_a_good_one(tmp_path, [bad]).errors
    assert error.source == bad and "binary data" in error.problem


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.binary(max_size=3000), suffix=st.sampled_from([".txt", ".html", ".jsonl"]))
def test_any_bytes_give_an_article_or_a_named_error(tmp_path_factory, data, suffix):
    tmp = tmp_path_factory.mktemp("bytes")
    bad = write(tmp / "in" / f"any{suffix}", data)
    report = add_with_a_good_one(tmp, [bad])
    assert all(e.source.split(":")[0] == bad for e in report.errors)
    assert len(report.added) + len(report.errors) >= 2


@pytest.mark.parametrize("name, content", [
    ("utf16.txt", "Title\n\nCafé prices rose.\n".encode("utf-16")),
    ("latin1.html", "<html><body><h1>Café</h1><p>Prices rose at the café on Monday.</p></body></html>".encode("latin-1")),
])
def test_wrong_encoding_is_refused_by_name(tmp_path, name, content):
    bad = write(tmp_path / "in" / name, content)
    [error] = add_with_a_good_one(tmp_path, [bad]).errors
    assert error.source == bad and "UTF-8" in error.problem and "re-save" in error.problem


def test_declared_charset_is_honoured(tmp_path):
    page = ('<html><head><meta charset="shift_jis"><title>東京の天気</title></head><body><article>'
            "<h1>東京の天気</h1><p>東京では月曜日に大雨が降り、多くの電車が止まりました。</p>"
            "<p>気象庁は火曜日も雨が続くと発表しました。</p></article></body></html>")
    src = write(tmp_path / "in" / "tokyo.html", page.encode("shift_jis"))
    report = add_with_a_good_one(tmp_path, [src])
    assert report.errors == [] and "大雨" in report.added[0][0].article.text


def test_huge_file_is_refused_before_it_is_read(tmp_path):
    bad = tmp_path / "in" / "huge.html"
    bad.parent.mkdir(parents=True)
    with open(bad, "wb") as handle:
        handle.truncate(50_000_000)  # sparse: 50 MB on paper, nothing on disk
    started = time.perf_counter()
    [error] = add_with_a_good_one(tmp_path, [str(bad)]).errors
    assert time.perf_counter() - started < 5
    assert error.source == str(bad) and "50,000,000 bytes" in error.problem and "split" in error.problem


def test_huge_article_in_jsonl_is_refused_by_line(tmp_path):
    lines = [json.dumps({"title": "Huge", "text": "Word after word. " * (MAX_ARTICLE_CHARS // 10)}),
             json.dumps({"title": "Fine", "text": "A short article about the harbour."})]
    src = write(tmp_path / "in" / "batch.jsonl", "\n".join(lines) + "\n")
    report = add_with_a_good_one(tmp_path, [src])
    [error] = report.errors
    assert error.source == f"{src}:1" and "split it into several articles" in error.problem
    assert [item.article.title for item, _ in report.added] == ["Fine", "Storm hits the coast"]


@pytest.mark.parametrize("html", [
    "<html><body>" + "<div>" * 50_000 + "<p>Deeply nested words of the article.</p>" + "</div>" * 50_000 + "</body></html>",
    "<html><body>" + "<b><i><span>" * 20_000 + "Unclosed everything, all the way down.",
    "<html><body><p>Broken <b>tags <div></p></span><title>x</head><p>Text. <<>></p><script>alert(1)</script>",
    "<" * 100_000,
])
def test_deep_or_malformed_html_gives_an_article_or_a_named_error(tmp_path, html):
    bad = write(tmp_path / "in" / "page.html", html)
    started = time.perf_counter()
    report = add_with_a_good_one(tmp_path, [bad])
    assert time.perf_counter() - started < 60
    for error in report.errors:
        assert error.source == bad
    for _, path in report.added:
        assert "<script" not in path.read_text(encoding="utf-8")


@pytest.mark.parametrize("bad_id", ["../../etc/passwd", "/etc/passwd", "..", "a/b", ".hidden", "x" * 200, "a\x00b", ""])
def test_hostile_ids_in_jsonl_write_nothing_outside_the_corpus(tmp_path, bad_id):
    src = write(tmp_path / "in" / "ids.jsonl", json.dumps({"id": bad_id, "title": "T", "text": "Some text here."}) + "\n")
    report = add_with_a_good_one(tmp_path, [src])
    if bad_id:  # an empty id means "make one from the title"
        [error] = report.errors
        assert error.source == f"{src}:1" and "invalid article id" in error.problem


def test_hostile_id_option_writes_nothing_outside_the_corpus(tmp_path):
    good = write(tmp_path / "in" / "good.txt", GOOD)
    corpus = tmp_path / "corpus"
    before = files_outside(tmp_path, corpus)
    report = add_sources(corpus, [good], Overrides(id="../../etc/passwd"))
    assert report.added == [] and "invalid article id" in report.errors[0].problem
    assert files_outside(tmp_path, corpus) == before


def test_hostile_id_in_a_corpus_file_is_reported_not_followed(tmp_path):
    corpus = make_corpus(tmp_path, dict(list(SMALL_ARTICLES.items())[:1]))
    (corpus / "evil.md").write_text("---\nid: ../../etc/passwd\ntitle: Evil\n---\n\nBody.\n", encoding="utf-8")
    loaded = load_corpus(corpus)
    [error] = loaded.errors
    assert error.source == str(corpus / "evil.md") and "invalid article id" in error.problem
    assert len(loaded.articles) == 1


# ---------------------------------------------------------------------------- web settings


def test_launch_binds_loopback_and_limits_requests(bot, monkeypatch):
    import gradio as gr
    import uvicorn

    from qa_bot.app import web
    from qa_bot.app.limits import RequestSizeLimit

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, **kwargs: seen.update(kwargs, app=app))
    monkeypatch.setattr(gr.Blocks, "queue", lambda self, **kwargs: seen.update(queue=kwargs) or self)
    web.launch(bot)
    assert seen["host"] == "127.0.0.1"  # loopback unless --host says otherwise; no share link
    assert [m.cls for m in seen["app"].user_middleware] == [RequestSizeLimit]
    from starlette.routing import Mount

    paths = {getattr(r, "path", "") for r in seen["app"].routes}
    assert {"/api/ask", "/api/health", "/api/openapi.json"} <= paths
    assert any(isinstance(r, Mount) and r.path == "" for r in seen["app"].routes)  # the chat, mounted at /
    assert seen["queue"] == {"default_concurrency_limit": web.CONCURRENCY, "max_size": web.QUEUE_SIZE}
    assert web.QUEUE_SIZE >= 20 * 2, "20 clients (and their pages' events) never find the queue full"
