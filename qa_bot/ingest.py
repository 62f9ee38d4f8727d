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
from dataclasses import dataclass, replace as dc_replace
from pathlib import Path
from typing import Any

from .clean import Dropped, clean_lines_of_extracted, clean_pasted, paragraphs_to_body
from .corpus import SUFFIX, normalise_date, save_articles, slugify, validate_id
from .errors import ArticleError
from .records import Article

USER_AGENT = "Mozilla/5.0 (compatible; qa-bot/0.1; news question answering)"
MAX_REDIRECTS = 10
_URL_SCHEME_RE = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*)://")
_HTML_TYPES = ("text/html", "application/xhtml+xml")
_META_CHARSET_RE = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_SPACE_RE = re.compile(r"[ \t\r\n\f\v]+")  # HTML white space; keeps no-break spaces verbatim

Fetcher = Callable[[str], tuple[str, str]]


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


# ---------------------------------------------------------------- reading files


def _read_text(path: Path, where: str, *, html: bool = False) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ArticleError(where, "file not found; check the path") from None
    except IsADirectoryError:
        raise ArticleError(where, "is a directory; give the article files themselves") from None
    except OSError as exc:
        raise ArticleError(where, f"cannot read file ({exc.strerror}); check its permissions") from None
    if not data.strip():
        raise ArticleError(where, "file is empty; paste the article text into it and save it")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        declared = _META_CHARSET_RE.search(data[:4096]) if html else None
        if declared:
            try:
                return data.decode(declared.group(1).decode("ascii"))
            except (LookupError, UnicodeDecodeError):
                pass
        raise ArticleError(
            where, f"not valid UTF-8 (bad byte 0x{data[exc.start]:02x} at byte offset {exc.start}); "
            "re-save the file as UTF-8",
        ) from None


def _from_pasted(path: Path, where: str) -> Iterator[_Draft]:
    cleaned = clean_pasted(_read_text(path, where))
    fields = {"title": cleaned.title, "author": cleaned.author, "published": cleaned.published,
              "text": cleaned.body, "source": "", "url": ""}
    yield _Draft(where, fields, cleaned.dropped)


def _from_html_file(path: Path, where: str) -> Iterator[_Draft]:
    yield html_draft(_read_text(path, where, html=True), where)


def _from_url(url: str, where: str, fetch: Fetcher) -> Iterator[_Draft]:
    final_url, html = fetch(url)
    draft = html_draft(html, where, url=final_url)
    draft.fields["url"] = final_url
    yield draft


def _jsonl_text(text: str) -> str:
    """Normalise clean JSONL text: blank-line paragraphs, or one paragraph a line if none."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = re.split(r"\n[ \t]*\n", text) if re.search(r"\n[ \t]*\n", text) else text.split("\n")
    return paragraphs_to_body(parts)


def _from_jsonl(path: Path, where: str) -> Iterator[_Draft | ArticleError]:
    for number, line in enumerate(_read_text(path, where).splitlines(), start=1):
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


# ---------------------------------------------------------------- HTML


def _inline_text(element: Any) -> list[str]:
    """The text of an element, split at line breaks, with HTML white space collapsed."""
    pieces = [element.text or ""]
    for child in element:
        if child.tag == "lb":
            pieces.append("\n")
        else:
            pieces.append("\n".join(_inline_text(child)))
        pieces.append(child.tail or "")
    lines = "".join(pieces).split("\n")
    return [t for t in (_SPACE_RE.sub(" ", line).strip() for line in lines) if t]


def _xml_blocks(element: Any) -> Iterator[str]:
    """Paragraphs and ``## `` headings from trafilatura's XML body."""
    for child in element:
        tag = child.tag
        if tag == "head":
            text = " ".join(_inline_text(child))
            if text:
                yield f"## {text}"
        elif tag == "table":
            for row in child.iter("row"):
                cells = [" ".join(_inline_text(cell)) for cell in row.iter("cell")]
                if any(cells):
                    yield " | ".join(c for c in cells if c)
        elif tag in ("list", "quote", "div") or (tag == "item" and child.find("list") is not None):
            yield from _xml_blocks(child)
            if tag == "item" or (child.text or "").strip():
                yield from _inline_text(_shallow(child))
        elif tag != "graphic":
            yield from _inline_text(child)


