"""Tests for qa_bot.corpus.ingest: files, JSONL and URLs to corpus articles."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from qa_bot.corpus.files import load_corpus, read_article
from qa_bot.corpus.ingest import Overrides, add_sources, fetch_url, read_sources
from qa_bot.errors import ArticleError

GUM = Path(__file__).parents[1] / ".." / "shared" / "data" / "gum_wikinews.jsonl"

PASTED = """date 2025-06-02 Council agrees budget after long night

By: Jane Roe
4 min read
Make us preferred source on Google

The council met on Monday to discuss the new budget for the coming year.

Advertisement

Members argued for several hours before agreeing on a compromise plan.

Who pays?

Residents will pay slightly higher fees, officials said.

© 2025 Example Media
Must Read
Another story about something else entirely
"""

HTML = """<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>Bridge reopens after repairs | The Daily Example</title>
<meta property="og:site_name" content="The Daily Example">
<meta property="og:title" content="Bridge reopens after repairs">
<meta name="author" content="Ana Lima">
<meta property="article:published_time" content="2024-03-05T10:00:00Z">
</head><body>
<header><nav><ul><li><a href="/">Home</a></li><li><a href="/world">World news</a></li>
<li><a href="/sport">Sport section</a></li></ul></nav></header>
<main><article>
<h1>Bridge reopens after repairs</h1>
<p class="byline">By Ana Lima</p>
<p>The old river bridge reopened on Tuesday after eighteen months of repairs that cost the city far more
than planned, officials said at a ceremony.</p>
<div class="ad-slot">Advertisement</div>
<p>Engineers replaced the deck and strengthened the piers, which had been damaged by floods in 2022
and by decades of heavy traffic.</p>
<h2>What changed?</h2>
<p>The bridge now has a separate lane for bicycles and wider pavements for people on foot, the city’s
transport department said in a statement.</p>
<p>Also Read | City plans new tram line</p>
<h2>Reaction from residents</h2>
<p>“It’s been a long wait, but it was worth it,” said Maria Costa, who crosses the bridge every day on her
way to work in the city centre.</p>
</article></main>
<aside><h3>Related Stories</h3><ul><li><a href="/a">Tram line plans unveiled for the northern districts</a></li></ul></aside>
<footer><p>© 2024 The Daily Example. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>
"""

TITLE = "Council agrees budget after long night"
INTRO = "The council met on Monday to discuss the new budget for the coming year."


def write(path: Path, content: str | bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return str(path)


def snapshot(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


# ---------------------------------------------------------------- files


def test_txt_is_cleaned_and_written(tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "page.txt", PASTED)
    report = add_sources(tmp_path / "corpus", [src])
    assert report.errors == []
    [(ingested, path)] = report.added
    article = ingested.article
    assert path == tmp_path / "corpus" / "council-agrees-budget-after-long-night.md"
    assert (article.title, article.author, article.published, article.source, article.url) == (
        TITLE, "Jane Roe", "2025-06-02", "", "")
    assert article.text == (
        f"{INTRO}\n\nMembers argued for several hours before agreeing on a compromise plan.\n\n"
        "## Who pays?\n\nResidents will pay slightly higher fees, officials said."
    )
    assert read_article(path) == article
    assert {"advertisement", "byline", "copyright line"} <= {d.reason for d in ingested.dropped}


def test_md_is_treated_as_pasted_text(tmp_path: Path) -> None:
    src = write(tmp_path / "page.md", f"A title\n\n{INTRO}\n\n## Section\n\nMore text follows here.\n")
    [item], errors = read_sources([src])
    assert errors == []
    assert item.article.text == f"{INTRO}\n\n## Section\n\nMore text follows here."


def test_html_file(tmp_path: Path) -> None:
    src = write(tmp_path / "bridge.html", HTML)
    [item], errors = read_sources([src])
    assert errors == []
    article = item.article
    assert (article.title, article.author, article.published, article.source) == (
        "Bridge reopens after repairs", "Ana Lima", "2024-03-05", "The Daily Example")
    blocks = article.text.split("\n\n")
    assert blocks[blocks.index("## What changed?") + 1].startswith("The bridge now has a separate lane")
    assert blocks[blocks.index("## Reaction from residents") + 1].startswith("“It’s been a long wait")
    assert blocks[0].startswith("The old river bridge reopened on Tuesday after eighteen months of repairs that")
    assert "cost the city far more than planned" in blocks[0]  # HTML line breaks are white space
    for boilerplate in ("Home", "World news", "Advertisement", "Also Read", "Related Stories", "Tram line plans",
                        "©", "Privacy", "By Ana Lima", "# Bridge reopens"):
        assert boilerplate not in article.text
    assert all(block == block.strip() and "\n" not in block for block in blocks)


def test_an_html_page_reports_how_much_of_its_text_was_left_out(tmp_path: Path) -> None:
    """`add` used to report "1 line of clutter removed" from a page full of it: extraction had left
    out the menus, links and footer before the line cleaner saw anything."""
    from click.testing import CliRunner

    from qa_bot.app.cli import main

    src = write(tmp_path / "bridge.html", HTML)
    [item], _ = read_sources([src])
    shown = "Home World news Sport section Bridge reopens after repairs By Ana Lima"
    assert item.page_chars > len(item.article.text) + len(shown)  # the page shows all of that and more
    result = CliRunner().invoke(main, ["add", src, "--corpus", str(tmp_path / "corpus")])
    assert result.exit_code == 0, result.output
    assert f"kept {len(item.article.text):,} of the {item.page_chars:,} characters of text on the page" in result.output
    pasted, _ = read_sources([write(tmp_path / "pasted.txt", PASTED)])
    assert pasted[0].page_chars == 0, "pasted text is all the reader gave: nothing to compare with"


def test_html_file_in_declared_charset(tmp_path: Path) -> None:
    html = HTML.replace('charset="utf-8"', 'charset="iso-8859-1"').replace("’", "'").replace("“", '"')
    html = html.replace("”", '"').replace("©", "(c)").replace("Maria Costa", "María Costa")
    src = write(tmp_path / "latin.htm", html.encode("iso-8859-1"))
    [item], errors = read_sources([src])
    assert errors == [] and "María Costa" in item.article.text


# ---------------------------------------------------------------- JSONL


@pytest.mark.shared
def test_gum_wikinews_imports_43_articles(tmp_path: Path) -> None:
    if not GUM.is_file():
        pytest.skip(f"{GUM} not found (../shared is absent)")
    report = add_sources(tmp_path / "corpus", [str(GUM)])
    assert report.errors == []
    assert len(report.added) == 43
    records = [json.loads(line) for line in GUM.read_text(encoding="utf-8").splitlines() if line.strip()]
    assert [i.article.id for i, _ in report.added] == [r["id"] for r in records]
    assert [i.article.published for i, _ in report.added] == [r["date"] for r in records]
    loaded = load_corpus(tmp_path / "corpus")
    assert loaded.errors == [] and len(loaded.articles) == 43
    first = report.added[0][0].article
    assert first.source == "Wikinews" and first.url.startswith("https://en.wikinews.org/")
    assert "\n\n\n" not in first.text and first.text.count("\n\n") >= 10


def test_jsonl_with_bad_lines(tmp_path: Path) -> None:
    lines = [
        json.dumps({"title": "First story", "text": "Para one.\n\nPara\ntwo.", "genre": "ignored"}),
        "{not json",
        json.dumps({"title": "No text here"}),
        "",
        json.dumps({"id": "story-a", "title": "Second story", "text": "Line one.\nLine two.",
                    "date": "March 5, 2024", "source": "Wire", "author": "A. Writer", "url": "https://x.test/a"}),
        json.dumps({"id": "story-a", "title": "Dup", "text": "Text."}),
        json.dumps({"title": "Bad date", "text": "Text.", "published": "sometime soon"}),
        json.dumps({"id": "../../etc/passwd", "title": "Escape", "text": "Text."}),
        json.dumps(["a", "list"]),
        json.dumps({"title": "First story", "text": "Same title again.", "published": "2024-01-02"}),
    ]
    src = write(tmp_path / "batch.jsonl", "\n".join(lines) + "\n")
    report = add_sources(tmp_path / "corpus", [src])
    added = {i.article.id: i.article for i, _ in report.added}
    assert list(added) == ["first-story", "story-a", "first-story-2"]
    assert added["first-story"].text == "Para one.\n\nPara two."
    assert added["story-a"].text == "Line one.\n\nLine two."
    assert added["story-a"].published == "2024-03-05"
    assert (added["story-a"].source, added["story-a"].author, added["story-a"].url) == (
        "Wire", "A. Writer", "https://x.test/a")
    assert added["first-story-2"].published == "2024-01-02"
    by_source = {e.source: e.problem for e in report.errors}
    assert set(by_source) == {f"{src}:{n}" for n in (2, 3, 6, 7, 8, 9)}
    assert "not valid JSON" in by_source[f"{src}:2"]
    assert "'text'" in by_source[f"{src}:3"]
    assert "duplicate id 'story-a'" in by_source[f"{src}:6"]
    assert "YYYY-MM-DD" in by_source[f"{src}:7"]
    assert "invalid article id" in by_source[f"{src}:8"]
    assert not (tmp_path / "etc").exists()


def test_a_licence_given_with_an_article_is_kept_in_its_file_and_its_index(tmp_path: Path) -> None:
    from conftest import FakeEncoder

    from qa_bot.indexing.build import build_index
    from qa_bot.store.files import load_index

    src = write(tmp_path / "batch.jsonl", json.dumps({
        "id": "crane", "title": "Crane falls", "text": "A crane fell in Mecca on Friday.", "date": "2015-09-12",
        "source": "Wikinews", "license": "CC BY 2.5"}) + "\n")
    add_sources(tmp_path / "corpus", [src])
    front = (tmp_path / "corpus" / "crane.md").read_text(encoding="utf-8")
    assert "license: CC BY 2.5\n" in front
    assert read_article(tmp_path / "corpus" / "crane.md").license == "CC BY 2.5"
    build_index(tmp_path / "corpus", tmp_path / "index", FakeEncoder())
    assert load_index(tmp_path / "index").articles[0].license == "CC BY 2.5"
    add_sources(tmp_path / "other", [write(tmp_path / "plain.jsonl", json.dumps({"title": "T", "text": "X."}) + "\n")])
    assert "license" not in (tmp_path / "other" / "t.md").read_text(encoding="utf-8"), "no licence, no field"


def test_a_site_s_headline_dateline_and_photo_credits_are_dropped_from_jsonl_text(tmp_path: Path) -> None:
    """As Wikinews text comes (../shared/data/gum_wikinews.jsonl): the headline and dateline
    opening it, photo captions ending with their credit; each reported, the article kept whole."""
    lines = [
        {"id": "ants", "title": "Biologist tells Wikinews about ants",
         "text": "Biologist tells Wikinews about ants Tuesday, September 1, 2015\n\nFormica fusca, from file. "
                 "Image: Mathias Krumbholz.\n\nNick Bos studies ants. He works in Helsinki."},
        {"id": "bar", "title": "Wikinews interviews a bar owner",
         "text": "Thursday, March 15, 2012 Wikinews interviewed a bar owner.\n\nThe drink is popular."},
        {"id": "chomsky", "title": "Interview with Noam Chomsky",
         "text": "Saturday, April 4, 2009\n\nNoam Chomsky is a professor.\n\nHe said the image: of peace is near."},
        {"id": "kept", "title": "Storm hits coast",
         "text": "Storm hits coast and leaves thousands without power.\n\nCrews worked overnight."},
    ]
    src = write(tmp_path / "wiki.jsonl", "\n".join(json.dumps(r) for r in lines) + "\n")
    report = add_sources(tmp_path / "corpus", [src])
    added = {i.article.id: i for i, _ in report.added}
    assert added["ants"].article.text == "Nick Bos studies ants. He works in Helsinki."
    assert [d.reason for d in added["ants"].dropped] == ["repeated headline", "photo caption"]
    assert added["bar"].article.text == "Wikinews interviewed a bar owner.\n\nThe drink is popular."
    assert added["chomsky"].article.text == "Noam Chomsky is a professor.\n\nHe said the image: of peace is near."
    assert [d.reason for d in added["chomsky"].dropped] == ["dateline"]
    assert added["kept"].article.text.startswith("Storm hits coast and leaves"), "a first sentence is not a headline"
    assert not added["kept"].dropped


def test_jsonl_without_title(tmp_path: Path) -> None:
    src = write(tmp_path / "a.jsonl", json.dumps({"text": "Body."}) + "\n")
    [], [error] = read_sources([src])
    assert error.source == f"{src}:1" and "'title'" in error.problem


# ---------------------------------------------------------------- file errors


def test_non_utf8_file(tmp_path: Path) -> None:
    src = write(tmp_path / "latin.txt", "Title\n\nCafé prices rose.\n".encode("latin-1"))
    [], [error] = read_sources([src])
    assert error.source == src
    assert "UTF-8" in error.problem and "byte offset 10" in error.problem and "re-save" in error.problem
    bom = write(tmp_path / "bom.txt", b"\xef\xbb\xbfTitle\n\nCaf\xe9.\n")
    [], [error] = read_sources([bom])
    assert "byte offset 13" in error.problem
    ok = write(tmp_path / "ok.txt", "\ufeffTitle\n\nBody text.\n".encode("utf-8"))
    [item], [] = read_sources([ok])
    assert item.article.title == "Title"


@pytest.mark.parametrize("content", ["", "  \n\n\t\n"])
def test_empty_file(tmp_path: Path, content: str) -> None:
    src = write(tmp_path / "empty.txt", content)
    [], [error] = read_sources([src])
    assert error.source == src and "empty" in error.problem


def test_only_clutter_is_an_empty_body(tmp_path: Path) -> None:
    src = write(tmp_path / "ads.txt", "A title\n\nAdvertisement\n\nShare\n")
    [], [error] = read_sources([src])
    assert error.source == src and "no article text" in error.problem


def test_missing_file_and_unsupported_kind(tmp_path: Path) -> None:
    pdf = write(tmp_path / "paper.pdf", "%PDF-1.4")
    missing = str(tmp_path / "nope.txt")
    folder = tmp_path / "folder.txt"
    folder.mkdir()
    [], errors = read_sources([missing, pdf, str(folder)])
    assert [e.source for e in errors] == [missing, pdf, str(folder)]
    assert "not found" in errors[0].problem and "directory" in errors[2].problem
    assert ".txt" in errors[1].problem and ".html" in errors[1].problem and ".jsonl" in errors[1].problem


def test_one_bad_source_does_not_stop_the_others(tmp_path: Path) -> None:
    good = write(tmp_path / "page.txt", PASTED)
    report = add_sources(tmp_path / "corpus", [str(tmp_path / "missing.txt"), good])
    assert len(report.added) == 1 and len(report.errors) == 1


# ---------------------------------------------------------------- ids and overrides


def test_bad_id_writes_nothing_outside_the_corpus(tmp_path: Path) -> None:
    src = write(tmp_path / "in" / "page.txt", PASTED)
    before = snapshot(tmp_path)
    report = add_sources(tmp_path / "corpus", [src], Overrides(id="../../etc/passwd"))
    assert report.added == []
    [error] = report.errors
    assert error.source == src and "invalid article id" in error.problem
    after = snapshot(tmp_path)
    assert after == before


def test_duplicate_given_id_keeps_existing_file(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    first = write(tmp_path / "one.txt", PASTED)
    second = write(tmp_path / "two.txt", PASTED.replace("Monday", "Tuesday"))
    assert add_sources(corpus, [first], Overrides(id="budget")).errors == []
    existing = (corpus / "budget.md").read_bytes()
    report = add_sources(corpus, [second], Overrides(id="budget"))
    assert report.added == []
    [error] = report.errors
    assert error.source == second and "duplicate id 'budget'" in error.problem and "--replace" in error.problem
    assert (corpus / "budget.md").read_bytes() == existing
    replaced = add_sources(corpus, [second], Overrides(id="budget"), replace=True)
    assert replaced.errors == [] and "Tuesday" in (corpus / "budget.md").read_text(encoding="utf-8")


def test_generated_ids_are_unique(tmp_path: Path) -> None:
    """Articles with the same headline and other texts get distinct ids; the same article again
    is not a third copy but a reported duplicate."""
    corpus = tmp_path / "corpus"
    a = write(tmp_path / "a.txt", PASTED)
    b = write(tmp_path / "b.txt", PASTED.replace("slightly higher fees", "much higher fees"))
    c = write(tmp_path / "c.txt", PASTED.replace("slightly higher fees", "no new fees"))
    first = add_sources(corpus, [a, b])
    second = add_sources(corpus, [c, a])
    base = "council-agrees-budget-after-long-night"
    assert [i.article.id for i, _ in first.added + second.added] == [base, f"{base}-2", f"{base}-3"]
    assert [(d.source, d.article_id) for d in second.skipped] == [(a, base)] and not second.errors
    assert len(list(corpus.glob("*.md"))) == 3


def test_id_override_needs_exactly_one_article(tmp_path: Path) -> None:
    a = write(tmp_path / "a.txt", PASTED)
    b = write(tmp_path / "b.txt", PASTED)
    report = add_sources(tmp_path / "corpus", [a, b], Overrides(id="one"))
    assert report.added == []
    assert [e.source for e in report.errors] == ["--id"]
    assert not (tmp_path / "corpus").exists() or not list((tmp_path / "corpus").glob("*.md"))


def test_overrides_are_applied(tmp_path: Path) -> None:
    src = write(tmp_path / "page.txt", PASTED)
    overrides = Overrides(title="Budget agreed", source="Example Times", published="7 June 2025",
                          url="https://example.test/budget", author="Desk", id="my-budget")
    [item], errors = read_sources([src], overrides)
    assert errors == []
    a = item.article
    assert (a.id, a.title, a.source, a.published, a.url, a.author) == (
        "my-budget", "Budget agreed", "Example Times", "2025-06-07", "https://example.test/budget", "Desk")


def test_bad_published_override(tmp_path: Path) -> None:
    src = write(tmp_path / "page.txt", PASTED)
    [], [error] = read_sources([src], Overrides(published="not a date"))
    assert error.source == src and "YYYY-MM-DD" in error.problem


# ---------------------------------------------------------------- URLs


class _QuietServer(ThreadingHTTPServer):
    """A client that stops reading (the size cap doing its job) is expected, not an error."""

    def handle_error(self, request: object, client_address: object) -> None:
        pass


class _Handler(BaseHTTPRequestHandler):
    user_agents: list[str] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def _send(self, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
              headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        _Handler.user_agents.append(self.headers.get("User-Agent", ""))
        routes = {
            "/article": lambda: self._send(200, HTML.encode("utf-8")),
            "/go": lambda: self._send(302, b"", headers={"Location": "/article"}),
            "/evil": lambda: self._send(302, b"", headers={"Location": "file:///etc/passwd"}),
            "/missing": lambda: self._send(404, b"<h1>Not found</h1>"),
            "/json": lambda: self._send(200, b"{}", "application/json"),
            "/latin": lambda: self._send(200, HTML.replace("Maria", "María").replace('charset="utf-8"', "")
                                         .encode("utf-8").replace("Mar\xc3\xada".encode("latin-1"), b"Mar\xeda"),
                                         "text/html; charset=iso-8859-1"),
            "/big": lambda: self._send(200, b"<p>" + b"x" * 5000 + b"</p>"),
            "/big-undeclared": self._stream_big,
            "/slow": self._slow,
        }
        routes.get(self.path, lambda: self._send(404, b"no route"))()

    def _slow(self) -> None:
        time.sleep(1.5)
        self._send(200, HTML.encode("utf-8"))

    def _stream_big(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.send_header("Connection", "close")
        self.end_headers()
        for _ in range(20):
            self.wfile.write(b"<p>" + b"y" * 1000 + b"</p>")
        self.close_connection = True


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    httpd = _QuietServer(("127.0.0.1", 0), _Handler)
    httpd.protocol_version = "HTTP/1.0"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def test_url_success(tmp_path: Path, server: str) -> None:
    report = add_sources(tmp_path / "corpus", [f"{server}/article"])
    assert report.errors == []
    [(item, path)] = report.added
    assert item.source == f"{server}/article"
    assert item.article.url == f"{server}/article"
    assert item.article.title == "Bridge reopens after repairs"
    assert "## What changed?" in item.article.text
    assert any("qa-bot" in agent for agent in _Handler.user_agents)


def test_url_redirect_gives_final_url(server: str) -> None:
    [item], errors = read_sources([f"{server}/go"])
    assert errors == [] and item.article.url == f"{server}/article"


def test_url_charset_from_response(server: str) -> None:
    final, html = fetch_url(f"{server}/latin")
    assert final == f"{server}/latin" and "María Costa" in html


@pytest.mark.parametrize("path, problem", [
    ("/missing", "HTTP 404"),
    ("/evil", "not an http(s) URL"),
    ("/json", "not an HTML page"),
])
def test_url_errors(tmp_path: Path, server: str, path: str, problem: str) -> None:
    report = add_sources(tmp_path / "corpus", [f"{server}{path}"])
    assert report.added == []
    [error] = report.errors
    assert error.source == f"{server}{path}" and problem in error.problem


@pytest.mark.parametrize("path", ["/big", "/big-undeclared"])
def test_url_too_large(server: str, path: str) -> None:
    with pytest.raises(ArticleError, match="larger than 1,000 bytes"):
        fetch_url(f"{server}{path}", max_bytes=1000)
    [], [error] = read_sources([f"{server}{path}"], fetch=partial(fetch_url, max_bytes=1000))
    assert "larger than" in error.problem


def test_url_unreachable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    url = f"http://127.0.0.1:{port}/article"
    [], [error] = read_sources([url], fetch=partial(fetch_url, timeout=5))
    assert error.source == url and "cannot reach" in error.problem


def test_url_timeout(server: str) -> None:
    with pytest.raises(ArticleError, match="timed out"):
        fetch_url(f"{server}/slow", timeout=0.3)


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://example.test/a.html"])
def test_non_http_scheme_refused(url: str) -> None:
    def never(_: str) -> tuple[str, str]:
        raise AssertionError("must not fetch")

    [], [error] = read_sources([url], fetch=never)
    assert error.source == url and "http(s)" in error.problem
    with pytest.raises(ArticleError):
        fetch_url(url)


def test_a_jsonl_file_of_white_space_only_is_reported(tmp_path):
    """Characters such as U+001C are white space to str.strip() but not to bytes.strip(): such a
    file passed the empty-file check and then gave no article and no error (found by hypothesis)."""
    source = tmp_path / "blank.jsonl"
    source.write_bytes(b"\x1c\n\x1d \n")
    articles, errors = read_sources([str(source)])
    assert not articles and [e.source for e in errors] == [str(source)]
    assert "no article" in str(errors[0])
