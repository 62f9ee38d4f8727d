"""Candidate sentences of a question: every sentence of its retrieved passages, with its ranking
features and score, and the question's answerability confidence (``score_candidates``); and the
optional cross-encoder's re-ordering of the best of them (``rerank_candidates``).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..encoders.pooling import TokenStates
from ..records import TimeUse
from ..retrieval.hybrid import Ranked
from ..store.data import IndexData
from ..store.lexical import tokenize
from .config import AnswerConfig
from .features import (
    ABSTAIN_FEATURES,
    RANK_FEATURES,
    Evidence,
    abstain_features,
    article_coverage,
    linear,
    rank_features,
    sigmoid,
)
from .rerank import Reranker, rerank_order
from .speech import speech_features, speech_subject


@dataclass(frozen=True)
class Candidates:
    """Candidate sentences of one question, their features and scores (rows aligned)."""

    question: str
    sentences: np.ndarray  # global sentence ids
    passages: np.ndarray  # the best-ranked passage holding each sentence
    features: np.ndarray  # (n, len(RANK_FEATURES))
    scores: np.ndarray  # ranking scores
    article_lex: np.ndarray  # share of question terms in each one's article as retrieved (features.article_coverage)
    abstain: np.ndarray  # ABSTAIN_FEATURES of the question (zeros when there is no candidate)
    confidence: float  # probability that the best candidate answers the question
    order: np.ndarray | None = None  # rows best first, when a reranker re-ordered them (else by score)
    read_as: tuple[tuple[str, str], ...] = ()  # misspelt words read as corpus words (spelling.py)
    time: TimeUse | None = None  # the window of the question's time words, if any (QABot.candidates_batch)
    index: IndexData | None = None  # the slice its ids refer to, for a served index (else the bot's index)

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


def score_candidates(
    data: IndexData,
    cfg: AnswerConfig,
    question: str,
    readings: list[tuple[np.ndarray, TokenStates | None]],
    qtokens: list[str],
    ranked: Ranked,
    synonyms: list[tuple[list[str], list[str]]],
) -> Candidates:
    """Every sentence of the retrieved passages, with features, scores and the confidence.

    ``readings`` are the question's vector and token states, as written and (if it names an
    acronym of the corpus) expanded; each sentence is scored by the better one. A sentence
    holding either term list of a ``synonyms`` pair holds the other too. ``cfg`` must be resolved
    (its weights and threshold set, ``AnswerConfig.resolved``).
    """
    rank_of: dict[int, int] = {}  # sentence -> rank of the best passage holding it
    for rank, p in enumerate(ranked.passages.tolist()):
        for s in data.passage_sentences(p):
            rank_of.setdefault(s, rank)
    if not rank_of:
        empty = np.empty(0, dtype=np.int64)
        return Candidates(question, empty, empty, np.zeros((0, len(RANK_FEATURES))), np.empty(0),
                          np.empty(0), np.zeros(len(ABSTAIN_FEATURES)), 0.0)
    sent_ids = np.fromiter(rank_of, dtype=np.int64, count=len(rank_of))
    ranks = np.fromiter(rank_of.values(), dtype=np.int64, count=len(rank_of))
    texts = [data.sentence_text(s) for s in sent_ids.tolist()]
    same = _with_synonyms(synonyms)
    sent_tokens = [same(t) for t in tokenize(texts)]
    tokens_of = dict(zip(sent_ids.tolist(), sent_tokens))
    # A sentence is read with its section heading (as it is embedded); a passage with its
    # heading and all its sentences.
    heading_tokens: dict[int, list[str]] = {}
    passage_context: dict[int, set[str]] = {}
    tokens, context_tokens = [], []
    for i, rank in enumerate(ranks.tolist()):
        p = int(ranked.passages[rank])
        if p not in passage_context:
            heading = data.heading(p)
            heading_tokens[p] = same(tokenize([heading])[0]) if heading else []
            ctx = set(heading_tokens[p])
            for s in data.passage_sentences(p):
                ctx.update(tokens_of[s])
            passage_context[p] = ctx
        tokens.append(sent_tokens[i] + heading_tokens[p])
        context_tokens.append(passage_context[p])
    qvecs = np.vstack([v for v, _ in readings])
    # Per reading: (plain MaxSim, MaxSim through the query adapter); each sentence takes the better.
    maxsims = [data.tokens.maxsim(st, sent_ids) for _, st in readings if st is not None]
    evidence = Evidence(
        question, qtokens, texts, tokens, context_tokens,
        sentence_cos=(data.sentence_vectors[sent_ids] @ qvecs.T).max(axis=1),
        neighbour_cos=_neighbour_cos(data, sent_ids, qvecs),
        passage_cos=ranked.dense[ranks], passage_rrf=ranked.fused[ranks], passage_bm25=ranked.bm25[ranks],
        maxsim=np.max([m for m, _ in maxsims], axis=0) if maxsims else None,
        maxsim_adapted=np.max([a for _, a in maxsims], axis=0) if maxsims else None,
        speech=_speech(data, question, sent_ids, texts, same),
    )
    features = rank_features(evidence, data.lexical.idf)
    scores = linear(features, RANK_FEATURES, cfg.rank_weights)
    articles = data.passages["article"][ranked.passages[ranks]].tolist()
    held = sorted(set(articles))
    titles = dict(zip(held, (same(t) for t in tokenize([data.articles[a].title for a in held]))))
    article_lex = article_coverage(qtokens, articles, context_tokens, titles, data.lexical.idf)
    abstain = abstain_features(features, scores, article_lex)
    return Candidates(
        question, sent_ids, ranked.passages[ranks], features, scores, article_lex, abstain,
        confidence(abstain, cfg.abstain_weights),
    )


def rerank_candidates(data: IndexData, cfg: AnswerConfig, reranker: Reranker, cand: Candidates) -> Candidates:
    """The reranker's order of the best candidates (not for a question the bot will decline)."""
    if len(cand.sentences) < 2 or cand.confidence < cfg.min_confidence:
        return cand
    head = np.argsort(-cand.scores, kind="stable")[: cfg.rerank_top]
    scores = reranker.score(cand.question, [data.sentence_text(int(s)) for s in cand.sentences[head]])
    return replace(cand, order=rerank_order(cand.scores, scores, cfg.rerank_top, cfg.rerank_weight))


