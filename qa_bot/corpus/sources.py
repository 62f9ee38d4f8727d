"""Reading each kind of source into a draft article: text pasted from a web page (.txt/.md), a
saved page (.html), a page fetched by URL, or a .jsonl file of articles.

A draft is the article's fields as the source gives them, its cleaned body, and what cleaning
removed; ``ingest`` applies the caller's overrides, checks the fields and assigns ids. Every
problem is an ``ArticleError`` naming the file, URL or ``file.jsonl:LINE``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ArticleError
from .clean import Dropped, clean_lines_of_extracted, clean_pasted, drop_furniture, paragraphs_to_body
from .fetch import MAX_PAGE_BYTES, META_CHARSET_RE, URL_SCHEME_RE, check_scheme

_BLOCK_TAGS = frozenset({"p", "head", "list", "item", "quote", "table", "div", "code", "graphic"})
_SPACE_RE = re.compile(r"[ \t\r\n\f\v]+")  # HTML white space; keeps no-break spaces verbatim

Fetcher = Callable[[str], tuple[str, str]]
"""``fetch(url) -> (final_url, html)``; ``fetch.fetch_url`` by default."""

# A .jsonl file holds many articles, so it may be larger than one page (MAX_PAGE_BYTES).
MAX_JSONL_BYTES = 200_000_000
# C0 controls other than tab, line feed, vertical tab, form feed and carriage return, and DEL.
CONTROL_RE = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")


@dataclass
class Draft:
    """An article before ids are assigned; ``given_id`` is "" when the id is to be generated."""

    where: str
    fields: dict[str, str]
    dropped: list[Dropped]
    given_id: str = ""
    page_chars: int = 0  # an HTML page's visible text, of which the article is a part (0: not a page)


def check_not_binary(text: str, where: str) -> str:
    """Refuse text that is binary data which happened to decode: a NUL, or control characters
    making up more than 1% of it (a stray one in a real article is removed later)."""
    controls = CONTROL_RE.findall(text)
    if "\x00" in text or len(controls) > max(3, len(text) // 100):
        first = CONTROL_RE.search(text)
        raise ArticleError(
            where, f"looks like binary data, not text ({len(controls):,} control characters, the first "
            f"0x{ord(first.group()):02x} at character {first.start():,}); give the article as a text, HTML or "
            "JSONL file",
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


def _pasted_draft(text: str, where: str) -> Draft:
    cleaned = clean_pasted(text)
    fields = {"title": cleaned.title, "author": cleaned.author, "published": cleaned.published,
              "text": cleaned.body, "source": "", "url": ""}
    return Draft(where, fields, cleaned.dropped)


def _jsonl_text(text: str) -> str:
    """Normalise clean JSONL text: blank-line paragraphs, or one paragraph a line if none."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    parts = re.split(r"\n[ \t]*\n", text) if re.search(r"\n[ \t]*\n", text) else text.split("\n")
    return paragraphs_to_body(parts)


def _jsonl_drafts(content: str, where: str) -> Iterator[Draft | ArticleError]:
    if not content.strip():  # white space that bytes.strip() keeps, such as "\x1c"
        yield ArticleError(where, "holds no article, only blank lines; put one JSON object a line in it")
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
        title = str(record["title"]).strip()
        text, dropped = drop_furniture(title, _jsonl_text(str(record["text"])))
        fields = {
            "title": title,
            "text": text,
            "url": str(record.get("url") or "").strip(),
            "source": str(record.get("source") or "").strip(),
            "author": str(record.get("author") or "").strip(),
            "license": str(record.get("license") or "").strip(),
            "published": record.get("published") or record.get("date") or "",
        }
        yield Draft(here, fields, dropped, given_id="" if given in (None, "") else str(given))


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


def _html_draft(html: str, where: str, *, url: str = "") -> Draft:
    """Extract the article of an HTML page with trafilatura and clean it."""
    import trafilatura  # lazy: slow to import, only needed for HTML

    doc = trafilatura.bare_extraction(
        html, url=url or None, with_metadata=True, include_formatting=True,
        include_comments=False, include_images=False, include_links=False,
        # A date from the page's markup only: a free-text search takes "© 2026" for 1 January 2026.
        date_extraction_params={"extensive_search": False, "original_date": True},
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
    return Draft(where, fields, dropped, page_chars=_visible_chars(html))


def _visible_chars(html: str) -> int:
    """How many characters of text a page shows (scripts, styles and its head left out, white space
    folded): what extraction kept the article from."""
    from lxml import html as lxml_html  # trafilatura's own parser

    try:
        tree = lxml_html.fromstring(html)
        for element in tree.xpath("//script|//style|//noscript|//template|//head"):
            element.drop_tree()
        return len(" ".join(tree.text_content().split()))
    except (ValueError, TypeError, lxml_html.etree.ParserError):
        return 0


_KINDS = {".txt": "pasted", ".md": "pasted", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}
SUPPORTED = (".txt/.md (text pasted from a web page), .html/.htm (saved web page), "
             ".jsonl (one article a line), http(s):// URL")


def _kind_of(source: str) -> str:
    if URL_SCHEME_RE.match(source):
        return "url"
    return _KINDS.get(Path(source).suffix.lower(), "")


def read_drafts(source: str, fetch: Fetcher) -> Iterator[Draft | ArticleError]:
    """The drafts of one source (several for a .jsonl file, whose bad lines come as errors)."""
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
