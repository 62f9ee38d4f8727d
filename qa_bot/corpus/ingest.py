"""Turning sources (pasted text, HTML files, URLs, JSONL) into corpus articles.

``read_sources`` reads and cleans without touching the corpus; ``add_sources`` also assigns ids
against the corpus and writes the article files. Problems with one source never stop the others:
each becomes an :class:`~qa_bot.errors.ArticleError` naming the file, URL or ``file.jsonl:LINE``
and saying how to fix it.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .clean import Dropped, clean_lines_of_extracted, clean_pasted, paragraphs_to_body
from .files import SUFFIX, normalise_date, save_articles, slugify, validate_id
from ..errors import ArticleError
from .fetch import (
    MAX_PAGE_BYTES,
    META_CHARSET_RE,
    URL_SCHEME_RE,
    check_scheme,
    fetch_url,
)
from ..records import Article

_BLOCK_TAGS = frozenset({"p", "head", "list", "item", "quote", "table", "div", "code", "graphic"})
_SPACE_RE = re.compile(r"[ \t\r\n\f\v]+")  # HTML white space; keeps no-break spaces verbatim

Fetcher = Callable[[str], tuple[str, str]]

# A .jsonl file holds many articles, so it may be larger than one page (MAX_PAGE_BYTES).
MAX_JSONL_BYTES = 200_000_000
# The longest article body accepted: far above any news article (a long read is ~50,000
# characters), low enough that one bad file cannot swamp the index with junk passages.
MAX_ARTICLE_CHARS = 500_000
# C0 controls other than tab, line feed, vertical tab, form feed and carriage return, and DEL.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
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
    """One article read from a source, with what cleaning removed."""

    source: str
    article: Article
    dropped: list[Dropped]


@dataclass(frozen=True)
class AddReport:
    """What ``add_sources`` wrote and what it refused."""

    added: list[tuple[Ingested, Path]]
    errors: list[ArticleError]


@dataclass
class _Draft:
    """An article before ids are assigned; ``given_id`` is "" when the id is to be generated."""

    where: str
    fields: dict[str, str]
    dropped: list[Dropped]
    given_id: str = ""


def check_not_binary(text: str, where: str) -> str:
    """Refuse text that is binary data which happened to decode: a NUL, or control characters
    making up more than 1% of it (a stray one in a real article is removed later)."""
    controls = _CONTROL_RE.findall(text)
    if "\x00" in text or len(controls) > max(3, len(text) // 100):
        first = _CONTROL_RE.search(text)
        raise ArticleError(
            where, f"looks like binary data, not text ({len(controls):,} control characters, the first "
            f"0x{ord(first.group()):02x} at character {first.start():,}); give the article as a text, HTML or JSONL file",
        )
    return text


def _check_size(path: Path, where: str, limit: int) -> None:
    try:
        size = path.stat().st_size
    except OSError:
        return  # reading it reports the problem
    if size > limit:
        raise ArticleError(
            where, f"file is {size:,} bytes, more than the {limit:,} an article source may be; check that it "
            "is the right file, or split it into several articles (a .jsonl file of articles may be up to "
            f"{MAX_JSONL_BYTES:,} bytes)",
        )


def _read_text(path: Path, where: str, *, html: bool = False, limit: int = MAX_PAGE_BYTES) -> str:
    _check_size(path, where, limit)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArticleError(where, "file not found; check the path") from None
    except IsADirectoryError:
        raise ArticleError(where, "is a directory; give the article files themselves") from None
    except OSError as exc:
        raise ArticleError(where, f"cannot read file ({exc.strerror}); check its permissions") from None
    bom = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    if not data[bom:].strip():  # a byte-order mark alone is empty too
        raise ArticleError(where, "file is empty; paste the article text into it and save it")
    try:
        return check_not_binary(data[bom:].decode("utf-8"), where)
    except UnicodeDecodeError as exc:
        offset = bom + exc.start
        declared = META_CHARSET_RE.search(data[:4096]) if html else None
        if declared:
            try:
                return check_not_binary(data.decode(declared.group(1).decode("ascii")), where)
            except (LookupError, UnicodeDecodeError):
                pass
        raise ArticleError(
            where, f"not valid UTF-8 (bad byte 0x{data[offset]:02x} at byte offset {offset}); "
            "re-save the file as UTF-8",
        ) from None


def _pasted_draft(text: str, where: str) -> _Draft:
    cleaned = clean_pasted(text)
    fields = {"title": cleaned.title, "author": cleaned.author, "published": cleaned.published,
              "text": cleaned.body, "source": "", "url": ""}
    return _Draft(where, fields, cleaned.dropped)


def _jsonl_text(text: str) -> str:
    """Normalise clean JSONL text: blank-line paragraphs, or one paragraph a line if none."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = re.split(r"\n[ \t]*\n", text) if re.search(r"\n[ \t]*\n", text) else text.split("\n")
    return paragraphs_to_body(parts)


