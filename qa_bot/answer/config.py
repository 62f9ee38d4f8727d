"""The answerer's settings (``AnswerConfig``) and the weights fitted for it.

Two small linear models, fitted by ``tools/fit/answerer.py`` on held-out data and stored in
``qa_bot/fitted/weights.json``: a ranking model scores every candidate sentence from its features
(``features.py``), and an answerability model turns the best candidate's evidence into the
probability that it answers the question. Below ``min_confidence`` the bot says it has no answer.
An index without token states (built by an encoder that gives none) gets the set fitted without
the MaxSim features (``without_tokens`` in weights.json).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from functools import lru_cache

from ..fitted import WEIGHTS_FILE
from .features import ABSTAIN_FEATURES, RANK_FEATURES

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
    declining more answerable questions (docs/decisions/strict-abstention.md).
    """

    passages: int = 24  # retrieved passages whose sentences are ranked (tools/studies/depth.py)
    max_quotes: int = 3
    max_quote_sentences: int = 3
    min_confidence: float | None = None
    extra_quote_margin: float = 1.5  # later quotes may score at most this much below the first
    duplicate_cosine: float = 0.92  # a sentence this close to a chosen one is a near-duplicate
    strict: bool = False  # the strict answerability model and threshold (see above)
    expand_acronyms: bool = True  # search with "BLA (Baloch Liberation Army)" too (acronyms.py)
    correct_spelling: bool = True  # search with "Sigimund" read as "Sigismund" too (spelling.py)
    time_windows: bool = True  # prefer the articles the question's time words name (timewords.py)
    naming_leads: bool = True  # put the sentence naming what a quote calls "the company" before it (naming.py)
    conflicts: bool = True  # show the different figures sources give for a "how many" question (figures.py)
    copies: bool = True  # cite a quote from its story's newest copy, naming the others (copies.py)
    newest_first: bool = True  # a question about now: the newest report first, older ones marked (recency.py)
    # The confidence at which the answer from inside that window is taken (else all dates are
    # searched); None: the fitted threshold, also when min_confidence is set otherwise.
    window_confidence: float | None = None
    rerank_top: int = 16  # with a reranker (rerank.py): how many of the best candidates it reads
    rerank_weight: float = 0.75  # its standardised score's weight against the ranker's (tools/studies/rerank.py)
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
            window_confidence=threshold if self.window_confidence is None else self.window_confidence,
        )
