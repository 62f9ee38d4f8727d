"""``qa-bot add --feed``: an RSS and an Atom feed served on loopback with their pages (clutter, a
redirect, a missing page, an oversize one), what is added with the feed's metadata, what is
reported, and that a feed read again fetches no page it has."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterator
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from qa_bot.app.cli import main
from qa_bot.corpus.feeds import followed
from qa_bot.corpus.fetch import fetch_url
from qa_bot.corpus.files import load_corpus
from qa_bot.corpus.ingest import add_feed


def page(title: str, body: str) -> bytes:
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>{title} | Loopback News</title>
<meta property="og:site_name" content="Loopback News"></head><body>
<nav><a href="/">Home</a> <a href="/world">World</a></nav>
<main><article><h1>{title}</h1>{body}<div class="ad">Advertisement</div></article></main>
<footer>© 2026 Loopback News</footer></body></html>""".encode()


PAGES = {
    "/harbour": page("Harbour to be dredged", "<p>The port authority will dredge the harbour in June, it said on "
                     "Monday.</p><p>Ships wider than 40 metres will wait outside until the work is done.</p>"),
    "/bridge": page("Bridge reopens", "<p>The old river bridge reopened on Tuesday after eighteen months of "
                    "repairs.</p><p>Engineers replaced the deck and strengthened the piers.</p>"),
    "/tram": page("Tram line approved", "<p>The council approved a new tram line to the northern districts on "
                  "Wednesday.</p><p>Construction starts next spring and takes three years.</p>"),
    "/huge": page("Too long", "<p>" + "word " * 10_000 + "</p>"),
}

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Loopback News</title>
<link>http://127.0.0.1/</link><description>Test feed</description>
<item><title>Harbour to be dredged in June</title><link>{base}/harbour</link>
<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate><author>desk@loopback.test (Port Desk)</author></item>
<item><title>Bridge reopens after repairs</title><link>{base}/go-bridge</link></item>
<item><title>A story that is gone</title><link>{base}/gone</link><pubDate>Tue, 03 Mar 2026 09:00:00 GMT</pubDate></item>
<item><title>Too long to keep</title><link>{base}/huge</link></item>
</channel></rss>"""

ATOM = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">
<title>Loopback Atom</title><id>urn:loopback</id><updated>2026-03-04T00:00:00Z</updated>
<entry><title>Tram line approved for the north</title><link href="{base}/tram"/><id>urn:tram</id>
<updated>2026-03-04T08:00:00Z</updated><author><name>City Desk</name></author></entry>
</feed>"""


