"""What ``qa-bot sync`` costs: a feed of N items served from loopback (each item a page), added
once, then synced again unchanged (the server answers the conditional request with 304) and
after one item was added to it.

    python -m benchmarks.sync [--items 50] [--rounds 20]

Prints a Markdown table: median wall time of each kind of sync and the requests it made.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from benchmarks import perf
from qa_bot.corpus.ingest import add_feed
from qa_bot.corpus.sync import sync


class Site(BaseHTTPRequestHandler):
    items = 50
    hits: Counter = Counter()

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        Site.hits["feed" if self.path == "/feed.xml" else "page"] += 1
        if self.path == "/feed.xml":
            tag = f'"{Site.items}"'
            if self.headers.get("If-None-Match") == tag:
                self.send_response(304)
                self.end_headers()
                return
            base = f"http://127.0.0.1:{self.server.server_address[1]}"
            entries = "".join(f"<item><title>Story {n}</title><link>{base}/story/{n}</link>"
                              f"<pubDate>Mon, 02 Mar 2026 09:00:00 GMT</pubDate></item>" for n in range(Site.items))
            self._send(f'<?xml version="1.0"?><rss version="2.0"><channel><title>Bench</title>{entries}'
                       "</channel></rss>", "application/rss+xml", tag)
        else:
            n = self.path.rsplit("/", 1)[-1]
            self._send(f"<html><body><article><h1>Story {n}</h1><p>Story {n} happened on Monday in the town of "
                       f"Example, officials said.</p><p>More on story {n} follows here.</p></article></body></html>",
                       "text/html; charset=utf-8")

    def _send(self, body: str, kind: str, tag: str = "") -> None:
        data = body.encode()
        self.send_response(200)
        self.send_header("Content-Type", kind)
        if tag:
            self.send_header("ETag", tag)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def timed(corpus: Path, rounds: int) -> tuple[float, Counter]:
    times, before = [], Counter(Site.hits)
    for _ in range(rounds):
        start = time.perf_counter()
        sync(corpus)
        times.append(time.perf_counter() - start)
    return statistics.median(times), Site.hits - before


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=20)
    args = parser.parse_args()
    Site.items = args.items
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Site)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{httpd.server_address[1]}/feed.xml"
    with tempfile.TemporaryDirectory() as work:
        corpus = Path(work) / "corpus"
        start = time.perf_counter()
        report, _ = add_feed(corpus, url)
        added = time.perf_counter() - start
        sync(corpus)  # the first sync learns the ETag
        unchanged, unchanged_hits = timed(corpus, args.rounds)
        Site.items += 1  # one new item: the feed changes
        start, before = time.perf_counter(), Counter(Site.hits)
        sync(corpus)
        one_new, new_hits = time.perf_counter() - start, Site.hits - before
    httpd.shutdown()
    print(perf.header().replace("benchmarks.perf", "benchmarks.sync"))
    print(perf.table(["what", "ms", "feed requests", "page requests"], [
        [f"add --feed, {len(report.added)} items", f"{1000 * added:.0f}", "1", f"{len(report.added)}"],
        ["sync, feed unchanged (304), median", f"{1000 * unchanged:.1f}",
         f"{unchanged_hits['feed'] / args.rounds:.0f}", f"{unchanged_hits['page'] / args.rounds:.0f}"],
        ["sync, one new item", f"{1000 * one_new:.0f}", f"{new_hits['feed']}", f"{new_hits['page']}"],
    ]))


if __name__ == "__main__":
    main()
