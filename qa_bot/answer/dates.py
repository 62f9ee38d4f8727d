"""Relative dates inside a quote ("on Sunday", "yesterday", "last night") resolved against the
article's published date, to be shown beside the verbatim text: "Sunday [12 June 2022]".

News is written relative to its day: a story of Wednesday 15 June 2022 that says "on Sunday"
means 12 June, and a reader who meets the quote months later cannot tell. Only expressions that
name one day are resolved (a weekday, "yesterday", "today", "tonight", "tomorrow", "last night",
"this morning"), and only against a published date: a week or a month is left as written. A
weekday means the latest such day up to the published date ("on Sunday" in a Sunday story is that
day), or, after "next" or "this coming", the first one after it. The quote's text is never
changed; the dates go beside it (``Quote.dates``).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Sequence

from ..records import QuoteDate

_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_RELATIVE = re.compile(
    r"\b(?:(?P<pre>last|this past|this coming|next|on|this)\s+)?(?P<weekday>" + "|".join(_WEEKDAYS) + r")\b"
    r"|\b(?P<day>yesterday|today|tonight|tomorrow|last night|this morning|this afternoon|this evening|earlier today)\b",
    re.IGNORECASE,
)
_SHIFT = {"yesterday": -1, "last night": -1, "tomorrow": 1}
# Named days that are not relative dates: "Super Tuesday", "Black Friday", "Bloody Sunday".
_NAMED = re.compile(r"\b(?:super|black|good|bloody|cyber|ash|easter|palm|holy|maundy|fat|giving|small business)\s+$",
                    re.IGNORECASE)


def resolve_dates(text: str, published: str) -> list[QuoteDate]:
    """The day-precise relative dates in ``text`` (a quote) and the days they name, for an
    article published on ``published`` (YYYY-MM-DD...; none without it).

    >>> [(d.text, d.date) for d in resolve_dates("The attack on Sunday was claimed yesterday.", "2022-06-15")]
    [('Sunday', '2022-06-12'), ('yesterday', '2022-06-14')]
    """
    try:
        anchor = dt.date.fromisoformat(published[:10])
    except ValueError:
        return []
    found = []
    for m in _RELATIVE.finditer(text):
        if m.group("weekday"):
            if _NAMED.search(text[: m.start()]) or m.group("weekday")[0].islower():
                continue  # a named day, or not a day's name at all
            weekday = _WEEKDAYS.index(m.group("weekday").lower())
            pre = " ".join((m.group("pre") or "").lower().split())
            if pre in ("next", "this coming"):
                day = anchor + dt.timedelta(days=(weekday - anchor.weekday() - 1) % 7 + 1)
            elif pre == "last":
                day = anchor - dt.timedelta(days=(anchor.weekday() - weekday - 1) % 7 + 1)
            else:
                day = anchor - dt.timedelta(days=(anchor.weekday() - weekday) % 7)
            start = m.start("weekday") if pre in ("on", "") else m.start()
            words = text[start : m.end()]
        else:
            words = m.group("day")
            day = anchor + dt.timedelta(days=_SHIFT.get(words.lower(), 0))
            start = m.start("day")
        found.append(QuoteDate(words, day.isoformat(), start, start + len(words)))
    return found


def day_words(date: str) -> str:
    """'12 June 2022' for '2022-06-12'."""
    day = dt.date.fromisoformat(date)
    return f"{day.day} {day.strftime('%B')} {day.year}"


def annotate(text: str, dates: Sequence[QuoteDate], *, piece: Callable[[str], str] = str,
             mark: Callable[[str], str] = lambda words: f" [{words}]") -> str:
    """``text`` with each resolved day after its words, as an editor's insertion: "on Sunday [12
    June 2022]". ``piece`` formats the quote's own text (e.g. escapes it), ``mark`` the day."""
    out, at = [], 0
    for d in sorted(dates, key=lambda d: d.start):
        out += [piece(text[at : d.end]), mark(day_words(d.date))]
        at = d.end
    return "".join(out) + piece(text[at:])
