"""Questions about the present ("What is the current rate?", "the latest figure", "so far"): when
the answer's quotes come from articles of different dates, the newest report comes first and
the older ones are marked as earlier reports, each with its date, so a reader sees how the story
stood and when rather than last month's figure first.

Only the order changes: the quotes are the ones the answerer chose, every one within the
answer's margin of the best (``AnswerConfig.extra_quote_margin``).
"""

from __future__ import annotations

import re
from dataclasses import replace

from ..records import Quote

_PRESENT = re.compile(r"\b(?:current(?:ly)?|latest|now|so far|to date|as of today|most recent|newest|still)\b", re.I)


def wants_latest(question: str) -> bool:
    """True if the question asks how things stand now."""
    return bool(_PRESENT.search(question))


def newest_first(quotes: list[Quote]) -> list[Quote]:
    """``quotes`` newest article first (ties keep their order), those older than the first marked
    ``earlier_report``; unchanged when they share one date or some have none."""
    days = [q.article.published[:10] for q in quotes]
    if len(set(days)) < 2 or not all(days):
        return quotes
    ordered = sorted(quotes, key=lambda q: q.article.published[:10], reverse=True)
    newest = ordered[0].article.published[:10]
    return [replace(q, earlier_report=q.article.published[:10] < newest) for q in ordered]
