"""Cleaning text pasted from a news web page into a corpus body (pure functions, no I/O).

The body format produced here is what the rest of the pipeline parses: paragraphs separated by
exactly one blank line, each paragraph on one line, section headings as ``## Heading`` blocks, no
leading or trailing blank lines. Paragraph text is otherwise kept verbatim, because quotes are
later copied from it character for character.

Every line that is removed is reported as a :class:`Dropped` with a short reason, so a curator
can see what went and why. The patterns live in the tables of ``clutter`` (``CLUTTER_RULES``,
``TAIL_RULES``); add to them rather than to the code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from ..errors import ArticleError
from .clutter import (
    BYLINE,
    BYLINE_RE,
    CAPTION,
    CAPTION_LABEL_RE,
    CLUTTER_RULES,
    CONNECTORS,
    DATE_MARKER_RE,
    DATE_RE,
    STAMP,
    TAIL_RULES,
    Rule,
)
from .files import normalise_date

_DISPLAY_CHARS = 80
_HEADING_MAX_WORDS = 12
_HEADING_MAX_CHARS = 120
_PROSE_MIN_WORDS = 8  # a kept line this long (or ending a sentence) means the article has begun
_WRAP_MIN_CHARS = 50  # a line cut this long without final punctuation was hard-wrapped


@dataclass(frozen=True)
class Dropped:
    """A piece of the input that was removed.

    Attributes:
        line: 1-based line number in the input, None when not applicable (e.g. HTML).
        text: the dropped text, shortened to about 80 characters for display.
        reason: a short human label such as ``"advertisement"`` or ``"byline"``.
    """

    line: int | None
    text: str
    reason: str


@dataclass(frozen=True)
class Cleaned:
    """The result of :func:`clean_pasted`; empty strings mean "not found"."""

    title: str
    author: str
    published: str
    body: str
    dropped: list[Dropped] = field(default_factory=list)


_SENTENCE_END = tuple('.!?;:…"”’)')
_HEADING_BAD_END = tuple(".!,;:…")
_QUOTE_START = tuple("\"'“‘«(")
_LIST_ITEM_RE = re.compile(r"^(?:[-*•]\s|\d+[.)]\s)")
_MD_HEADING_RE = re.compile(r"^#{1,6}\s+(\S.*?)\s*#*$")


def _shorten(text: str) -> str:
    return text if len(text) <= _DISPLAY_CHARS else text[: _DISPLAY_CHARS - 3].rstrip() + "..."


def _match(rules: Iterable[Rule], line: str) -> str | None:
    """The reason of the first rule matching ``line``, or None."""
    words = len(line.split())
    for rule in rules:
        if words <= rule.max_words and rule.pattern.search(line):
            return rule.reason.replace("{line}", line)
    return None


def _find_date(line: str) -> str:
    """An ISO date found in a stamp such as ``"Updated: Feb 1, 2026 07:37 PM IST"``, else ""."""
    match = DATE_RE.search(line)
    if not match:
        return ""
    value = re.sub(r"(\d)(?:st|nd|rd|th)\b", r"\1", match.group(0))
    try:
        return normalise_date(value, "")
    except ArticleError:
        return ""


def _byline_author(line: str) -> str:
    """The name in a byline (``"By: Jane Roe"`` -> ``"Jane Roe"``), or "" if it is not one."""
    match = BYLINE_RE.match(line)
    if not match:
        return ""
    name = match.group("author").strip()
    words = name.replace(",", " ").split()
    if not words or len(words) > 8 or name.endswith(".") or any(ch.isdigit() for ch in name):
        return ""
    if all(w[0].isupper() or w.lower() in CONNECTORS for w in words):
        return name
    return ""


def _is_prose(line: str) -> bool:
    return len(line.split()) >= _PROSE_MIN_WORDS or line.endswith(_SENTENCE_END)


class _Filter:
    """Decides line by line what is clutter, and where the trailing part of the page begins."""

    def __init__(self, author: str = "") -> None:
        self.author = author
        self.published = ""
        self.body_started = False
        self.tail_reason: str | None = None
        self.caption_next = False  # after a bare "Image caption," label

    def _tail_marker(self, line: str) -> str | None:
        reason = _match(TAIL_RULES, line)
        if reason is None and self.author and line.casefold() == self.author.casefold():
            reason = "author bio"
        return reason

    def check(self, line: str, *, heading: bool = False) -> str | None:
        """Return the reason to drop ``line`` (stripped, non-empty), or None to keep it."""
        if self.tail_reason is None and self.body_started:
            self.tail_reason = self._tail_marker(line)
            if self.tail_reason is not None:
                return self.tail_reason
        if self.tail_reason is not None:
            marker = self._tail_marker(line)
            if marker is not None:
                self.tail_reason = marker  # a new trailing section, e.g. "Must Read"
            return marker or _match(CLUTTER_RULES, line) or self.tail_reason
        if self.caption_next:
            self.caption_next = False
            return CAPTION
        author = _byline_author(line)
        if author:
            self.author = self.author or author
            self.published = self.published or _find_date(line)
            return BYLINE
        reason = _match(CLUTTER_RULES, line) or _match(TAIL_RULES, line)
        if reason == STAMP:
            self.published = self.published or _find_date(line)
        self.caption_next = reason == CAPTION and bool(CAPTION_LABEL_RE.match(line))
        if reason is None and not heading and _is_prose(line):
            self.body_started = True
        return reason


def _looks_like_heading(text: str) -> bool:
    if text.startswith("## "):
        return True
    words = text.split()
    return (
        0 < len(words) <= _HEADING_MAX_WORDS
        and len(text) <= _HEADING_MAX_CHARS
        and not text.endswith(_HEADING_BAD_END)
        and not text.startswith(_QUOTE_START)
        and not text.endswith(("\"", "”", "'", "’", ")"))
        and (text[0].isupper() or text[0].isdigit())
        and not _LIST_ITEM_RE.match(text)
    )


def _joins(previous: str, line: str) -> bool:
    """True when ``line`` continues the hard-wrapped paragraph ending in ``previous``."""
    if previous.endswith(_SENTENCE_END) or _MD_HEADING_RE.match(previous) or previous.startswith("## "):
        return False
    if _LIST_ITEM_RE.match(line) or _MD_HEADING_RE.match(line):
        return False
    return line[0].islower() or len(previous) >= _WRAP_MIN_CHARS


@dataclass
class _Block:
    """A paragraph candidate: first input line, text, and whether a blank line came before it."""

    line: int
    text: str
    alone: bool


def _mark_headings(blocks: list[_Block]) -> list[str]:
    """Turn short lines standing alone between two paragraphs into ``## `` headings."""
    out: list[str] = []
    for i, block in enumerate(blocks):
        md = _MD_HEADING_RE.match(block.text)
        if md and i < len(blocks) - 1:
            out.append(f"## {md.group(1)}")
        elif md:
            out.append(md.group(1))  # a heading with nothing under it: keep its words as text
        elif (
            0 < i < len(blocks) - 1
            and block.alone
            and _looks_like_heading(block.text)
            and not _looks_like_heading(blocks[i + 1].text)
            and not _MD_HEADING_RE.match(blocks[i + 1].text)
        ):
            out.append(f"## {block.text}")
        else:
            out.append(block.text)
    return out


