"""Features of candidate answer sentences, and of a question's best candidate for abstention.

Pure functions over arrays and token lists: no model, no index. The answerer combines them with
weights fitted by ``tools/fit/answerer.py`` (``qa_bot/fitted/weights.json``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

RANK_FEATURES = (
    "sent_cos",  # cosine of question and sentence (its vector read in its passage, indexing/embed.py)
    "sent_cos_gap",  # that cosine minus the best among the candidates (0 for the best)
    "neighbour_cos",  # best cosine of the sentence before or after it in its paragraph
    "pass_cos",  # cosine of question and the best passage holding the sentence
    "pass_rrf",  # fused score of that passage relative to the top passage
    "pass_bm25",  # BM25 score of that passage relative to the best among the candidates
    "sent_lex",  # IDF-weighted share of question terms found in the sentence
    "sent_lex_gap",  # that share minus the best among the candidates
    "ctx_lex",  # the same share over the passage and its heading
    "bigram",  # share of the question's word pairs found in the sentence
    "question",  # the sentence is itself a question
    "type_match",  # the question wants a number/date/name and the sentence has one it does not
    "type_miss",  # it wants one and the sentence has none besides the question's own
    "short",  # the sentence is very short
    "maxsim",  # token-level late interaction of question and sentence (store/token_states.py; 0 without)
    "maxsim_gap",  # that minus the best among the candidates
    "maxsim_adapted",  # MaxSim with the question's tokens through the query adapter (token_states.py)
    "maxsim_adapted_gap",  # that minus the best among the candidates
    "speaker",  # the question asks what X said and the sentence gives X's words (speech.py)
    "quotation",  # ... and quotes X directly
    "said_content",  # ... and reports what the rest of the question asks about
)
TOKEN_FEATURES = ("maxsim", "maxsim_gap", "maxsim_adapted", "maxsim_adapted_gap")  # need token states
SPEECH_FEATURES = ("speaker", "quotation", "said_content")  # fitted apart (tools/fit/speakers.py)

ABSTAIN_FEATURES = (
    "top_score",  # ranking score of the best candidate
    "margin",  # its lead over the second best
    "top_sent_cos",
    "top_pass_cos",
    "top_sent_lex",
    "top_maxsim",  # its MaxSim (0 without token states)
    "top_article_lex",  # share of question terms in what was retrieved of its article, headline included
)

# ---------------------------------------------------------------------------- answer types

_NUMBER_Q = re.compile(
    r"\bhow (many|much|old|long|far|large|big|high|tall|often|fast|heavy|deep|wide)\b"
    r"|\bwhat (number|percentage|percent|proportion|amount|share|size|population)\b",
    re.I,
)
_DATE_Q = re.compile(
    r"^\W*when\b|\b(what|which|in what) (year|date|day|month|time|century|decade|period|era)\b", re.I
)
_NAME_Q = re.compile(
    r"^\W*(who|whom|whose)\b|\b(what|which) (person|group|organi[sz]ation|company|team|party)\b", re.I
)
_PLACE_Q = re.compile(r"^\W*where\b|\b(what|which) (country|city|state|province|region|place|town|continent)\b", re.I)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_NUMBER_S = re.compile(
    r"\d[\d,.]*|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|hundreds?|thousands?|millions?|billions?|dozens?|half|several)\b",
    re.I,
)
_DATE_S = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b"
    r"|\b(monday|tuesday|wednesday|thursday|friday|saturday|sunday|yesterday|today|tomorrow|tonight)\b"
    r"|\b(last|next|this) (year|month|week|decade|century)\b|\bcentury\b"
    r"|\b(\d+|several|two|three) (years|decades) ago\b",
    re.I,
)
# Month names only capitalised: "may" and "march" are also verbs.
_MONTH_S = re.compile(rf"\b({_MONTHS}|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\b\.?")
# A capitalised word that does not open the sentence: a crude but cheap proper-name cue.
_NAME_S = re.compile(r"(?<=[\w,;:)\"”’] )[A-Z][\w’'-]+")
_WORD = re.compile(r"\w+")


def answer_type(question: str) -> str | None:
    """The kind of answer a question asks for: "number", "date", "name", "place" or None."""
    for kind, pattern in (("number", _NUMBER_Q), ("date", _DATE_Q), ("name", _NAME_Q), ("place", _PLACE_Q)):
        if pattern.search(question):
            return kind
    return None


def _type_spans(kind: str, sentence: str) -> list[str]:
    if kind == "number":
        return [m.group(0) for m in _NUMBER_S.finditer(sentence)]
    if kind == "date":
        return [m.group(0) for m in _DATE_S.finditer(sentence)] + [m.group(0) for m in _MONTH_S.finditer(sentence)]
    return [m.group(0) for m in _NAME_S.finditer(sentence)]  # names and places


def has_type(kind: str, sentence: str, question: str = "") -> bool:
    """True if ``sentence`` holds an answer of ``kind`` that is not already in ``question``."""
    asked = {w.lower() for w in _WORD.findall(question)}
    for span in _type_spans(kind, sentence):
        words = [w.lower() for w in _WORD.findall(span)]
        if words and not all(w in asked for w in words):
            return True
    return False


# ---------------------------------------------------------------------------- ranking features


@dataclass(frozen=True)
class Evidence:
    """What the features of one question's candidate sentences are computed from (rows aligned)."""

    question: str
    query_terms: Sequence[str]  # the question's stemmed terms, in order
    texts: Sequence[str]  # candidate sentences
    tokens: Sequence[list[str]]  # their stemmed terms (heading terms appended), in order
    context_tokens: Sequence[set[str]]  # terms of the passage (and heading) holding each
    sentence_cos: np.ndarray
    neighbour_cos: np.ndarray
    passage_cos: np.ndarray
    passage_rrf: np.ndarray
    passage_bm25: np.ndarray
    maxsim: np.ndarray | None = None  # None: the index holds no token states
    maxsim_adapted: np.ndarray | None = None  # None: likewise (the plain MaxSim where there is no adapter)
    speech: np.ndarray | None = None  # (n, 3): speaker, quotation, said_content (speech.py); None: no speaker asked


