"""News feeds: reading an RSS or Atom feed (feedparser) into the items it links to, and the list
of feeds a corpus follows (``feeds.yaml`` beside the articles, readable and editable by hand).

An item gives its link and, when the feed has them, its headline, published date and author;
the article itself is read from the page the link points to (``sources``), as ``qa-bot add URL``
reads it, and the feed's values take precedence over what the page says.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ArticleError, CorpusError

FEEDS = "feeds.yaml"  # in a corpus directory: the feeds it follows
# An item whose page failed for a reason that may pass (a timeout, HTTP 5xx) is read again at each
# sync, the feed changed or not, this many times in all; then it is left for a person to add.
MAX_TRIES = 5


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed: the page it links to and what the feed says of it."""

    link: str
    title: str = ""
    published: str = ""  # YYYY-MM-DD, or "" when the feed gives no date
    author: str = ""
    updated: str = ""  # when the feed says the item last changed (ISO), "" if it does not say


@dataclass(frozen=True)
class Feed:
    url: str
    title: str
    items: list[FeedItem]


def read_feed(url: str, fetch: Callable[[str], tuple[str, str]]) -> Feed:
    """The feed at ``url`` (``fetch`` returns the final URL and the text); ArticleError naming the
    URL if it cannot be fetched or is not an RSS or Atom feed."""
    final_url, text = fetch(url)
    return parse_feed(url, final_url, text)


def parse_feed(url: str, final_url: str, text: str) -> Feed:
    """The feed in ``text`` (fetched from ``url``, last at ``final_url``); ArticleError if it is none."""
    import feedparser

    parsed = feedparser.parse(text)
    if not parsed.entries and (parsed.bozo or not parsed.get("version")):
        raise ArticleError(url, "not an RSS or Atom feed (nothing a feed reader can read there); check the URL")
    items = []
    for entry in parsed.entries:
        link = str(entry.get("link") or "").strip()
        if not link:
            continue
        stamp = entry.get("published_parsed") or entry.get("updated_parsed")
        published = dt.date(*stamp[:3]).isoformat() if stamp else ""
        changed = entry.get("updated_parsed")
        updated = dt.datetime(*changed[:6]).isoformat() if changed else ""
        items.append(FeedItem(link, " ".join(str(entry.get("title") or "").split()), published,
                              str(entry.get("author") or "").strip(), updated))
    return Feed(final_url, " ".join(str(parsed.feed.get("title") or "").split()), items)


def followed(corpus_dir: Path) -> list[dict]:
    """The feeds a corpus follows (``feeds.yaml``: a list of ``url``, ``title``, ``added`` and
    ``items``, each item link read and the article it gave)."""
    path = Path(corpus_dir) / FEEDS
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or []
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise CorpusError(f"{path} is unreadable ({exc}); fix it or remove it") from None
    if not isinstance(data, list) or not all(isinstance(f, dict) and f.get("url") for f in data):
        raise CorpusError(f"{path} must be a list of feeds, each with a url; fix it or remove it")
    return data


def seen(corpus_dir: Path, url: str) -> dict[str, dict[str, str]]:
    """The item links of the feed at ``url`` the corpus has read: for each, the article it gave
    (``id``) and when the feed said it last changed (``updated``)."""
    for entry in followed(corpus_dir):
        if entry["url"] == url:
            return {link: dict(item) for link, item in (entry.get("items") or {}).items() if isinstance(item, dict)}
    return {}


def retries(corpus_dir: Path, url: str) -> dict[str, dict]:
    """The items of the feed at ``url`` whose page failed for a reason that may pass (``pending`` in
    ``feeds.yaml``): for each link, what the feed said of it, the last error and the ``tries`` so far."""
    for entry in followed(corpus_dir):
        if entry["url"] == url:
            return pending_of(entry)
    return {}


def pending_of(entry: dict) -> dict[str, dict]:
    """``retries`` of one feed entry of ``feeds.yaml``, read already."""
    return {link: dict(p) for link, p in (entry.get("pending") or {}).items() if isinstance(p, dict)}


def pending_item(link: str, remembered: dict) -> FeedItem:
    """The feed item a ``retries`` entry remembers."""
    return FeedItem(link, *(str(remembered.get(k, "")) for k in ("title", "published", "author", "updated")))


def follow(corpus_dir: Path, feed: Feed, asked: str, items: dict[str, dict[str, str]], *, etag: str = "",
           last_modified: str = "", failed: dict[str, dict] | None = None) -> bool:
    """Remember ``feed`` (asked for as ``asked``) in the corpus with the item links read now (the
    article each gave, and when it last changed: a link may redirect, the article keeps the final
    URL), the items to read again (``failed``: link -> what the feed said, the error and the tries;
    an item read now leaves them) and what the server said of the feed (``etag``,
    ``last_modified``, for a conditional request next time); False if the feed was followed already."""
    feeds = followed(corpus_dir)
    entry = next((f for f in feeds if f["url"] in (asked, feed.url)), None)
    new = entry is None
    if new:
        entry = {"url": asked, "title": feed.title, "added": dt.date.today().isoformat(), "items": {}}
        feeds.append(entry)
    entry["items"] = dict(entry.get("items") or {}) | items
    pending = {link: p for link, p in (entry.get("pending") or {}).items() if link not in items} | (failed or {})
    if pending:
        entry["pending"] = pending
    else:
        entry.pop("pending", None)
    for key, value in (("etag", etag), ("last_modified", last_modified)):
        if value:
            entry[key] = value
    write_followed(corpus_dir, feeds)
    return new


def write_followed(corpus_dir: Path, feeds: list[dict]) -> None:
    """Write ``feeds.yaml`` (atomically)."""
    path = Path(corpus_dir) / FEEDS
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text("# The feeds this corpus follows ('qa-bot add --feed URL' adds one).\n"
                         + yaml.safe_dump(feeds, allow_unicode=True, sort_keys=False), encoding="utf-8")
    temporary.replace(path)
