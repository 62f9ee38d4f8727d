"""Keeping a corpus up with the feeds it follows (``qa-bot sync``): each feed asked for with a
conditional request, its new items added, its updated items read again and, where their text
changed, replacing their article, the old file kept in the corpus's history.

A feed that has not changed answers 304 and costs one request: no page is fetched and nothing is
written, but for the items whose page failed before for a reason that may pass (a timeout, HTTP
5xx: ``feeds.yaml``'s ``pending``), read again at each sync up to ``feeds.MAX_TRIES`` times. One
feed that cannot be read, or one item that fails, is reported by name and never stops the others.
The history of article ``ID`` is ``.history/ID/STAMP.md``, each an earlier version of its file as
it was (hidden from the corpus: files starting with a dot are no articles).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ArticleError
from ..records import Article
from .feeds import MAX_TRIES, Feed, FeedItem, follow, followed, parse_feed, pending_item, pending_of, seen
from .fetch import FEED_TYPES, fetch_if_changed, fetch_url
from .files import SUFFIX, read_article, render, save_articles
from .ingest import Overrides, add_feed, finish_drafts, item_drafts
from .sources import Fetcher

HISTORY = ".history"


@dataclass
class FeedSync:
    """What a sync did with one feed."""

    url: str
    unchanged: bool = False  # the server said so (304): nothing fetched but the request and the retries
    retried: int = 0  # items that had failed for a reason that may pass, read again
    added: list[Path] = field(default_factory=list)
    replaced: list[Path] = field(default_factory=list)  # articles whose page text changed
    errors: list[ArticleError] = field(default_factory=list)


def sync(corpus_dir: Path, *, limit: int | None = None, fetch: Fetcher | None = None,
         conditional=fetch_if_changed) -> list[FeedSync]:
    """Poll every feed ``corpus_dir`` follows (``feeds.yaml``); see the module. ``limit`` caps the
    new items read per feed; ``fetch`` reads pages, ``conditional`` the feeds."""
    corpus_dir = Path(corpus_dir)
    fetch = fetch or fetch_url
    out = []
    for entry in followed(corpus_dir):
        url = entry["url"]
        result = FeedSync(url)
        out.append(result)
        try:
            got = conditional(url, etag=entry.get("etag", ""), last_modified=entry.get("last_modified", ""),
                              accept=FEED_TYPES)
            if got.unchanged:
                result.unchanged = True
                _retry(corpus_dir, url, entry, result, fetch, limit)
                continue
            feed = parse_feed(url, got.url, got.text)
        except ArticleError as exc:
            result.errors.append(exc)
            continue
        known = seen(corpus_dir, url)
        updated = [item for item in feed.items if item.link in known and item.updated
                   and item.updated != known[item.link].get("updated")]
        report, _ = add_feed(corpus_dir, url, limit=limit, fetch=fetch, feed=feed,
                             conditional=(got.etag, got.last_modified))
        result.added = [path for _, path in report.added]
        result.errors += report.errors
        for item in updated:
            try:
                path = _refresh(corpus_dir, known[item.link]["id"], fetch, feed.title, item)
            except ArticleError as exc:
                result.errors.append(exc)
                continue
            if path is not None:
                result.replaced.append(path)
            follow(corpus_dir, feed, url, {item.link: {"id": known[item.link]["id"], "updated": item.updated}})
    return out


def _retry(corpus_dir: Path, url: str, entry: dict, result: FeedSync, fetch: Fetcher, limit: int | None) -> None:
    """Read again the items of an unchanged feed that failed for a reason that may pass."""
    waiting = [pending_item(link, p) for link, p in pending_of(entry).items()
               if int(p.get("tries", 0)) < MAX_TRIES][:limit]
    if not waiting:
        return
    report, _ = add_feed(corpus_dir, url, fetch=fetch, feed=Feed(url, str(entry.get("title") or ""), waiting))
    result.retried = len(waiting)
    result.added = [path for _, path in report.added]
    result.errors += report.errors


def _refresh(corpus_dir: Path, article_id: str, fetch: Fetcher, outlet: str, item: FeedItem) -> Path | None:
    """Read an updated item's page again; if its text changed, replace article ``article_id`` with it
    (the old file kept in the history) and return its path, else None."""
    path = corpus_dir / f"{article_id}{SUFFIX}"
    if not path.exists():
        return None  # removed from the corpus by hand: left removed
    articles, errors = finish_drafts(item_drafts(item, fetch, outlet), [], Overrides(id=article_id), (), True)
    if errors:
        raise errors[0]
    old = read_article(path)
    if not articles or articles[0].article.text.strip() == old.text.strip():
        return None
    keep_history(corpus_dir, old)
    (written,) = save_articles(corpus_dir, [articles[0].article], overwrite=True)
    return written


def keep_history(corpus_dir: Path, article: Article) -> Path:
    """Keep ``article``'s file as it is now in the corpus's history; the path written."""
    folder = Path(corpus_dir) / HISTORY / article.id
    folder.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    target = folder / f"{stamp}{SUFFIX}"
    target.write_text(render(article), encoding="utf-8")
    return target


__all__ = ["HISTORY", "FeedSync", "keep_history", "sync"]