def _neighbour_cos(data: IndexData, sent_ids: np.ndarray, qvecs: np.ndarray) -> np.ndarray:
    """For each sentence, the best cosine of the sentence before or after it in its paragraph
    (to the better of the question's readings)."""
    out = np.zeros(len(sent_ids))
    if not len(sent_ids):
        return out
    para = data.sentences["paragraph"]
    sent_ids = np.asarray(sent_ids, dtype=np.int64)
    sides = np.stack([sent_ids - 1, sent_ids + 1], axis=1)  # (n, 2): before, after
    inside = (sides >= 0) & (sides < len(para))
    same = np.zeros_like(inside)
    same[inside] = para[sides[inside]] == np.repeat(para[sent_ids], 2).reshape(-1, 2)[inside]
    if not same.any():
        return out
    wanted = np.unique(sides[same])
    cos = np.max(data.sentence_vectors[wanted] @ qvecs.T, axis=1)  # one read for every neighbour
    best = np.full(sides.shape, -np.inf)
    best[same] = cos[np.searchsorted(wanted, sides[same])]
    has = same.any(axis=1)
    out[has] = best[has].max(axis=1)
    return out


def _speech(data: IndexData, question: str, sent_ids: np.ndarray, texts: list[str], same) -> np.ndarray | None:
    """The speech features (speech.py) of each candidate, or None if the question does not ask
    what someone said."""
    asked = speech_subject(question)
    if asked is None:
        return None
    # The speaker's terms as asked (their order matters: speech.py reads the last as the name);
    # a sentence's terms get the other side of each synonym pair, so "BLA" finds the long form.
    subject, rest = tokenize(list(asked))
    if not subject:
        return None
    content = [t for t in rest if t not in subject]
    article = data.sentences["article"]

    seen: dict[str, set[str]] = {}  # headlines and sentences recur among a question's candidates

    def terms_of(text: str) -> set[str]:
        if text not in seen:
            seen[text] = set(same(tokenize([text])[0]))
        return seen[text]

    out = np.zeros((len(sent_ids), 3))
    for i, s in enumerate(sent_ids.tolist()):
        previous = data.sentence_text(s - 1) if s > 0 and article[s - 1] == article[s] else ""
        title = data.article_of_sentence(s).title
        out[i] = speech_features(subject, content, texts[i], previous, terms_of, title)
    return out


def _with_synonyms(synonyms: list[tuple[list[str], list[str]]]):
    """A function adding to a sentence's terms the other side of each synonym pair it holds, so
    that "TTP" and "Tehreek-e-Taliban Pakistan" count as the same term."""
    if not synonyms:
        return lambda terms: terms

    def same(terms: list[str]) -> list[str]:
        present = set(terms)
        return terms + [t for short, long in synonyms for a, b in ((short, long), (long, short))
                        if a and set(a) <= present for t in b]

    return same