def coverage(query_terms: Sequence[str], tokens: set[str], idf: Callable[[str], float]) -> float:
    """IDF-weighted share of the query terms present in ``tokens`` (0 when the query has none)."""
    total = sum(idf(t) for t in query_terms)
    if total <= 0:
        return 0.0
    return sum(idf(t) for t in query_terms if t in tokens) / total


def article_coverage(
    query_terms: Sequence[str], articles: Sequence[int], context_tokens: Sequence[set[str]],
    title_tokens: dict[int, list[str]], idf: Callable[[str], float],
) -> np.ndarray:
    """Per candidate, the IDF-weighted share of query terms found in its article as far as it was
    retrieved: every retrieved passage of the article (``context_tokens`` of the candidates with
    the same ``articles`` entry) and its headline (``title_tokens``).

    A question whose key term its best candidate's article never mentions ("How many Chinese
    *workers* were killed?" of an article on attacks that names no workers) is likely not answered
    there, however large the corpus; the share of terms the whole corpus lacks, the feature this one
    replaced, is 0 in any corpus of some size.
    """
    terms = sorted(set(query_terms))
    held: dict[int, set[str]] = {}
    for a, ctx in zip(articles, context_tokens):
        held.setdefault(a, set(title_tokens.get(a, ()))).update(ctx)
    share = {a: coverage(terms, tokens, idf) for a, tokens in held.items()}
    return np.array([share[a] for a in articles], dtype=np.float64)


def _bigrams(terms: Sequence[str]) -> set[tuple[str, str]]:
    return set(zip(terms, terms[1:]))


def rank_features(ev: Evidence, idf: Callable[[str], float]) -> np.ndarray:
    """The ranking feature matrix (rows: candidates, columns: RANK_FEATURES)."""
    n = len(ev.texts)
    if n == 0:
        return np.zeros((0, len(RANK_FEATURES)))
    kind = answer_type(ev.question)
    terms = sorted(set(ev.query_terms))
    q_bigrams = _bigrams(list(ev.query_terms))
    top_rrf = float(ev.passage_rrf.max()) or 1.0
    sent_lex = np.array([coverage(terms, set(tok), idf) for tok in ev.tokens])
    rows = np.zeros((n, len(RANK_FEATURES)))
    rows[:, 0] = ev.sentence_cos
    rows[:, 1] = ev.sentence_cos - ev.sentence_cos.max()
    rows[:, 2] = ev.neighbour_cos
    rows[:, 3] = ev.passage_cos
    rows[:, 4] = ev.passage_rrf / top_rrf
    top_bm25 = float(ev.passage_bm25.max())
    rows[:, 5] = ev.passage_bm25 / top_bm25 if top_bm25 > 0 else 0.0
    rows[:, 6] = sent_lex
    rows[:, 7] = sent_lex - sent_lex.max()
    for i, text in enumerate(ev.texts):
        rows[i, 8] = coverage(terms, ev.context_tokens[i], idf)
        rows[i, 9] = len(q_bigrams & _bigrams(ev.tokens[i])) / len(q_bigrams) if q_bigrams else 0.0
        rows[i, 10] = 1.0 if text.rstrip("”\"’') ").endswith("?") else 0.0
        typed = kind is not None and has_type(kind, text, ev.question)
        rows[i, 11] = 1.0 if typed else 0.0
        rows[i, 12] = 1.0 if kind is not None and not typed else 0.0
        rows[i, 13] = 1.0 if len(text) < 25 else 0.0
    if ev.maxsim is not None:
        rows[:, 14] = ev.maxsim
        rows[:, 15] = ev.maxsim - ev.maxsim.max()
        adapted = ev.maxsim_adapted if ev.maxsim_adapted is not None else ev.maxsim
        rows[:, 16] = adapted
        rows[:, 17] = adapted - adapted.max()
    if ev.speech is not None:
        rows[:, 18:21] = ev.speech
    return rows


def abstain_features(rank: np.ndarray, scores: np.ndarray, article_lex: np.ndarray) -> np.ndarray:
    """The abstention features of a question (ABSTAIN_FEATURES) from its ranked candidates and,
    per candidate, the share of question terms its article holds (``article_coverage``)."""
    order = np.argsort(-scores, kind="stable")
    best = order[0]
    margin = float(scores[best] - scores[order[1]]) if len(order) > 1 else 1.0
    return np.array(
        [
            float(scores[best]), margin,
            rank[best, RANK_FEATURES.index("sent_cos")],
            rank[best, RANK_FEATURES.index("pass_cos")],
            rank[best, RANK_FEATURES.index("sent_lex")],
            rank[best, RANK_FEATURES.index("maxsim")],
            float(article_lex[best]),
        ],
        dtype=np.float64,
    )


def linear(features: np.ndarray, names: Sequence[str], weights: dict[str, float]) -> np.ndarray:
    """``features @ w + bias`` with weights looked up by feature name (missing names weigh 0)."""
    w = np.array([weights.get(name, 0.0) for name in names])
    return features @ w + weights.get("bias", 0.0)


def sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-50.0, min(50.0, x))))