def clean_pasted(text: str) -> Cleaned:
    """Clean the text of a news page pasted from a browser.

    Paragraphs are separated by blank lines and wrapped lines are joined; a page pasted without
    any blank line is read as one paragraph a line.

    Args:
        text: the pasted page; the first non-empty line is the title, optionally prefixed with
            ``date YYYY-MM-DD``.

    Returns:
        The title, author (from a byline), published date (ISO or ""), the cleaned body in the
        corpus body format, and every dropped line with its reason.
    """
    lines = text.replace("\ufeff", "").splitlines()
    content = [i for i, line in enumerate(lines) if line.strip()]
    if not content:
        return Cleaned("", "", "", "", [])
    first = content[0]
    dropped: list[Dropped] = []
    title = lines[first].strip()
    published = ""
    marker = DATE_MARKER_RE.match(title)
    if marker:
        published = _find_date(marker.group(1))
        dropped.append(Dropped(first + 1, marker.group(0).strip(), "date marker"))
        title = title[marker.end():].strip()

    spaced = len(content) > 1 and content[-1] - content[1] + 1 > len(content) - 1  # blank lines in the body
    filt = _Filter()
    blocks: list[_Block] = []
    after_blank = True
    for number, raw in enumerate(lines[first + 1:], start=first + 2):
        line = raw.strip()
        if not line:
            after_blank = True
            continue
        heading = _MD_HEADING_RE.match(line)
        reason = filt.check(heading.group(1) if heading else line, heading=bool(heading))
        if reason is not None:
            dropped.append(Dropped(number, _shorten(line), reason))
            continue  # dropped lines are transparent: a paragraph may continue after an ad
        if blocks and spaced and not after_blank and _joins(blocks[-1].text, line):
            blocks[-1].text = f"{blocks[-1].text} {line}"
        else:
            blocks.append(_Block(number, line, after_blank or not spaced))
        after_blank = False
    if blocks and title and blocks[0].text.casefold() == title.casefold():
        dropped.append(Dropped(blocks[0].line, _shorten(blocks.pop(0).text), "repeated headline"))
    body = "\n\n".join(_mark_headings(blocks))
    return Cleaned(title, filt.author, published or filt.published, body, dropped)


