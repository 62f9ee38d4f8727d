"""Split an article body into sentences (with character offsets) and overlapping passages.

The body format is the corpus one: paragraphs separated by blank lines, section headings as
Markdown ``#`` lines. Sentences never cross a paragraph; passages never cross a section, and each
passage carries the heading of the section it sits in, so a heading such as "What does the BLA
want?" travels with the paragraph it introduces. Sentence boundaries come from blingfire, a
compiled, rule-and-model sentence breaker that returns character offsets.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import blingfire

_HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.*?)[ \t#]*$")
# A sentence longer than this is cut at a space so quotes stay readable and embeddings see it all.
MAX_SENTENCE_CHARS = 800


@dataclass(frozen=True)
class ChunkParams:
    """How passages are cut; recorded in the index manifest (changing it re-embeds everything)."""

    max_sentences: int = 4
    overlap: int = 2
    max_chars: int = 1000

    def __post_init__(self) -> None:
        if self.max_sentences < 1:
            raise ValueError(f"max_sentences must be at least 1, got {self.max_sentences}")
        if not 0 <= self.overlap < self.max_sentences:
            raise ValueError(
                f"overlap must be between 0 and max_sentences - 1 ({self.max_sentences - 1}), got {self.overlap}"
            )


@dataclass(frozen=True)
class Chunks:
    """Sentences and passages of one article, with article-local indices.

    ``sentences[i] = (start, end, paragraph)``: ``text[start:end]`` is sentence i and
    ``paragraph`` numbers the paragraph it stands in. ``passages[j] = (first, last, hstart,
    hend)``: sentences ``first..last-1`` under the heading ``text[hstart:hend]`` (-1, -1 if none).
    ``paragraphs[k] = (start, end)`` spans paragraph k.
    """

    sentences: list[tuple[int, int, int]]
    passages: list[tuple[int, int, int, int]]
    paragraphs: list[tuple[int, int]]


@dataclass(frozen=True)
class _Block:
    start: int
    end: int
    heading: tuple[int, int] | None  # set when the block is a heading line


def _blocks(text: str) -> list[_Block]:
    """Headings and paragraphs (runs of non-blank lines) with their spans in ``text``."""
    blocks: list[_Block] = []
    para_start = para_end = -1
    pos = 0
    for line in text.splitlines(keepends=True):
        stripped = line.strip()
        line_start, line_end = pos, pos + len(line.rstrip("\r\n"))
        pos += len(line)
        heading = _HEADING_RE.match(line.rstrip("\r\n")) if stripped else None
        if not stripped or heading:
            if para_start >= 0:
                blocks.append(_Block(para_start, para_end, None))
                para_start = -1
            if heading:
                hstart = line_start + heading.start(2)
                blocks.append(_Block(line_start, line_end, (hstart, line_start + heading.end(2))))
            continue
        if para_start < 0:
            para_start = line_start + (len(line) - len(line.lstrip()))
        para_end = line_start + len(line.rstrip())
    if para_start >= 0:
        blocks.append(_Block(para_start, para_end, None))
    return blocks


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` as offsets into ``text``, trimmed of white space."""
    end = len(text) if end is None else end
    piece = text[start:end]
    if not piece.strip():
        return []
    _, offsets = blingfire.text_to_sentences_and_offsets(piece)
    spans: list[tuple[int, int]] = []
    for a, b in offsets:
        a, b = _trim(piece, a, b)
        if a < b:
            spans.extend(_cap_length(piece, a, b))
    return [(start + a, start + b) for a, b in spans]


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    while a < b and text[a].isspace():
        a += 1
    while b > a and text[b - 1].isspace():
        b -= 1
    return a, b


def _cap_length(text: str, a: int, b: int) -> list[tuple[int, int]]:
    """Cut an over-long span at white space into pieces of at most MAX_SENTENCE_CHARS."""
    spans = []
    while b - a > MAX_SENTENCE_CHARS:
        cut = text.rfind(" ", a + 1, a + MAX_SENTENCE_CHARS)
        if cut <= a:
            cut = a + MAX_SENTENCE_CHARS
        spans.append(_trim(text, a, cut))
        a, _ = _trim(text, cut, b)
    spans.append((a, b))
    return [s for s in spans if s[0] < s[1]]


def chunk_text(text: str, params: ChunkParams = ChunkParams()) -> Chunks:
    """Cut an article body into sentences and passages; see Chunks."""
    sentences: list[tuple[int, int, int]] = []
    passages: list[tuple[int, int, int, int]] = []
    paragraphs: list[tuple[int, int]] = []
    heading = (-1, -1)
    section_first = 0

    def close_section() -> None:
        passages.extend(
            (first, last, *heading) for first, last in windows(sentences, section_first, params)
        )

    for block in _blocks(text):
        if block.heading is not None:
            close_section()
            heading, section_first = block.heading, len(sentences)
            continue
        for a, b in split_sentences(text, block.start, block.end):
            sentences.append((a, b, len(paragraphs)))
        paragraphs.append((block.start, block.end))
    close_section()
    return Chunks(sentences, passages, paragraphs)


def windows(
    sentences: list[tuple[int, int, int]], first: int, params: ChunkParams
) -> list[tuple[int, int]]:
    """Overlapping windows over ``sentences[first:]``: at most max_sentences and max_chars each."""
    n = len(sentences)
    out: list[tuple[int, int]] = []
    i = first
    while i < n:
        j = i + 1
        while (
            j < n
            and j - i < params.max_sentences
            and sentences[j][1] - sentences[i][0] <= params.max_chars
        ):
            j += 1
        out.append((i, j))
        if j >= n:
            break
        i = max(i + 1, j - params.overlap)
        # Start late enough that the next window reaches sentence j: a window that ended where
        # the last one did would only repeat part of it.
        while i < j and sentences[j][1] - sentences[i][0] > params.max_chars:
            i += 1
    return out
