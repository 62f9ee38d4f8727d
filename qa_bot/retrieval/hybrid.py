"""Hybrid passage retrieval: dense (the vector store) and BM25 rankings fused by reciprocal rank fusion.

Locally both rankings are made here and fused by ``rrf``. A store that searches text itself
(``searches_text``: Milvus) is asked once per question for the fused ranking, its filter an
expression over the passages' outlet and day; the BM25 scores the answerer reads as features
are then the local index's, for those passages only, so both paths score candidates alike.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..records import ArticleFilter
from ..store.data import IndexData


def rrf(
    rankings: Sequence[Sequence[int]], *, k: int = 60, weights: Sequence[float] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Reciprocal rank fusion: ``score(d) = sum_i w_i / (k + rank_i(d))`` with 1-based ranks.

    Args:
        rankings: each a sequence of document ids, best first.
        k: the smoothing constant of Cormack et al. (2009); 60 is their default.
        weights: one weight per ranking (default all 1).

    Returns:
        Document ids sorted by fused score (ties broken by smaller id) and their scores.
    """
    if k <= 0:
        raise ValueError(f"k must be greater than 0, got {k}")
    weights = [1.0] * len(rankings) if weights is None else list(weights)
    if len(weights) != len(rankings):
        raise ValueError(f"got {len(weights)} weights for {len(rankings)} rankings")
    scores: dict[int, float] = {}
    for weight, ranking in zip(weights, rankings):
        for rank, doc in enumerate(ranking, start=1):
            scores[int(doc)] = scores.get(int(doc), 0.0) + weight / (k + rank)
    if not scores:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float64)
    ids = np.fromiter(scores.keys(), dtype=np.int64, count=len(scores))
    vals = np.fromiter(scores.values(), dtype=np.float64, count=len(scores))
    # Round so that sums equal in exact arithmetic (1/10 + 1/15 and 1/6) tie, and ties go to the
    # smaller id.
    order = np.lexsort((ids, -np.round(vals, 12)))
    return ids[order], vals[order]


@dataclass(frozen=True)
class Ranked:
    """Fused passages for one query, best first, with the evidence of each ranker."""

    passages: np.ndarray  # passage ids
    fused: np.ndarray  # RRF scores
    dense: np.ndarray  # cosine of query and passage
    bm25: np.ndarray  # BM25 score (0 where BM25 did not retrieve it)


