"""One story, many outlets: where else a quote stands word for word, and which copy to cite.

The build groups near-duplicate articles (``indexing.copies``). A quote from one of them is
"also in" each other member that holds its exact text, and is cited from the newest of those
(the latest edition of a story, the wire copy's latest carrier) unless the question asks for the
first report ("originally", "first reported", "initially"). A member the answer may not quote
(outside the reader's filter or the question's time window) is neither cited nor listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..records import ArticleFilter, Citation
from ..store.data import IndexData

_EARLIEST = re.compile(r"\b(?:originally|initially|at first|first (?:reported|announced|said)|earliest)\b", re.I)


def wants_earliest(question: str) -> bool:
    """True if the question asks for the first report of something rather than the latest."""
    return bool(_EARLIEST.search(question))


@dataclass(frozen=True)
class Placed:
    """Where a quote is cited from: sentences ``lo``..``hi`` (of the chosen copy) and the other
    copies that hold the same words, newest first."""

    lo: int
    hi: int
    also_in: tuple[Citation, ...]


def place(data: IndexData, lo: int, hi: int, where: ArticleFilter | None, earliest: bool = False) -> Placed:
    """Sentences ``lo``..``hi`` of one article, cited from the newest (or, with ``earliest``, the
    oldest) copy that holds their exact text, with the other holders as ``also_in``."""
    pos = int(data.sentences["article"][lo])
    members = data.copies_of(pos)
    if not members:
        return Placed(lo, hi, ())
    start, end = int(data.sentences["start"][lo]), int(data.sentences["end"][hi])
    text = data.articles[pos].text[start:end]
    holders: list[tuple[int, int]] = [(pos, start)]  # (article position, where the text starts in it)
    for m in members:
        article = data.articles[m]
        if where is not None and not where.matches(article):
            continue
        at = article.text.find(text)
        if at >= 0:
            holders.append((m, at))
    if len(holders) == 1:
        return Placed(lo, hi, ())
    # Newest (or oldest) first, copies without a date last; a tie keeps the article the quote was
    # found in first (Python's sort is stable).
    day = [data.articles[m].published[:10] for m, _ in holders]
    dated = sorted((h for h, d in zip(holders, day) if d), key=lambda h: data.articles[h[0]].published[:10],
                   reverse=not earliest)
    holders = dated + [h for h, d in zip(holders, day) if not d]
    for m, at in holders:
        rows = _sentences_at(data, m, at, at + len(text))
        if rows is not None:
            chosen = m
            lo, hi = rows
            break
    else:  # no holder's sentences start and end where the quote does: cite it where it was found
        chosen = pos
    also = sorted((data.articles[m].citation() for m, _ in holders if m != chosen),
                  key=lambda c: c.published[:10], reverse=True)
    return Placed(lo, hi, tuple(also))


def _sentences_at(data: IndexData, pos: int, start: int, end: int) -> tuple[int, int] | None:
    """The first and last sentence of article ``pos`` that begin at ``start`` and end at ``end``, if
    its sentences are cut there."""
    run = data.article_sentences(pos)
    starts = data.sentences["start"][run.start : run.stop]
    ends = data.sentences["end"][run.start : run.stop]
    first = np.flatnonzero(starts == start)
    last = np.flatnonzero(ends == end)
    if not len(first) or not len(last) or last[0] < first[0]:
        return None
    return run.start + int(first[0]), run.start + int(last[0])
