"""Extractive answering: score the sentences of retrieved passages, pick verbatim quotes, or abstain.

Every candidate sentence gets a small feature vector (its cosine with the question, the cosine and
fused rank of its passage, IDF-weighted overlap with the question, answer-type cues); a linear
model turns it into a score and a logistic confidence. The best sentence is grown into a quote of
at most three whole consecutive sentences only where it cannot stand alone (an open quotation, a
pronoun that needs its referent). Below the confidence threshold the bot says it has no answer.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np

FEATURES = (
    "sent_cos",  # cosine of question and sentence
    "pass_cos",  # cosine of question and the best passage holding the sentence
    "pass_rrf",  # fused score of that passage relative to the top passage
    "sent_lex",  # IDF-weighted share of question terms found in the sentence
    "ctx_lex",  # the same share over the passage and its heading
    "question",  # the sentence is itself a question
    "type_match",  # the question expects a number/date/name and the sentence has one
    "type_miss",  # it expects one and the sentence has none
    "short",  # the sentence is very short
)

# Hand-set fallback weights, used only if the fitted ones (weights.json) are missing.
FALLBACK_WEIGHTS = {
    "bias": -6.0,
    "sent_cos": 5.0,
    "pass_cos": 2.0,
    "pass_rrf": 1.0,
    "sent_lex": 3.0,
    "ctx_lex": 1.5,
    "question": -2.0,
    "type_match": 0.5,
    "type_miss": -0.7,
    "short": -0.7,
}


WEIGHTS_FILE = Path(__file__).with_name("weights.json")


@lru_cache(maxsize=1)
def fitted() -> tuple[dict[str, float], float]:
    """Weights and abstention threshold fitted by benchmarks/fit_answerer.py (see weights.json)."""
    try:
        data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
        return {k: float(v) for k, v in data["weights"].items()}, float(data["min_confidence"])
    except (OSError, ValueError, KeyError):
        return dict(FALLBACK_WEIGHTS), 0.5


@dataclass(frozen=True)
class AnswerConfig:
    """Knobs of the answerer. ``min_confidence`` is the abstention threshold."""

    passages: int = 8
    max_quotes: int = 3
    max_quote_sentences: int = 3
    min_confidence: float = field(default_factory=lambda: fitted()[1])
    extra_quote_margin: float = 1.5  # later quotes may score at most this much below the first
    duplicate_cosine: float = 0.92  # a sentence this close to a chosen one is a near-duplicate
    weights: dict[str, float] = field(default_factory=lambda: dict(fitted()[0]))

    def __post_init__(self) -> None:
        if not 1 <= self.max_quote_sentences <= 3:
            raise ValueError(f"max_quote_sentences must be 1 to 3, got {self.max_quote_sentences}")
        if self.max_quotes < 1 or self.passages < 1:
            raise ValueError("max_quotes and passages must be at least 1")
        unknown = set(self.weights) - set(FEATURES) - {"bias"}
        if unknown:
            raise ValueError(f"unknown weight(s) {sorted(unknown)}; valid: {['bias', *FEATURES]}")


# ---------------------------------------------------------------------------- answer types

_NUMBER_Q = re.compile(
    r"\bhow (many|much|old|long|far|large|big|high|tall|often|fast|heavy|deep|wide)\b"
    r"|\bwhat (number|percentage|percent|proportion|amount|share|size|population)\b",
    re.I,
)
_DATE_Q = re.compile(
    r"^\W*when\b|\b(what|which|in what) (year|date|day|month|time|century|decade|period|era)\b", re.I
)
_NAME_Q = re.compile(r"^\W*(who|whom|whose)\b|\b(what|which) (person|group|organi[sz]ation|company|team|party)\b", re.I)
_PLACE_Q = re.compile(r"^\W*where\b|\b(what|which) (country|city|state|province|region|place|town|continent)\b", re.I)
_MONTHS = "january|february|march|april|may|june|july|august|september|october|november|december"
_NUMBER_S = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|forty|"
    r"fifty|sixty|hundreds?|thousands?|millions?|billions?|dozens?|half|several)\b",
    re.I,
)
_DATE_S = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b"
    r"|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|tonight)\b"
    r"|\b(last|next|this) (year|month|week|decade|century)\b|\bcentury\b|\b(\d+|several|two|three) (years|decades) ago\b",
    re.I,
)
# Month names only capitalised: "may" and "march" are also a verb.
_MONTH_S = re.compile(rf"\b({_MONTHS.title()}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?")
# A capitalised word that does not open the sentence: a crude but cheap proper-name cue.
_NAME_S = re.compile(r"(?<=[\w,;:)\"”’] )[A-Z][\w’'-]+")


def answer_type(question: str) -> str | None:
    """The kind of answer a question asks for: "number", "date", "name", "place" or None."""
    for kind, pattern in (("number", _NUMBER_Q), ("date", _DATE_Q), ("name", _NAME_Q), ("place", _PLACE_Q)):
        if pattern.search(question):
            return kind
    return None


def has_type(kind: str, sentence: str) -> bool:
    if kind == "number":
        return bool(_NUMBER_S.search(sentence))
    if kind == "date":
        return bool(_DATE_S.search(sentence) or _MONTH_S.search(sentence))
    return bool(_NAME_S.search(sentence))  # names and places


# ---------------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class Candidates:
    """Candidate sentences of one question, their features and scores (rows aligned)."""

    question: str
    sentences: np.ndarray  # global sentence ids
    passages: np.ndarray  # the best-ranked passage holding each sentence
    features: np.ndarray  # (n, len(FEATURES))
    scores: np.ndarray  # linear scores; sigmoid(score) is the confidence


def coverage(query_terms: Sequence[str], tokens: set[str], idf: Callable[[str], float]) -> float:
    """IDF-weighted share of the query terms present in ``tokens`` (0 when the query has none)."""
    total = sum(idf(t) for t in query_terms)
    if total <= 0:
        return 0.0
    return sum(idf(t) for t in query_terms if t in tokens) / total


def featurize(
    question: str,
    query_terms: Sequence[str],
    sentence_cos: np.ndarray,
    sentence_texts: Sequence[str],
    sentence_tokens: Sequence[set[str]],
    context_tokens: Sequence[set[str]],
    passage_cos: np.ndarray,
    passage_rrf: np.ndarray,
    idf: Callable[[str], float],
) -> np.ndarray:
    """The feature matrix (rows: sentences, columns: FEATURES). Pure: no model, no index."""
    kind = answer_type(question)
    terms = sorted(set(query_terms))
    top_rrf = float(passage_rrf.max()) if len(passage_rrf) else 1.0
    rows = []
    for i, text in enumerate(sentence_texts):
        typed = kind is not None and has_type(kind, text)
        rows.append(
            (
                float(sentence_cos[i]),
                float(passage_cos[i]),
                float(passage_rrf[i]) / top_rrf if top_rrf > 0 else 0.0,
                coverage(terms, sentence_tokens[i], idf),
                coverage(terms, context_tokens[i], idf),
                1.0 if text.rstrip("”\"’') ").endswith("?") else 0.0,
                1.0 if typed else 0.0,
                1.0 if kind is not None and not typed else 0.0,
                1.0 if len(text) < 25 else 0.0,
            )
        )
    return np.asarray(rows, dtype=np.float64).reshape(-1, len(FEATURES))


def linear_scores(features: np.ndarray, weights: dict[str, float]) -> np.ndarray:
    w = np.array([weights.get(name, 0.0) for name in FEATURES])
    return features @ w + weights.get("bias", 0.0)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))


# ---------------------------------------------------------------------------- quote spans

_ANAPHOR = re.compile(
    r"^\W*(it|its|they|their|them|he|his|she|her|this|these|that|those|the group|the move|such)\b", re.I
)
_STRAIGHT_OPEN = re.compile(r'(?:^|(?<=[\s(\[{—–-]))"')


def _quote_balance(text: str) -> int:
    """Quotation marks opened minus closed in ``text`` (curly, or straight told apart by position)."""
    straight = text.count('"')
    straight_open = len(_STRAIGHT_OPEN.findall(text))
    return (text.count("“") - text.count("”")) + straight_open - (straight - straight_open)


def quote_span(
    best: int,
    paragraph_of: Callable[[int], int],
    text_of: Callable[[int], str],
    score_of: Callable[[int], float],
    n_sentences: int,
    *,
    max_sentences: int = 3,
    follow_margin: float = 1.0,
) -> tuple[int, int]:
    """The run of sentences ``[lo, hi]`` (inclusive) quoted for the best sentence ``best``.

    Usually just ``best``. It grows, inside its paragraph and up to ``max_sentences``, when the
    sentence closes a quotation that an earlier sentence opened (or opens one a later sentence
    closes), when it leans on a pronoun whose referent is the sentence before, or when the next
    sentence continues it with a pronoun and scores nearly as well.
    """
    lo = hi = best
    para = paragraph_of(best)

    def same_para(i: int) -> bool:
        return 0 <= i < n_sentences and paragraph_of(i) == para

    def room() -> bool:
        return hi - lo + 1 < max_sentences

    def balance() -> int:
        return _quote_balance(" ".join(text_of(i) for i in range(lo, hi + 1)))

    # Complete a quotation only where the whole of it fits: otherwise quote the sentence alone.
    if balance() < 0:
        while room() and same_para(lo - 1) and balance() < 0:
            lo -= 1
        if balance() != 0:
            lo = best
    elif balance() > 0:
        while room() and same_para(hi + 1) and balance() > 0:
            hi += 1
        if balance() != 0:
            hi = best
    if room() and _ANAPHOR.match(text_of(lo)) and same_para(lo - 1):
        lo -= 1
    if room() and same_para(hi + 1) and _ANAPHOR.match(text_of(hi + 1)):
        if score_of(hi + 1) >= score_of(best) - follow_margin:
            hi += 1
    return lo, hi
