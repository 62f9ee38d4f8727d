"""The time words of a question ("this week", "yesterday", "in March", "recently") as a window of
published dates, anchored at the date the question is asked on (``as_of``).

A news question's time words say which story it means: "Which team won the Super Bowl this
week?" asked on 16 February 2023 means the articles of 9–16 February, not last year's final. The
window is a preference, not a filter: the bot answers from the articles inside it when one of them
answers, and from all of them otherwise (``QABot.ask``). A question without time words gets no
window. Rules over a closed list of expressions, because each must become a range of dates (a
date parser gives one point in time, and reads "may" or "now" in any sentence as a date); the
expressions and how far back each reaches are listed below, and the reaches were chosen on the
fitting quarter of RealTime QA (``tools/studies/time_windows.py``).
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

# How far before ``as_of`` "this week" and "recently" reach, in days; a window also reaches a day
# past its end, for stories published the morning after the event (and time zones).
WEEK_DAYS = 7
RECENT_DAYS = 14
LATE_DAYS = 1

_MONTHS = {name.lower(): i for i, name in enumerate(calendar.month_name) if name}
_MONTHS.update({name.lower(): i for i, name in enumerate(calendar.month_abbr) if name})
_MONTHS["sept"] = 9
_MONTH = "(" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_YEAR = r"((?:19|20)\d\d)"
_WEEKDAY = r"(?:(?:mon|tues|wednes|thurs|fri|satur|sun)day,?\s+)?"
_DAY = r"(\d{1,2})(?:st|nd|rd|th)?"
_AND_YEAR = r"(?:,?\s+" + _YEAR + r")?\b"


@dataclass(frozen=True)
class TimeWindow:
    """Published dates from ``start`` to ``end`` (inclusive), named by ``expression`` in the question."""

    expression: str
    start: dt.date
    end: dt.date
    span: tuple[int, int] = (0, 0)  # where the expression stands in the question
    # Relative to the date asked ("this week", "recently"): words no article holds for what they
    # mean, so no search keeps them; an absolute one ("in 1995") is searched for when the window fails.
    relative: bool = True

    def strip(self, question: str) -> str:
        """The question without its time words, which the window now carries: "Who won the final
        this week?" is searched as "Who won the final?" (a word such as "week" that no sentence
        holds would otherwise count against every answer)."""
        a, b = self.span
        rest = question[:a].rstrip() + " " + question[b:].lstrip()
        rest = re.sub(r"\s+([?.!,;:])", r"\1", rest).strip().lstrip(",;: ")
        return rest if re.search(r"\w", rest) else question

    def to_dict(self) -> dict[str, Any]:
        return {"expression": self.expression, "from": self.start.isoformat(), "to": self.end.isoformat()}

    def describe(self) -> str:
        """'“this week”: published 2023-02-09 to 2023-02-17'."""
        return f"“{self.expression}”: published {self.start.isoformat()} to {self.end.isoformat()}"


def as_date(value: dt.date | str | None) -> dt.date:
    """``value`` as a date: a date, an ISO string (YYYY-MM-DD), or None for today.

    Raises:
        ValueError: a string that is not an ISO date.
    """
    if value is None:
        return dt.date.today()
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip()[:10])
    except ValueError:
        raise ValueError(f"{value!r} is not a date: give it as YYYY-MM-DD, e.g. 2023-02-16") from None


def _month_end(year: int, month: int) -> dt.date:
    return dt.date(year, month, calendar.monthrange(year, month)[1])


def _back(as_of: dt.date, days: int) -> tuple[dt.date, dt.date]:
    return as_of - dt.timedelta(days=days), as_of


def _this_month(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    return as_of.replace(day=1), as_of


def _last_month(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    end = as_of.replace(day=1) - dt.timedelta(days=1)
    return end.replace(day=1), end


def _last_week(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    # The calendar week before this one (Monday to Sunday).
    monday = as_of - dt.timedelta(days=as_of.weekday() + 7)
    return monday, monday + dt.timedelta(days=6)


def _named_month(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    month = _MONTHS[m.group(1).lower()]
    year = int(m.group(2)) if m.group(2) else (as_of.year if month <= as_of.month else as_of.year - 1)
    return dt.date(year, month, 1), _month_end(year, month)


def _named_day(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date] | None:
    groups = [g for g in m.groups() if g]
    month = next(_MONTHS[g.lower()] for g in groups if g.lower() in _MONTHS)
    day = next(int(g) for g in groups if g.isdigit() and len(g) <= 2)
    year = next((int(g) for g in groups if g.isdigit() and len(g) == 4), None)
    if year is None:
        year = as_of.year if (month, day) <= (as_of.month, as_of.day) else as_of.year - 1
    try:
        date = dt.date(year, month, day)
    except ValueError:  # "on February 30"
        return None
    return date, date


def _year(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    year = int(m.group(1))
    return dt.date(year, 1, 1), dt.date(year, 12, 31)


def _this_year(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(as_of.year, 1, 1), as_of


def _last_year(m: re.Match, as_of: dt.date) -> tuple[dt.date, dt.date]:
    return dt.date(as_of.year - 1, 1, 1), dt.date(as_of.year - 1, 12, 31)


# (pattern, window); the first that matches names the window, so the nearer, more precise
# expressions come first ("this week" in "a 2024 run announced this week" wins over "2024").
_RULES = [
    (r"\b(?:today|tonight|this morning|this afternoon|this evening)\b", lambda m, d: _back(d, 0)),
    (r"\byesterday\b", lambda m, d: _back(d, 1)),
    (r"\bon\s+" + _WEEKDAY + _MONTH + r"\s+" + _DAY + _AND_YEAR, _named_day),
    (r"\bon\s+(?:the\s+)?" + _WEEKDAY + _DAY + r"\s+(?:of\s+)?" + _MONTH + _AND_YEAR, _named_day),
    (r"\b(?:this|the past|this past|over the)\s+(?:week|weekend)\b|\bpast (?:few|several) days\b|\bthis week's\b",
     lambda m, d: _back(d, WEEK_DAYS)),
    (r"\blast\s+(?:week|weekend)\b", _last_week),
    (r"\bthis month\b|\bthis month's\b", _this_month),
    (r"\blast month\b", _last_month),
    (r"\b(?:recently|recent|lately|latest|newest|most recent)\b", lambda m, d: _back(d, RECENT_DAYS)),
    (r"\bin\s+" + _MONTH + r"(?:\s+" + _YEAR + r")?\b", _named_month),
    (r"\bthis year\b|\bthis year's\b", _this_year),
    (r"\blast year\b", _last_year),
    (r"\bin\s+" + _YEAR + r"\b", _year),
]
_COMPILED = [(re.compile(p, re.IGNORECASE), f) for p, f in _RULES]
_ABSOLUTE = (_named_day, _named_month, _year)


def time_window(question: str, as_of: dt.date | str | None = None) -> TimeWindow | None:
    """The window of published dates the question's time words name, anchored at ``as_of``
    (default today), or None when it has none.

    >>> window = time_window("Who won the Super Bowl this week?", "2023-02-16")
    >>> window.to_dict(), window.strip("Who won the Super Bowl this week?")
    ({'expression': 'this week', 'from': '2023-02-09', 'to': '2023-02-17'}, 'Who won the Super Bowl?')
    >>> time_window("Who founded the BLA?", "2023-02-16") is None
    True
    """
    anchor = as_date(as_of)
    for pattern, window in _COMPILED:
        for m in pattern.finditer(question):
            span = window(m, anchor)
            if span is None:
                continue
            start, end = span
            return TimeWindow(m.group(0).strip(), start, end + dt.timedelta(days=LATE_DAYS), m.span(),
                              window not in _ABSOLUTE)
    return None