_WEEKDAY_DATELINE = re.compile(
    r"^(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday),\s+[A-Z][a-z]+\s+\d{1,2},\s+\d{4}\b\s*")
_PHOTO_CREDIT = re.compile(r"\b[Ii]mage:\s*[A-Z][^.\n]{0,79}\.?\s*$")  # "... Image: NASA." (a name: capitalised)


def drop_furniture(title: str, text: str) -> tuple[str, list[Dropped]]:
    """``text`` (paragraphs) without what a site's text around an article often keeps: a first
    paragraph repeating the headline (alone or with its dateline), a dateline alone or opening the
    first paragraph ("Thursday, March 15, 2012 Wikinews interviewed ..."), and photo captions that
    end with their credit ("... Image: NASA."). Each is reported as dropped."""
    paragraphs = text.split("\n\n")
    dropped: list[Dropped] = []
    wanted = " ".join(title.split()).casefold()
    kept = []
    for number, paragraph in enumerate(paragraphs, start=1):
        flat = " ".join(paragraph.split())
        early = not kept  # nothing of the article kept yet: headline and dateline stand here
        if early and wanted and flat.casefold().startswith(wanted) and _is_date(flat[len(wanted):]):
            dropped.append(Dropped(number, _shorten(paragraph), "repeated headline"))
        elif early and _is_date(flat) and flat.strip(" ,.-–—|"):
            dropped.append(Dropped(number, _shorten(paragraph), "dateline"))
        elif _PHOTO_CREDIT.search(flat) and len(paragraphs) > 1:
            dropped.append(Dropped(number, _shorten(paragraph), "photo caption"))
        elif early and (line := _WEEKDAY_DATELINE.match(flat)) and flat[line.end():]:
            dropped.append(Dropped(number, _shorten(line.group()), "dateline"))
            kept.append(flat[line.end():])
        else:
            kept.append(paragraph)
    if not kept:  # never drop a whole article
        return text, []
    return "\n\n".join(kept), dropped


def _is_date(text: str) -> bool:
    """True for "" and for a date alone ("Tuesday, September 1, 2015")."""
    text = text.strip(" ,.-–—|")
    if not text:
        return True
    if len(text) > 40:
        return False
    try:
        normalise_date(text, "")
    except ArticleError:
        return False
    return True


def clean_lines_of_extracted(text: str, *, author: str = "") -> tuple[str, list[Dropped]]:
    """Apply the line-level clutter and tail rules to text already extracted from HTML.

    Args:
        text: blocks separated by blank lines, headings already marked as ``## `` lines.
        author: the page's author, whose stand-alone name starts the author bio.

    Returns:
        The body in the corpus body format, and the dropped blocks (``line`` is None).
    """
    filt = _Filter(author)
    dropped: list[Dropped] = []
    blocks: list[str] = []
    for raw in re.split(r"\n[ \t]*\n", text.replace("\r\n", "\n")):
        block = " ".join(part.strip() for part in raw.split("\n") if part.strip())
        if not block:
            continue
        heading = _MD_HEADING_RE.match(block)
        content = heading.group(1) if heading else block
        reason = filt.check(content, heading=bool(heading))
        if reason is not None:
            dropped.append(Dropped(None, _shorten(block), reason))
        else:
            blocks.append(f"## {content}" if heading else block)
    while blocks and blocks[-1].startswith("## "):
        dropped.append(Dropped(None, _shorten(blocks.pop()), "heading without text"))
    return "\n\n".join(blocks), dropped


def paragraphs_to_body(paragraphs: Iterable[str]) -> str:
    """Join already clean paragraphs (``## `` headings allowed) in the corpus body format."""
    out = []
    for paragraph in paragraphs:
        text = " ".join(part.strip() for part in paragraph.splitlines() if part.strip())
        if text:
            heading = _MD_HEADING_RE.match(text)
            out.append(f"## {heading.group(1)}" if heading else text)
    return "\n\n".join(out)