class _Server(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that stops reading an oversize page is expected


class _Handler(BaseHTTPRequestHandler):
    hits: Counter = Counter()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        _Handler.hits[self.path] += 1
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/rss.xml":
            self._send(200, RSS.format(base=base).encode(), "application/rss+xml")
        elif self.path == "/atom.xml":
            self._send(200, ATOM.format(base=base).encode(), "application/atom+xml")
        elif self.path == "/go-bridge":
            self.send_response(301)
            self.send_header("Location", "/bridge")
            self.send_header("Content-Length", "0")
            self.end_headers()
        elif self.path in PAGES:
            self._send(200, PAGES[self.path], "text/html; charset=utf-8")
        elif self.path == "/not-a-feed":
            self._send(200, b"<html><body><p>Just a page.</p></body></html>", "text/html")
        else:
            self._send(404, b"not found", "text/plain")

    def _send(self, status: int, body: bytes, kind: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


def _serve(handler: type[BaseHTTPRequestHandler]) -> Iterator[str]:
    """Serve ``handler`` on a free loopback port for one test; its base URL."""
    httpd = _Server(("127.0.0.1", 0), handler)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    _Handler.hits.clear()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def site() -> Iterator[str]:
    yield from _serve(_Handler)


FETCH = partial(fetch_url, timeout=10, max_bytes=30_000)  # the oversize page is over this cap


def test_a_feed_s_items_are_added_with_its_metadata_and_bad_ones_reported(tmp_path: Path, site: str) -> None:
    report, feed = add_feed(tmp_path / "corpus", f"{site}/rss.xml", fetch=FETCH)
    assert feed is not None and feed.title == "Loopback News" and len(feed.items) == 4
    added = {i.article.title: i.article for i, _ in report.added}
    assert set(added) == {"Harbour to be dredged in June", "Bridge reopens after repairs"}
    harbour = added["Harbour to be dredged in June"]
    assert (harbour.source, harbour.published, harbour.url) == ("Loopback News", "2026-03-02", f"{site}/harbour")
    assert "Port Desk" in harbour.author
    assert "dredge the harbour in June" in harbour.text and "Advertisement" not in harbour.text
    assert added["Bridge reopens after repairs"].url == f"{site}/bridge", "the redirect's final URL"
    assert added["Bridge reopens after repairs"].published == "", "no date in the feed or the page: none given"
    problems = {e.source: e.problem for e in report.errors}
    assert set(problems) == {f"{site}/gone", f"{site}/huge"}, problems
    assert "404" in problems[f"{site}/gone"]
    [entry] = followed(tmp_path / "corpus")
    assert (entry["url"], entry["title"]) == (f"{site}/rss.xml", "Loopback News")
    assert entry["items"] == {f"{site}/harbour": {"id": harbour.id, "updated": "2026-03-02T09:00:00"},
                              f"{site}/go-bridge": {"id": added["Bridge reopens after repairs"].id, "updated": ""}}


def test_a_feed_read_again_fetches_no_page_the_corpus_has_and_limit_caps_new_items(tmp_path: Path,
                                                                                   site: str) -> None:
    add_feed(tmp_path / "corpus", f"{site}/rss.xml", fetch=FETCH)
    pages = sum(_Handler.hits[p] for p in ("/harbour", "/bridge"))
    report, _ = add_feed(tmp_path / "corpus", f"{site}/rss.xml", fetch=FETCH)
    assert not report.added and sum(_Handler.hits[p] for p in ("/harbour", "/bridge")) == pages
    assert len(followed(tmp_path / "corpus")) == 1, "a feed is remembered once"
    atom, feed = add_feed(tmp_path / "corpus", f"{site}/atom.xml", fetch=FETCH, limit=1)
    [(item, _)] = atom.added
    assert (item.article.title, item.article.published, item.article.author, item.article.source) == (
        "Tram line approved for the north", "2026-03-04", "City Desk", "Loopback Atom")
    assert [f["title"] for f in followed(tmp_path / "corpus")] == ["Loopback News", "Loopback Atom"]
    assert len(load_corpus(tmp_path / "corpus").articles) == 3


def test_the_command_line_adds_a_feed_and_refuses_what_is_not_one(tmp_path: Path, site: str) -> None:
    corpus = tmp_path / "corpus"
    result = CliRunner().invoke(main, ["add", "--feed", f"{site}/atom.xml", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "feed 'Loopback Atom': 1 item(s); followed in" in result.output
    assert yaml.safe_load((corpus / "feeds.yaml").read_text(encoding="utf-8"))[0]["url"] == f"{site}/atom.xml"
    bad = CliRunner().invoke(main, ["add", "--feed", f"{site}/not-a-feed", "--corpus", str(corpus)])
    assert bad.exit_code == 1 and "not an RSS or Atom feed" in bad.output
    assert CliRunner().invoke(main, ["add", "--corpus", str(corpus)]).exit_code == 2
    limited = CliRunner().invoke(main, ["add", "x.txt", "--limit", "2", "--corpus", str(corpus)])
    assert limited.exit_code == 2 and "--limit counts the items of a feed" in limited.output


class _Versioned(_Handler):
    """The RSS feed with an ETag; ``version`` 2 adds an item and updates the harbour story."""

    version = 1

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/rss.xml":
            _Handler.hits[self.path] += 1
            tag = f'"v{_Versioned.version}"'
            if self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.send_header("ETag", tag)
                self.end_headers()
                return
            body = RSS.format(base=base)
            if _Versioned.version == 2:
                body = body.replace("<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate>",
                                    "<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate>"
                                    "<atom:updated xmlns:atom='http://www.w3.org/2005/Atom'>2026-03-05T12:00:00Z"
                                    "</atom:updated>")
                body = body.replace("</channel>", f"<item><title>Tram line approved</title><link>{base}/tram</link>"
                                                  "<pubDate>Wed, 04 Mar 2026 08:00:00 GMT</pubDate></item></channel>")
            data = body.encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", tag)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
            return
        if self.path == "/harbour" and _Versioned.version == 2:
            _Handler.hits[self.path] += 1
            self._send(200, page("Harbour to be dredged", "<p>The port authority will dredge the harbour in July, "
                                 "a month later than planned, it said on Thursday.</p><p>Ships wider than 40 metres "
                                 "will wait outside until the work is done.</p>"), "text/html; charset=utf-8")
            return
        super().do_GET()


@pytest.fixture
def versioned() -> Iterator[str]:
    _Versioned.version = 1
    yield from _serve(_Versioned)


def test_sync_asks_conditionally_adds_new_items_and_replaces_changed_ones_keeping_the_old(tmp_path: Path,
                                                                                       versioned: str) -> None:
    from qa_bot.corpus.feeds import write_followed
    from qa_bot.corpus.sync import HISTORY, sync

    corpus = tmp_path / "corpus"
    add_feed(corpus, f"{versioned}/rss.xml", fetch=FETCH)
    before = {a.id: a for a in load_corpus(corpus).articles}
    # a feed that does not answer, followed too: reported, the other synced all the same
    write_followed(corpus, [*followed(corpus), {"url": "http://127.0.0.1:9/feed.xml", "title": "Gone"}])
    first = sync(corpus, fetch=FETCH)
    pages = sum(n for path, n in _Handler.hits.items() if path != "/rss.xml")
    [news, gone] = first
    assert news.url == f"{versioned}/rss.xml" and not news.unchanged, "no ETag was known before this sync"
    assert gone.errors and "cannot reach the URL" in str(gone.errors[0])
    second = sync(corpus, fetch=FETCH)
    assert second[0].unchanged and not second[0].added and not second[0].replaced
    assert sum(n for path, n in _Handler.hits.items() if path != "/rss.xml") == pages, "no page fetched"
    assert {a.id: a for a in load_corpus(corpus).articles} == before, "nothing written"

    _Versioned.version = 2
    third = sync(corpus, fetch=FETCH)[0]
    assert [p.name for p in third.added] == ["tram-line-approved.md"]
    [replaced] = third.replaced
    harbour = load_corpus(corpus).articles
    text = {a.id: a.text for a in harbour}[replaced.stem]
    assert "dredge the harbour in July" in text
    [old] = (corpus / HISTORY / replaced.stem).glob("*.md")
    assert "dredge the harbour in June" in old.read_text(encoding="utf-8"), "the old text kept, not lost"
    assert len(load_corpus(corpus).articles) == len(before) + 1, "the history is no article"


def test_the_command_line_syncs_and_says_what_it_did(tmp_path: Path, versioned: str, monkeypatch) -> None:
    from conftest import FakeEncoder

    import qa_bot.bot

    monkeypatch.setattr(qa_bot.bot, "make_encoder", lambda model=None, **kwargs: FakeEncoder())
    corpus = tmp_path / "corpus"
    empty = CliRunner().invoke(main, ["sync", "--corpus", str(corpus)])
    assert empty.exit_code == 1 and "follows no feed; add one with 'qa-bot add --feed URL" in empty.output
    CliRunner().invoke(main, ["add", "--feed", f"{versioned}/rss.xml", "--corpus", str(corpus)])
    first = CliRunner().invoke(main, ["sync", "--corpus", str(corpus)])
    assert first.exit_code == 1 and f"{versioned}/gone: HTTP 404" in first.output, "a missing item is reported"
    again = CliRunner().invoke(main, ["sync", "--corpus", str(corpus)])
    assert again.exit_code == 0 and again.output.strip() == f"{versioned}/rss.xml: unchanged"
    _Versioned.version = 2
    built = CliRunner().invoke(main, ["sync", "--build", "--corpus", str(corpus), "--index", str(tmp_path / "index")])
    assert "1 added, 1 replaced" in built.output and "index gen-" in built.output, built.output
    assert (tmp_path / "index" / "CURRENT").exists()


class _Flaky(_Handler):
    """A feed (with an ETag, so that it answers 304 once read) of a good page, a missing one and one
    that fails with 503 until ``healthy``."""

    healthy = False
    FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Flaky News</title>
<item><title>Harbour to be dredged</title><link>{base}/harbour</link></item>
<item><title>Ferry timetable changes</title><link>{base}/flaky</link><pubDate>Thu, 05 Mar 2026 07:00:00 GMT</pubDate></item>
<item><title>A story that is gone</title><link>{base}/gone</link></item>
</channel></rss>"""

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        base = f"http://127.0.0.1:{self.server.server_address[1]}"
        if self.path == "/flaky.xml":
            _Handler.hits[self.path] += 1
            if self.headers.get("If-None-Match") == '"f1"':
                self.send_response(304)
                self.end_headers()
                return
            data = _Flaky.FEED.format(base=base).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", '"f1"')
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        elif self.path == "/flaky":
            _Handler.hits[self.path] += 1
            if _Flaky.healthy:
                self._send(200, page("Ferry timetable changes", "<p>The ferry to the islands will leave an hour "
                                     "earlier from Monday, the operator said.</p><p>Night crossings stop in "
                                     "winter.</p>"), "text/html; charset=utf-8")
            else:
                self._send(503, b"busy", "text/plain")
        else:
            super().do_GET()


@pytest.fixture
def flaky() -> Iterator[str]:
    _Flaky.healthy = False
    yield from _serve(_Flaky)


def test_an_item_that_failed_for_a_passing_reason_is_read_again_even_when_the_feed_is_unchanged(
        tmp_path: Path, flaky: str) -> None:
    from qa_bot.corpus.feeds import MAX_TRIES, retries
    from qa_bot.corpus.sync import sync

    corpus, feed = tmp_path / "corpus", f"{flaky}/flaky.xml"
    report, _ = add_feed(corpus, feed, fetch=FETCH)
    assert {e.source: e.transient for e in report.errors} == {f"{flaky}/flaky": True, f"{flaky}/gone": False}
    assert retries(corpus, feed)[f"{flaky}/flaky"]["tries"] == 1, "a 503 is remembered, a 404 is not"
    sync(corpus, fetch=FETCH)  # the first sync learns the feed's ETag (a 200 that reads new items again)
    gone = _Handler.hits["/gone"]
    unchanged = sync(corpus, fetch=FETCH)[0]
    assert unchanged.unchanged and unchanged.retried == 1 and not unchanged.added
    assert "HTTP 503" in str(unchanged.errors[0]) and _Handler.hits["/gone"] == gone, "a missing page is not retried"

    _Flaky.healthy = True
    healed = sync(corpus, fetch=FETCH)[0]
    assert healed.unchanged and [p.name for p in healed.added] == ["ferry-timetable-changes.md"]
    ferry = {a.id: a for a in load_corpus(corpus).articles}["ferry-timetable-changes"]
    assert ferry.published == "2026-03-05" and ferry.source == "Flaky News", "what the feed said is kept"
    assert retries(corpus, feed) == {} and "pending" not in followed(corpus)[0]
    pages = sum(n for path, n in _Handler.hits.items() if path != "/flaky.xml")
    quiet = sync(corpus, fetch=FETCH)[0]
    assert quiet.unchanged and quiet.retried == 0 and not quiet.errors
    assert sum(n for path, n in _Handler.hits.items() if path != "/flaky.xml") == pages, "a no-op again"

    # An item that never recovers is read MAX_TRIES times in all, the last error says so, then left.
    other = tmp_path / "other"
    _Flaky.healthy = False
    add_feed(other, feed, fetch=FETCH)
    said = [str(e) for _ in range(MAX_TRIES + 1) for e in sync(other, fetch=FETCH)[0].errors if "/flaky" in str(e)]
    assert len(said) == MAX_TRIES - 1 and f"tried {MAX_TRIES} times, the last: add it by hand" in said[-1]
    tries = _Handler.hits["/flaky"]
    assert retries(other, feed)[f"{flaky}/flaky"]["tries"] == MAX_TRIES
    assert sync(other, fetch=FETCH)[0].retried == 0 and _Handler.hits["/flaky"] == tries


def test_the_command_line_says_an_item_that_failed_before_was_read_again(tmp_path: Path, flaky: str) -> None:
    corpus = tmp_path / "corpus"
    CliRunner().invoke(main, ["add", "--feed", f"{flaky}/flaky.xml", "--corpus", str(corpus)])
    CliRunner().invoke(main, ["sync", "--corpus", str(corpus)])
    _Flaky.healthy = True
    result = CliRunner().invoke(main, ["sync", "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert f"{flaky}/flaky.xml: unchanged; 1 item(s) that had failed read again, 1 added" in result.output
