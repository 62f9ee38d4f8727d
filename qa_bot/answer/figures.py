"""Conflicting figures: for a "how many / how much" question, the different numbers the best
candidate sentences give for the asked thing, each with who gives it, where and when; shown side
by side and never reduced to one ("17 security personnel, according to the Pakistani military";
"the group's claim that it killed 84").

A figure is a number (digits or a number word) followed, within a few words, by a word of the
thing the question counts ("How many security personnel were killed?" counts "security
personnel"), in a sentence that also holds the question's verb where it has one ("killed"). The
candidates read are the answer's best sentences (within ``MARGIN`` of the best score). Two or more
different figures make a conflict; when they come from articles of different dates and only grow
with the date they are updates of one count ("kind": "updates"), else a dispute. Copies of one
story (``indexing.copies``) are one source: a figure they repeat counts once. The claimant is
the sentence's attribution (``answer.attribution``); "the group's claim that…" names "the group",
read as the organisation the article last named by its acronym.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..records import Attribution, Conflict, FigureClaim
from ..store.data import IndexData
from ..store.lexical import tokenize
from .attribution import attribution_at
from .features import answer_type

MARGIN = 3.0  # candidates this far below the best score may give a figure
READ = 8  # at most this many of the best candidates are read
_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
          "ten": 10, "eleven": 11, "twelve": 12, "dozen": 12, "fifteen": 15, "twenty": 20, "thirty": 30,
          "forty": 40, "fifty": 50, "hundred": 100}
_SCALE = {"thousand": 1_000, "million": 1_000_000, "billion": 1_000_000_000}
_NUMBER = re.compile(r"(?<![\w.,])(\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?|" + "|".join(_WORDS) + r")"
                     r"(?:\s+(" + "|".join(_SCALE) + r"))?(?![\w%])", re.I)
_COUNTED = re.compile(r"\bhow\s+(?:many|much)\s+(?P<thing>[^?]+?)\s+(?:were|was|are|is|have|has|had|did|do|does|will"
                      r"|would|could)\b(?P<rest>[^?]*)", re.I)
_CLAIM = re.compile(r"(?P<who>[\w’'. -]+?)[’']s\s+claims?\s+that\b", re.I)
_ACRONYM = re.compile(r"\b[A-Z]{2,6}\b")
AFTER = 5  # words after the number where the counted thing must stand


@dataclass(frozen=True)
class _Reading:
    thing: set[str]  # stemmed words of the counted thing
    verb: set[str]  # stemmed words of the rest of the question (the verb and what follows)


def _reading(question: str) -> _Reading | None:
    m = _COUNTED.search(question)
    if m is None or answer_type(question) != "number":
        return None
    thing = set(tokenize([m.group("thing")])[0])
    return _Reading(thing, set(tokenize([m.group("rest")])[0])) if thing else None


def _value(m: re.Match) -> float:
    raw = m.group(1).lower().replace(",", "")
    value = float(_WORDS.get(raw, raw))
    return value * _SCALE.get((m.group(2) or "").lower(), 1)


def figures_in(sentence: str, reading: _Reading) -> list[tuple[float, str]]:
    """(value, the number as written) of each figure of the counted thing in ``sentence``."""
    if reading.verb and not reading.verb & set(tokenize([sentence])[0]):
        return []
    found = []
    for m in _NUMBER.finditer(sentence):
        # What the number counts: the words after it, up to a comma, another number or AFTER words.
        if re.match(r"\s+of\b", sentence[m.end():]):
            continue  # "one of the deadliest": not a count of the thing
        after = re.split(r"[,;:.()]|\d", sentence[m.end():], maxsplit=1)[0]
        after = " ".join(after.split()[:AFTER])
        if reading.thing & set(tokenize([after])[0]):
            found.append((_value(m), m.group(0)))
    return found


def _claimant(data: IndexData, s: int, text: str) -> Attribution | None:
    """Who gives sentence ``s``'s figure: its attribution, or the one whose claim it reports."""
    m = _CLAIM.search(text)
    if m:
        who = m.group("who").strip().split(" ")[-2:]
        who = " ".join(who)
        if who.lower() in ("the group", "group"):
            named = _last_acronym(data, s)
            if named:
                return Attribution(named, "claimed")
        elif who[:1].isupper():
            return Attribution(who, "claimed")
    return attribution_at(data, s)


def _last_acronym(data: IndexData, s: int) -> str | None:
    """The acronym the article names last before sentence ``s`` (within ten sentences) that the
    corpus defines ("BLA"), as "the BLA"."""
    article = data.sentences["article"]
    for j in range(s, max(-1, s - 11), -1):
        if article[j] != article[s]:
            break
        for short in reversed(_ACRONYM.findall(data.sentence_text(j))):
            if short in data.acronyms.forms:
                return f"the {short}"
    return None


def find_conflict(data: IndexData, question: str, sentences: np.ndarray, scores: np.ndarray,
                  order: np.ndarray) -> Conflict | None:
    """The figures the best candidates give for what the question counts, when they differ."""
    reading = _reading(question)
    if reading is None or not len(order):
        return None
    best = float(scores[order[0]])
    claims: list[FigureClaim] = []
    seen: set[tuple[float, int]] = set()
    for row in order[:READ].tolist():
        if float(scores[row]) < best - MARGIN:
            break
        s = int(sentences[row])
        text = data.sentence_text(s)
        pos = int(data.sentences["article"][s])
        story = pos if data.copies is None else int(data.copies[pos])
        for value, written in figures_in(text, reading):
            if (value, story) in seen:
                continue
            seen.add((value, story))
            start = int(data.sentences["start"][s])
            claims.append(FigureClaim(value, written, text, start, start + len(text), _claimant(data, s, text),
                                      data.articles[pos].citation()))
    values = {c.value for c in claims}
    if len(values) < 2:
        return None
    dated = sorted(claims, key=lambda c: c.article.published)
    dates = [c.article.published for c in dated]
    rising = all(a.value < b.value for a, b in zip(dated, dated[1:]))
    kind = "updates" if len(set(dates)) == len(dates) and all(dates) and rising else "dispute"
    return Conflict(kind, tuple(dated if kind == "updates" else claims))
