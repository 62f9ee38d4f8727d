"""Extractive answering: rank the sentences of retrieved passages, pick verbatim quotes, or abstain.

Two small linear models, fitted by ``benchmarks/fit_answerer.py`` on held-out data and stored in
``weights.json``: a ranking model scores every candidate sentence from its features (see
``features.py``), and an answerability model turns the best candidate's evidence into the
probability that it answers the question. Below ``min_confidence`` the bot says it has no answer.
An index without token states (built by an encoder that gives none) gets the set fitted without
the MaxSim features (``without_tokens`` in weights.json).
The best sentence is grown into a quote of at most three whole consecutive sentences only where it
cannot stand alone (a quotation it opens or closes, a pronoun that needs its referent).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from ..fitted import WEIGHTS_FILE
from .features import ABSTAIN_FEATURES, RANK_FEATURES, linear, sigmoid

# Hand-set fallbacks, used only when weights.json is missing or unreadable.
FALLBACK_RANK = {
    "sent_cos": 5.0, "pass_cos": 2.0, "pass_rrf": 1.0, "sent_lex": 3.0, "ctx_lex": 1.5,
    "question": -2.0, "type_match": 0.5, "type_miss": -0.7, "short": -0.7,
}
FALLBACK_ABSTAIN = {"bias": -6.0, "top_score": 1.0}


@lru_cache(maxsize=4)
def fitted(tokens: bool = True, strict: bool = False) -> tuple[dict[str, float], dict[str, float], float]:
    """Ranking weights, answerability weights and threshold from weights.json: the set for an
    index with token states, or (``tokens=False``) the one fitted without them; with ``strict``,
    the answerability model fitted to decline questions whose topic the corpus covers but whose
    answer it lacks too."""
    try:
        data = json.loads(WEIGHTS_FILE.read_text(encoding="utf-8"))
        if not tokens:
            data = data["without_tokens"]
        rank = {k: float(v) for k, v in data["rank"].items()}
        mode = data["strict"] if strict else data
        abstain = {k: float(v) for k, v in mode["abstain"].items()}
        return rank, abstain, float(mode["min_confidence"])
    except (OSError, ValueError, KeyError, AttributeError):
        return dict(FALLBACK_RANK), dict(FALLBACK_ABSTAIN), 0.5


def fitted_paragraphs() -> set[str]:
    """Fingerprints of the paragraphs whose questions fitted the weights (evaluation skips them)."""
    try:
        return set(json.loads(WEIGHTS_FILE.read_text(encoding="utf-8")).get("fit_paragraphs", []))
    except (OSError, ValueError, AttributeError):
        return set()


@dataclass(frozen=True)
class AnswerConfig:
    """Knobs of the answerer. ``min_confidence`` is the abstention threshold.

    The weights and the threshold left as None are the fitted ones for the index asked
    (``resolved``; QABot does this), which differ with and without token states. ``strict``
    chooses the answerability model that also declines questions on a topic the articles cover
    whose answer they lack ("Who leads the BLA?" of an article naming no leader), at the cost of
    declining more answerable questions (docs/quality.md, "Strict abstention").
    """

    passages: int = 24  # retrieved passages whose sentences are ranked (benchmarks/depth_study.py)
    max_quotes: int = 3
    max_quote_sentences: int = 3
    min_confidence: float | None = None
    extra_quote_margin: float = 1.5  # later quotes may score at most this much below the first
    duplicate_cosine: float = 0.92  # a sentence this close to a chosen one is a near-duplicate
    strict: bool = False  # the strict answerability model and threshold (see above)
    expand_acronyms: bool = True  # search with "BLA (Baloch Liberation Army)" too (acronyms.py)
    correct_spelling: bool = True  # search with "Sigimund" read as "Sigismund" too (spelling.py)
    rerank_top: int = 16  # with a reranker (rerank.py): how many of the best candidates it reads
    rerank_weight: float = 0.75  # its standardised score's weight against the ranker's (benchmarks/rerank_study.py)
    rank_weights: dict[str, float] | None = None
    abstain_weights: dict[str, float] | None = None

    def __post_init__(self) -> None:
        if not 1 <= self.max_quote_sentences <= 3:
            raise ValueError(f"max_quote_sentences must be 1 to 3, got {self.max_quote_sentences}")
        if self.max_quotes < 1 or self.passages < 1:
            raise ValueError("max_quotes and passages must be at least 1")
        if self.rerank_top < 1:
            raise ValueError(f"rerank_top must be at least 1, got {self.rerank_top}")
        if not self.rerank_weight >= 0:
            raise ValueError(f"rerank_weight must be 0 or more, got {self.rerank_weight}")
        for names, weights in ((RANK_FEATURES, self.rank_weights), (ABSTAIN_FEATURES, self.abstain_weights)):
            unknown = set(weights or ()) - set(names) - {"bias"}
            if unknown:
                raise ValueError(f"unknown weight(s) {sorted(unknown)}; valid: {['bias', *names]}")

    def resolved(self, tokens: bool = True) -> AnswerConfig:
        """This config with every weight and threshold left as None set to the fitted one for an
        index with (or without) token states."""
        rank, abstain, threshold = fitted(tokens, self.strict)
        return replace(
            self,
            rank_weights=dict(rank) if self.rank_weights is None else self.rank_weights,
            abstain_weights=dict(abstain) if self.abstain_weights is None else self.abstain_weights,
            min_confidence=threshold if self.min_confidence is None else self.min_confidence,
        )


@dataclass(frozen=True)
class Candidates:
    """Candidate sentences of one question, their features and scores (rows aligned)."""

    question: str
    sentences: np.ndarray  # global sentence ids
    passages: np.ndarray  # the best-ranked passage holding each sentence
    features: np.ndarray  # (n, len(RANK_FEATURES))
    scores: np.ndarray  # ranking scores
    abstain: np.ndarray  # ABSTAIN_FEATURES of the question (zeros when there is no candidate)
    confidence: float  # probability that the best candidate answers the question
    order: np.ndarray | None = None  # rows best first, when a reranker re-ordered them (else by score)
    read_as: tuple[tuple[str, str], ...] = ()  # misspelt words read as corpus words (spelling.py)

    def ranked(self) -> np.ndarray:
        """Candidate rows, best first."""
        return self.order if self.order is not None else np.argsort(-self.scores, kind="stable")


def confidence(abstain: np.ndarray, weights: dict[str, float], score: float | None = None) -> float:
    """P(answer) from the abstention features; with ``score``, for a candidate other than the best
    (its score replaces the best's, its lead becomes its distance below the best)."""
    vec = abstain.copy()
    if score is not None:
        vec[1] = score - vec[0]
        vec[0] = score
    return sigmoid(float(linear(vec[None, :], ABSTAIN_FEATURES, weights)[0]))


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