def _shallow(element: Any) -> Any:
    """A copy of ``element`` without nested block children (for list items holding lists)."""
    from copy import deepcopy

    copy = deepcopy(element)
    for nested in list(copy):
        if nested.tag in ("list", "p", "quote", "table"):
            copy.remove(nested)
    return copy


def html_draft(html: str, where: str, *, url: str = "") -> _Draft:
    """Extract the article of an HTML page with trafilatura and clean it."""
    import trafilatura  # lazy: slow to import, only needed for HTML

    doc = trafilatura.bare_extraction(
        html, url=url or None, with_metadata=True, include_formatting=True,
        include_comments=False, include_images=False, include_links=False,
    )
    if doc is None or doc.body is None:
        raise ArticleError(where, "no article text found in the page; save the page text as .txt instead")
    title = (doc.title or "").strip()
    blocks = [b for b in _xml_blocks(doc.body)]
    if blocks and title and blocks[0].removeprefix("## ").casefold() == title.casefold():
        blocks.pop(0)  # the headline, already in the title field
    body, dropped = clean_lines_of_extracted("\n\n".join(blocks), author=doc.author or "")
    fields = {"title": title, "author": (doc.author or "").strip(), "published": doc.date or "",
              "text": body, "source": (doc.sitename or doc.hostname or "").strip(),
              "url": (doc.url or url or "").strip()}
    return _Draft(where, fields, dropped)


# ---------------------------------------------------------------- URLs


def fetch_url(url: str, *, timeout: float = 20.0, max_bytes: int = 5_000_000) -> tuple[str, str]:
    """Download an HTML page, following redirects only to http(s) and refusing large bodies.

    Args:
        url: an ``http://`` or ``https://`` address.
        timeout: seconds allowed for connecting and for each read.
        max_bytes: the largest body accepted; reading stops as soon as it is exceeded.

    Returns:
        ``(final_url, html)`` after redirects.

    Raises:
        ArticleError: bad scheme, unreachable host, HTTP status >= 400, non-HTML or too large.
    """
    import httpx  # lazy: only needed for URLs

    _check_scheme(url, url)
    current = url
    try:
        with httpx.Client(timeout=timeout, follow_redirects=False, headers={"User-Agent": USER_AGENT}) as client:
            for _ in range(MAX_REDIRECTS + 1):
                with client.stream("GET", current) as response:
                    if response.is_redirect and "location" in response.headers:
                        current = str(response.url.join(response.headers["location"]))
                        _check_scheme(current, url, redirect=True)
                        continue
                    return current, _read_page(response, url, max_bytes)
    except httpx.TimeoutException:
        raise ArticleError(url, f"timed out after {timeout:g} s; try again later or save the page as .html") from None
    except httpx.HTTPError as exc:
        raise ArticleError(url, f"cannot reach the URL ({type(exc).__name__}: {exc}); check the address "
                                "and your connection, or save the page as .html") from None
    raise ArticleError(url, f"more than {MAX_REDIRECTS} redirects; open it in a browser and save the page as .html")


def _check_scheme(target: str, where: str, *, redirect: bool = False) -> None:
    match = _URL_SCHEME_RE.match(target)
    scheme = match.group(1).lower() if match else ""
    if scheme not in ("http", "https"):
        via = f"redirects to {target!r}, which is" if redirect else "is"
        raise ArticleError(where, f"{via} not an http(s) URL; only http:// and https:// pages can be fetched")


def _read_page(response: Any, where: str, max_bytes: int) -> str:
    if response.status_code >= 400:
        raise ArticleError(where, f"HTTP {response.status_code} {response.reason_phrase}; check the URL, "
                                  "or save the page from your browser and add the .html file")
    kind = response.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind and kind not in _HTML_TYPES:
        raise ArticleError(where, f"content type {kind!r} is not an HTML page; give the address of the article page")
    too_big = ArticleError(where, f"the page is larger than {max_bytes:,} bytes; refusing to download it")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise too_big
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise too_big
        chunks.append(chunk)
    data = b"".join(chunks)
    encoding = response.charset_encoding
    if not encoding:
        declared_meta = _META_CHARSET_RE.search(data[:4096])
        encoding = declared_meta.group(1).decode("ascii") if declared_meta else response.encoding or "utf-8"
    try:
        return data.decode(encoding, errors="replace")
    except LookupError:
        return data.decode("utf-8", errors="replace")
