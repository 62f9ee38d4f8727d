"""Turning sources (pasted text, HTML files, URLs, JSONL) into corpus articles.

``read_sources`` reads and cleans without touching the corpus (each kind of source is read by
``sources``); ``add_sources`` also assigns ids against the corpus and writes the article files.
Problems with one source never stop the others: each becomes an
:class:`~qa_bot.errors.ArticleError` naming the file, URL or ``file.jsonl:LINE`` and saying how to
fix it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path

from ..errors import ArticleError
from ..records import Article
from .clean import Dropped
from .feeds import MAX_TRIES, Feed, FeedItem, follow, read_feed, retries, seen
from .fetch import FEED_TYPES, check_scheme, fetch_url
from .files import SUFFIX, load_corpus, normalise_date, save_articles, slugify, validate_id
from .sources import CONTROL_RE, Draft, Fetcher, read_drafts

# The longest article body accepted: far above any news article (a long read is ~50,000
# characters), low enough that one bad file cannot swamp the index with junk passages.
MAX_ARTICLE_CHARS = 500_000
_FIELD_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Overrides:
    """Values given on the command line; ``None`` means not given."""

    title: str | None = None
    source: str | None = None
    published: str | None = None
    url: str | None = None
    author: str | None = None
    id: str | None = None


@dataclass(frozen=True)
class Ingested:
    """One article read from a source, with what cleaning removed (and, for an HTML page, how much
    text the page showed, of which the article is what was kept)."""

    source: str
    article: Article
    dropped: list[Dropped]
    page_chars: int = 0


@dataclass(frozen=True)
class Duplicate:
    """A source whose article text is already in the corpus (or earlier in the same call)."""

    source: str
    article_id: str  # the copy already there
    where: str  # its file, or the source that brought it in this call

    def __str__(self) -> str:
        return (f"{self.source}: the same article text is already in the corpus as {self.article_id!r} "
                f"({self.where}); skipped. Pass --replace to overwrite that copy")


@dataclass(frozen=True)
class AddReport:
    """What ``add_sources`` wrote, what it skipped as already there, and what it refused."""

    added: list[tuple[Ingested, Path]]
    errors: list[ArticleError]
    skipped: list[Duplicate] = field(default_factory=list)


def _finish(draft: Draft, overrides: Overrides) -> tuple[dict[str, str], str]:
    """Apply overrides and check the fields; return the fields and the given id ("" if none)."""
    fields = dict(draft.fields)
    for name in ("title", "source", "url", "author", "published"):
        value = getattr(overrides, name)
        if value is not None:
            fields[name] = value.strip()
    # Stray control characters (a binary source was refused earlier) go; line breaks stay in the text.
    fields = {k: (CONTROL_RE if k == "text" else _FIELD_CONTROL_RE).sub("", str(v)) for k, v in fields.items()}
    fields["published"] = normalise_date(fields.get("published") or "", draft.where)
    if not fields["title"]:
        raise ArticleError(draft.where, "no title found; give one with --title")
    if not fields["text"].strip():
        raise ArticleError(draft.where, "no article text left after cleaning; check that the file holds "
                                        "the article itself (see the dropped lines)")
    if len(fields["text"]) > MAX_ARTICLE_CHARS:
        raise ArticleError(draft.where, f"the article text is {len(fields['text']):,} characters, more than "
                                        f"{MAX_ARTICLE_CHARS:,}; split it into several articles")
    given = overrides.id if overrides.id is not None else draft.given_id
    if given:
        validate_id(given, draft.where)
    return fields, given


def read_sources(
    sources: Sequence[str],
    overrides: Overrides = Overrides(),
    *,
    fetch: Fetcher | None = None,
    existing_ids: Collection[str] = (),
    replace: bool = False,
) -> tuple[list[Ingested], list[ArticleError]]:
    """Read, clean and check articles from files and URLs, without writing anything.

    Args:
        sources: file paths (.txt, .md, .html, .htm, .jsonl) and http(s) URLs.
        overrides: values that replace the extracted ones for every article.
        fetch: downloads a URL, returning ``(final_url, html)``; defaults to :func:`fetch_url`.
        existing_ids: ids already in the corpus; generated ids avoid them, given ones clash.
        replace: allow given ids (and generated ones) to reuse ``existing_ids``.

    Returns:
        The articles read, in source order, and one error per source or JSONL line that failed.
    """
    fetch = fetch or fetch_url
    drafts: list[Draft] = []
    errors: list[ArticleError] = []
    for source in sources:
        try:
            for item in read_drafts(source, fetch):
                (errors if isinstance(item, ArticleError) else drafts).append(item)
        except ArticleError as exc:
            errors.append(exc)
    return finish_drafts(drafts, errors, overrides, existing_ids, replace)


def finish_drafts(drafts: list[Draft], errors: list[ArticleError], overrides: Overrides,
                  existing_ids: Collection[str], replace: bool) -> tuple[list[Ingested], list[ArticleError]]:
    """The articles of ``drafts``, overrides applied and ids assigned; their errors added to ``errors``."""
    finished = []
    for draft in drafts:
        try:
            finished.append((draft, *_finish(draft, overrides)))
        except ArticleError as exc:
            errors.append(exc)
    if overrides.id is not None and len(finished) > 1:
        wheres = ", ".join(d.where for d, _, _ in finished[:3]) + (", ..." if len(finished) > 3 else "")
        errors.append(ArticleError("--id", f"given for {len(finished)} articles ({wheres}); --id needs "
                                           "exactly one article, so none of them were added"))
        return [], errors
    taken = set() if replace else set(existing_ids)
    batch: dict[str, str] = {}
    result = []
    for draft, fields, given in finished:
        if given and (given in batch or given in taken):
            also = batch.get(given) or "the corpus"
            errors.append(ArticleError(draft.where, f"duplicate id {given!r} (already in {also}); give "
                                                    "another id, or pass --replace to overwrite the corpus copy"))
            continue
        article_id = given or _unique(slugify(fields["title"]), taken | set(batch))
        batch[article_id] = draft.where
        result.append(Ingested(draft.where, Article(id=article_id, **fields), draft.dropped, draft.page_chars))
    return result, errors


def _unique(base: str, taken: Collection[str]) -> str:
    candidate, n = base, 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def add_sources(
    corpus_dir: Path,
    sources: Sequence[str],
    overrides: Overrides = Overrides(),
    *,
    replace: bool = False,
    fetch: Fetcher | None = None,
) -> AddReport:
    """Read sources and write each valid article as a corpus file.

    Existing corpus files are never overwritten unless ``replace`` is true; every file is
    written atomically, so nothing is left half-written. An article whose text is already in the
    corpus (or earlier in this call) is skipped and reported as a ``Duplicate``; with ``replace``
    it overwrites the copy that is there, under that copy's id.

    Args:
        corpus_dir: the corpus directory (created if missing).
        sources: file paths and URLs, as for :func:`read_sources`.
        overrides: values that replace the extracted ones for every article.
        replace: overwrite corpus articles with the same id.
        fetch: downloads a URL; defaults to :func:`fetch_url`.

    Returns:
        The articles written with their paths, the duplicates skipped, and the errors.
    """
    corpus_dir = Path(corpus_dir)
    existing = {p.stem for p in corpus_dir.glob(f"*{SUFFIX}")} if corpus_dir.is_dir() else set()
    ingested, errors = read_sources(sources, overrides, fetch=fetch, existing_ids=existing, replace=replace)
    return _save(corpus_dir, ingested, errors, replace)


def add_feed(
    corpus_dir: Path,
    url: str,
    overrides: Overrides = Overrides(),
    *,
    limit: int | None = None,
    replace: bool = False,
    fetch: Fetcher | None = None,
    fetch_feed: Fetcher | None = None,
    feed: Feed | None = None,
    conditional: tuple[str, str] = ("", ""),
) -> tuple[AddReport, Feed | None]:
    """Add the articles an RSS or Atom feed links to, and remember the feed in the corpus.

    Each item's page is read as ``add_sources`` reads a URL; the item's headline, published date and
    author replace the page's, the feed's title is the outlet, and ``overrides`` replace all of
    them. Items whose link an article of the corpus already has are not fetched. ``limit`` caps
    the items read (the feed's first). A bad item is reported by its link and the others are
    still added; a feed that cannot be read is the one error of the report. ``fetch`` reads the
    pages, ``fetch_feed`` the feed (default: ``fetch_url`` taking feed content types); ``feed``,
    if given, is the feed read already, and ``conditional`` the ETag and Last-Modified its server
    sent, remembered for the next conditional request (``sync``).
    """
    corpus_dir = Path(corpus_dir)
    fetch = fetch or fetch_url
    if feed is None:
        try:
            check_scheme(url, url)
            feed = read_feed(url, fetch_feed or partial(fetch_url, accept=FEED_TYPES))
        except ArticleError as exc:
            return AddReport([], [exc]), None
    articles = load_corpus(corpus_dir).articles if corpus_dir.is_dir() else []
    earlier = retries(corpus_dir, url)
    given_up = {link for link, p in earlier.items() if int(p.get("tries", 0)) >= MAX_TRIES}
    known = {a.url for a in articles if a.url} | set(seen(corpus_dir, url)) | given_up
    items = [item for item in feed.items if item.link not in known][:limit]
    drafts: list[Draft] = []
    errors: list[ArticleError] = []
    for item in items:
        try:
            drafts += item_drafts(item, fetch, feed.title)
        except ArticleError as exc:
            errors.append(exc)
    existing = {a.id for a in articles}
    ingested, errors = finish_drafts(drafts, errors, overrides, existing, replace)
    failed = _to_retry(items, errors, earlier)
    report = _save(corpus_dir, ingested, errors, replace, articles)
    changed = {item.link: item.updated for item in items}
    read = ({i.source: i.article.id for i, _ in report.added} | {d.source: d.article_id for d in report.skipped})
    follow(corpus_dir, feed, url, {link: {"id": article_id, "updated": changed.get(link, "")}
                                   for link, article_id in read.items()}, etag=conditional[0],
           last_modified=conditional[1], failed=failed)
    return report, feed


def _to_retry(items: list[FeedItem], errors: list[ArticleError], earlier: dict[str, dict]) -> dict[str, dict]:
    """The items whose page failed for a reason that may pass, to be read again at the next sync
    (with what the feed said of them, the error and the tries so far); the last try's error in
    ``errors`` says that it was the last (edited in place)."""
    by_link = {item.link: item for item in items}
    failed = {}
    for n, error in enumerate(errors):
        item = by_link.get(error.source)
        if item is None or not error.transient:
            continue
        tries = int(earlier.get(item.link, {}).get("tries", 0)) + 1
        failed[item.link] = {"title": item.title, "published": item.published, "author": item.author,
                             "updated": item.updated, "error": error.problem, "tries": tries}
        if tries >= MAX_TRIES:
            errors[n] = ArticleError(error.source, f"{error.problem} (tried {tries} times, the last: add it "
                                                   f"by hand with 'qa-bot add {item.link}')")
    return failed


def item_drafts(item: FeedItem, fetch: Fetcher, outlet: str) -> list[Draft]:
    """The drafts of a feed item's page, what the feed says of the item over what the page says and
    the feed's title as the outlet; ArticleError naming the link if the page cannot be read."""
    drafts = []
    for draft in read_drafts(item.link, fetch):
        if isinstance(draft, ArticleError):
            raise draft
        draft.fields |= {k: v for k, v in (("title", item.title), ("published", item.published),
                                           ("author", item.author), ("source", outlet)) if v}
        drafts.append(draft)
    return drafts


def _save(corpus_dir: Path, ingested: list[Ingested], errors: list[ArticleError], replace: bool,
          articles: list[Article] | None = None) -> AddReport:
    """Write ``ingested`` into the corpus, skipping (or, with ``replace``, overwriting) articles whose
    text is there already (``articles``: the corpus's, when the caller has read them)."""
    if articles is None:
        existing = {p.stem for p in corpus_dir.glob(f"*{SUFFIX}")} if corpus_dir.is_dir() else set()
        articles = load_corpus(corpus_dir).articles if existing else []
    in_corpus = {_text_key(a.text): (a.id, str(corpus_dir / f"{a.id}{SUFFIX}")) for a in articles}
    in_call: dict[str, tuple[str, str]] = {}
    added: list[tuple[Ingested, Path]] = []
    skipped: list[Duplicate] = []
    for item in ingested:
        key = _text_key(item.article.text)
        if key in in_call:
            skipped.append(Duplicate(item.source, *in_call[key]))
            continue
        if key in in_corpus:
            if not replace:
                skipped.append(Duplicate(item.source, *in_corpus[key]))
                continue
            item = dataclasses.replace(item, article=dataclasses.replace(item.article, id=in_corpus[key][0]))
        try:
            (path,) = save_articles(corpus_dir, [item.article], overwrite=replace)
        except ArticleError as exc:
            errors.append(ArticleError(item.source, exc.problem))
            continue
        except OSError as exc:
            errors.append(ArticleError(item.source, f"cannot write to the corpus ({exc}); check {corpus_dir}"))
            continue
        added.append((item, path))
        in_call[key] = (item.article.id, item.source)
    return AddReport(added, errors, skipped)


def _text_key(text: str) -> str:
    """What makes two articles the same one: their body text, white space at the ends aside."""
    return hashlib.sha256(text.strip().encode("utf-8")).hexdigest()
