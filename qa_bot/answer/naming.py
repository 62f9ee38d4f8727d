"""The sentence that names the answer: when a question asks for a name ("Which company…?",
"Who…?") and the best quote refers to it only by a description or a pronoun ("the company", "the
24-year-old", "he"), the sentence of the same article that names it goes before the quote (or the
headline, cited as such), so the reader sees the name and can check it.

News names a subject once and then refers back to it: "Meta said on Wednesday it would cut 11,000
jobs. The company's chief executive…". A question about the cut is best answered by the second
sentence, which holds no name. The lead is the nearest earlier sentence of the article (at most
``LOOK_BACK`` sentences back) that holds a capitalised name the question does not; failing that,
the headline if it holds one. Both are verbatim, with their offsets (``Quote.lead``).
"""

from __future__ import annotations

import re

from bm25s.stopwords import STOPWORDS_EN_PLUS

from ..records import Lead
from ..store.data import IndexData
from .features import answer_type

LOOK_BACK = 4
_WHICH = re.compile(r"^\W*(which|what)\s+(?!year|date|day|month|time|number|percentage|percent|amount)\w+\s+"
                    r"(is|was|are|were|has|have|had|did|does|will|would|can|could|won|said|announced|\w+ed)\b", re.I)
# A reference back to something named before: a pronoun opening the sentence, or "the company",
# "the 24-year-old", "the former president".
_REFERS = re.compile(
    r"^\W*(he|she|it|they|his|her|its|their)\b"
    r"|\b(the|this|that)\s+(\d+-year-old|former\s+\w+|(company|firm|group|team|show|series|film|movie|band|singer|"
    r"actor|actress|star|player|country|nation|state|city|agency|network|brand|app|platform|airline|bank|retailer|"
    r"carmaker|automaker|maker|giant|startup|organi[sz]ation|club|league|party|court|museum|school|university|"
    r"couple|pair|artist|rapper|author|president|leader|official|suspect|victim|man|woman|boy|girl|athlete|"
    r"quarterback|star|chain|publisher|outlet|newspaper|magazine|tech\s+giant|lawmaker|senator|governor))\b",
    re.I,
)


_CAPITALISED = re.compile(r"\b[A-Z][\w’'-]*")
_NOT_NAMES = {w.capitalize() for w in STOPWORDS_EN_PLUS} | {
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "January", "February", "March",
    "April", "May", "June", "July", "August", "September", "October", "November", "December", "Mr", "Mrs", "Ms",
    "Dr", "But", "And", "Yet", "So", "Also", "However", "Meanwhile", "Still", "Now", "Then", "Here", "There",
}


def names(text: str, question: str = "") -> list[str]:
    """Capitalised words of ``text`` that may be names (not a stop word, weekday or month opening
    it or standing alone) and that the question does not already hold."""
    asked = {w.lower() for w in re.findall(r"\w+", question)}
    return [w for w in _CAPITALISED.findall(text) if w not in _NOT_NAMES and w.lower() not in asked and len(w) > 1]


def wants_name(question: str) -> bool:
    """True for a question whose answer is a name: who, which company, what team…"""
    kind = answer_type(question)
    return kind in ("name", "place") or (kind is None and bool(_WHICH.search(question)))


def naming_lead(data: IndexData, lo: int, hi: int, question: str) -> Lead | None:
    """The sentence (or headline) naming what sentences ``lo``..``hi`` refer to, when the question
    wants a name they lack; else None."""
    if not wants_name(question):
        return None
    text = " ".join(data.sentence_text(i) for i in range(lo, hi + 1))
    if names(text, question) or not _REFERS.search(text):
        return None
    article = data.sentences["article"]
    for j in range(lo - 1, max(lo - 1 - LOOK_BACK, -1), -1):
        if article[j] != article[lo]:
            break
        earlier = data.sentence_text(j)
        if names(earlier, question):
            start, end = int(data.sentences["start"][j]), int(data.sentences["end"][j])
            return Lead(earlier, start, end, "sentence")
    title = data.article_of_sentence(lo).title
    if title and names(title, question):
        return Lead(title, 0, len(title), "headline")
    return None