def _jsonl_drafts(content: str, where: str) -> Iterator[_Draft | ArticleError]:
    # split on "\n" only: JSON strings may hold U+2028 and other characters splitlines() breaks at
    for number, line in enumerate(content.split("\n"), start=1):
        if not line.strip():
            continue
        here = f"{where}:{number}"
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            yield ArticleError(here, f"not valid JSON ({exc.msg} at column {exc.colno}); "
                                     "each line must be one JSON object")
            continue
        if not isinstance(record, dict):
            yield ArticleError(here, "not a JSON object; each line must be {\"title\": ..., \"text\": ...}")
            continue
        missing = [name for name in ("text", "title") if not str(record.get(name) or "").strip()]
        if missing:
            yield ArticleError(here, f"no {' or '.join(repr(m) for m in missing)} field; every line needs "
                                     "non-empty 'text' and 'title'")
            continue
        try:
            check_not_binary(str(record["text"]), here)
        except ArticleError as exc:
            yield exc
            continue
        given = record.get("id")
        fields = {
            "title": str(record["title"]).strip(),
            "text": _jsonl_text(str(record["text"])),
            "url": str(record.get("url") or "").strip(),
            "source": str(record.get("source") or "").strip(),
            "author": str(record.get("author") or "").strip(),
            "published": record.get("published") or record.get("date") or "",
        }
        yield _Draft(here, fields, [], given_id="" if given in (None, "") else str(given))


def _inline_text(element: Any) -> list[str]:
    """The text of an element outside nested blocks, split at line breaks, white space collapsed."""
    pieces = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            pieces.append("\n")
        elif child.tag not in _BLOCK_TAGS:
            pieces.append("\n".join(_inline_text(child)))
        pieces.append(child.tail or "")
    lines = "".join(pieces).split("\n")
    return [t for t in (_SPACE_RE.sub(" ", line).strip() for line in lines) if t]


def _xml_blocks(element: Any) -> Iterator[str]:
    """Paragraphs and ``## `` headings from trafilatura's XML body, in document order."""
    for child in element:
        if child.tag == "head":
            text = " ".join(_inline_text(child))
            if text:
                yield f"## {text}"
        elif child.tag == "table":
            for row in child.iter("row"):
                cells = [" ".join(_inline_text(cell)) for cell in row.iter("cell")]
                if any(cells):
                    yield " | ".join(c for c in cells if c)
        elif child.tag in _BLOCK_TAGS:
            yield from _inline_text(child)
            yield from _xml_blocks(child)


def _html_draft(html: str, where: str, *, url: str = "") -> _Draft:
    """Extract the article of an HTML page with trafilatura and clean it."""
    import trafilatura  # lazy: slow to import, only needed for HTML

    doc = trafilatura.bare_extraction(
        html, url=url or None, with_metadata=True, include_formatting=True,
        include_comments=False, include_images=False, include_links=False,
    )
    if doc is None or doc.body is None:
        raise ArticleError(where, "no article text found in the page; save the page text as .txt instead")
    title = (doc.title or "").strip()
    blocks = list(_xml_blocks(doc.body))
    if blocks and title and blocks[0].removeprefix("## ").casefold() == title.casefold():
        blocks.pop(0)  # the headline, already in the title field
    body, dropped = clean_lines_of_extracted("\n\n".join(blocks), author=doc.author or "")
    fields = {"title": title, "author": (doc.author or "").strip(), "published": doc.date or "",
              "text": body, "source": (doc.sitename or doc.hostname or "").strip(),
              "url": (doc.url or url or "").strip()}
    return _Draft(where, fields, dropped)