class Retriever:
    """Searches an IndexData with query vectors and query tokens."""

    def __init__(self, data: IndexData, *, depth: int = 50, rrf_k: int = 60) -> None:
        self.data = data
        self.depth = depth
        self.rrf_k = rrf_k

    def search_batch(
        self,
        query_vectors: np.ndarray,
        query_tokens: Sequence[list[str]],
        k: int,
        allowed: np.ndarray | None = None,
        *,
        alternatives: Sequence[np.ndarray | None] | None = None,
        synonyms: Sequence[Sequence[tuple[list[str], list[str]]]] | None = None,
        where: ArticleFilter | None = None,
    ) -> list[Ranked]:
        """The top ``k`` fused passages for each query.

        ``allowed``, a boolean mask over passages, restricts both rankers to those passages.
        ``alternatives[i]`` holds other readings of query ``i`` (vectors, e.g. with an acronym
        spelled out): a passage's dense score is its best cosine to any reading.
        ``synonyms[i]`` lists pairs of term lists that name one thing ("bla" and "baloch
        liber armi"): BM25 credits a passage once, for the better of the two (lexical.search).
        ``where``, the filter ``allowed`` was made from, is what a store that searches text
        itself is given instead (as an expression over its fields).
        """
        store = self.data.passage_vectors
        if getattr(store, "searches_text", False):
            return self._in_engine(query_vectors, query_tokens, k, allowed, alternatives, synonyms, where)
        allowed_ids = None if allowed is None else np.flatnonzero(allowed)
        n = len(store) if allowed_ids is None else len(allowed_ids)
        depth = min(max(self.depth, k), n)
        if depth == 0:
            empty = np.empty(0)
            return [Ranked(empty.astype(np.int64), empty, empty, empty) for _ in query_tokens]
        sims, ids = store.search(query_vectors, depth, allowed_ids)
        extra = [i for i, alt in enumerate(alternatives or ()) if alt is not None and len(alt)]
        more = {}
        if extra:
            alt_sims, alt_ids = store.search(np.vstack([alternatives[i] for i in extra]), depth, allowed_ids)
            row = 0
            for i in extra:
                n_alt = len(alternatives[i])
                more[i] = (alt_sims[row : row + n_alt], alt_ids[row : row + n_alt])
                row += n_alt
        out = []
        for row, tokens in enumerate(query_tokens):
            if row in more:  # several readings: each passage at its best cosine to any
                dense_sim = _best_per_id([(sims[row], ids[row]), *zip(*more[row])])
                dense_ids = np.array(sorted(dense_sim, key=lambda p: (-dense_sim[p], p))[:depth], dtype=np.int64)
            else:
                dense_ids = ids[row][ids[row] >= 0]
                dense_sim = dict(zip(dense_ids.tolist(), sims[row][: len(dense_ids)].tolist()))
            pairs = synonyms[row] if synonyms else ()
            bm_ids, bm_scores = self.data.lexical.search(tokens, depth, allowed, synonyms=pairs)
            fused_ids, fused = rrf([dense_ids, bm_ids], k=self.rrf_k)
            fused_ids, fused = fused_ids[:k], fused[:k]
            missing = [p for p in fused_ids.tolist() if p not in dense_sim]
            if missing:  # BM25-only hits: compute their cosine exactly
                vecs = store.vectors(np.array(missing, dtype=np.int64))
                readings = np.vstack([query_vectors[row][None, :], *([alternatives[row]] if row in more else [])])
                dense_sim.update(zip(missing, (vecs @ readings.T).max(axis=1).tolist()))
            bm = dict(zip(bm_ids.tolist(), bm_scores.tolist()))
            out.append(
                Ranked(
                    fused_ids,
                    fused,
                    np.array([dense_sim[p] for p in fused_ids.tolist()], dtype=np.float32),
                    np.array([bm.get(p, 0.0) for p in fused_ids.tolist()], dtype=np.float32),
                )
            )
        return out

    def _in_engine(self, query_vectors, query_tokens, k, allowed, alternatives, synonyms, where) -> list[Ranked]:
        """Each question's fused passages from a store that fuses them itself (one round trip each)."""
        from ..store.vectors.milvus import where_expression

        store = self.data.passage_vectors
        expression = where_expression(where)
        n = len(store) if allowed is None else int(np.count_nonzero(allowed))
        depth = min(max(self.depth, k), n)
        out = []
        for row, tokens in enumerate(query_tokens):
            extra = alternatives[row] if alternatives and alternatives[row] is not None else None
            readings = query_vectors[row][None, :] if extra is None else np.vstack([query_vectors[row][None, :], extra])
            pairs = synonyms[row] if synonyms else ()
            terms = [*tokens, *(t for a, b in pairs for t in (*a, *b))]
            if depth == 0:
                ids, fused, vectors = np.empty(0, np.int64), np.empty(0), np.empty((0, readings.shape[1]), np.float32)
            else:
                keys, fused, vectors, _, _ = store.hybrid(readings, " ".join(terms), depth, k, expression,
                                                          self.rrf_k)
                ids, known = self.data.find_rows(keys)  # a build updating the store in place may add others
                ids, fused, vectors = ids[known], fused[known], vectors[known]
            out.append(Ranked(ids, fused, (vectors @ readings.T).max(axis=1).astype(np.float32) if len(ids)
                              else np.empty(0, np.float32), bm25_of(self.data, ids, tokens, pairs)))
        return out


def bm25_of(data: IndexData, passages: np.ndarray, tokens: list[str],
            synonyms: Sequence[tuple[list[str], list[str]]]) -> np.ndarray:
    """The BM25 scores of ``passages`` for a question, from ``data``'s lexical index (0 where a
    passage holds none of its terms): the feature the answerer reads beside an engine's ranking."""
    mask = np.zeros(len(data.passages), dtype=bool)
    mask[passages] = True
    ids, scores = data.lexical.search(tokens, len(passages), mask, synonyms=synonyms)
    bm = dict(zip(ids.tolist(), scores.tolist()))
    return np.array([bm.get(p, 0.0) for p in passages.tolist()], dtype=np.float32)


def _best_per_id(results: Sequence[tuple[np.ndarray, np.ndarray]]) -> dict[int, float]:
    """Each passage id's best score over several (scores, ids) rows of a dense search."""
    best: dict[int, float] = {}
    for scores, ids in results:
        for score, p in zip(scores.tolist(), ids.tolist()):
            if p >= 0 and score > best.get(p, -np.inf):
                best[p] = score
    return best