_KINDS = {".txt": "pasted", ".md": "pasted", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}
SUPPORTED = (".txt/.md (text pasted from a web page), .html/.htm (saved web page), "
             ".jsonl (one article a line), http(s):// URL")


def _kind_of(source: str) -> str:
    if URL_SCHEME_RE.match(source):
        return "url"
    return _KINDS.get(Path(source).suffix.lower(), "")


def _drafts(source: str, fetch: Fetcher) -> Iterator[_Draft | ArticleError]:
    kind, path = _kind_of(source), Path(source)
    if kind == "url":
        check_scheme(source, source)
        final_url, html = fetch(source)
        draft = _html_draft(check_not_binary(html, source), source, url=final_url)
        draft.fields["url"] = final_url
        yield draft
    elif kind == "pasted":
        yield _pasted_draft(_read_text(path, source), source)
    elif kind == "html":
        yield _html_draft(_read_text(path, source, html=True), source)
    elif kind == "jsonl":
        yield from _jsonl_drafts(_read_text(path, source, limit=MAX_JSONL_BYTES), source)
    elif not path.exists():
        raise ArticleError(source, f"file not found (and not a supported kind); supported: {SUPPORTED}")
    else:
        raise ArticleError(source, f"unsupported kind of source {path.suffix or '(no extension)'!r}; "
                                   f"supported: {SUPPORTED}")


def _finish(draft: _Draft, overrides: Overrides) -> tuple[dict[str, str], str]:
    """Apply overrides and check the fields; return the fields and the given id ("" if none)."""
    fields = dict(draft.fields)
    for name in ("title", "source", "url", "author", "published"):
        value = getattr(overrides, name)
        if value is not None:
            fields[name] = value.strip()
    # Stray control characters (a binary source was refused earlier) go; line breaks stay in the text.
    fields = {k: (_CONTROL_RE if k == "text" else _FIELD_CONTROL_RE).sub("", str(v)) for k, v in fields.items()}
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
    drafts: list[_Draft] = []
    errors: list[ArticleError] = []
    for source in sources:
        try:
            for item in _drafts(source, fetch):
                (errors if isinstance(item, ArticleError) else drafts).append(item)
        except ArticleError as exc:
            errors.append(exc)
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
        result.append(Ingested(draft.where, Article(id=article_id, **fields), draft.dropped))
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
    written atomically, so nothing is left half-written.

    Args:
        corpus_dir: the corpus directory (created if missing).
        sources: file paths and URLs, as for :func:`read_sources`.
        overrides: values that replace the extracted ones for every article.
        replace: overwrite corpus articles with the same id.
        fetch: downloads a URL; defaults to :func:`fetch_url`.

    Returns:
        The articles written with their paths, and the errors.
    """
    corpus_dir = Path(corpus_dir)
    existing = {p.stem for p in corpus_dir.glob(f"*{SUFFIX}")} if corpus_dir.is_dir() else set()
    ingested, errors = read_sources(sources, overrides, fetch=fetch, existing_ids=existing, replace=replace)
    added: list[tuple[Ingested, Path]] = []
    for item in ingested:
        try:
            (path,) = save_articles(corpus_dir, [item.article], overwrite=replace)
        except ArticleError as exc:
            errors.append(ArticleError(item.source, exc.problem))
            continue
        except OSError as exc:
            errors.append(ArticleError(item.source, f"cannot write to the corpus ({exc}); check {corpus_dir}"))
            continue
        added.append((item, path))
    return AddReport(added, errors)
