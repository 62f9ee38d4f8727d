"""Retrieval from an index an engine serves whole (``store/served.py``): the engine fuses dense and
BM25 rankings and filters by outlet and day, then the packets of the articles found are put
together as a slice (``store/slices.py``) that the answerer reads as it reads a local index.

A batch of questions costs one hybrid search per question, then one fetch of the packets of every
article they found, and one more for the copies of those articles when some have copies.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..records import ArticleFilter
from ..store.slices import Slice, Summary, assemble, member_positions
from .hybrid import Ranked, bm25_of


class Source(Protocol):
    """An index an engine serves: its summary, a fused search, the packets of articles."""

    summary: Summary

    def hybrid(self, readings: np.ndarray, terms: str, depth: int, k: int, expression: str,
               rrf_k: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(passage ids, fused scores, passage vectors, article positions), best first."""
        ...

    def packets(self, positions: list[int]) -> dict[int, bytes]: ...


class ServedRetriever:
    """Searches a ``Source`` and returns its answers as a slice (see the module)."""

    def __init__(self, source: Source, *, depth: int = 50, rrf_k: int = 60) -> None:
        self.source = source
        self.depth = depth
        self.rrf_k = rrf_k

    def search_batch(
        self,
        query_vectors: np.ndarray,
        query_tokens: Sequence[list[str]],
        k: int,
        *,
        alternatives: Sequence[np.ndarray | None] | None = None,
        synonyms: Sequence[Sequence[tuple[list[str], list[str]]]] | None = None,
        where: ArticleFilter | None = None,
    ) -> tuple[Slice, list[Ranked]]:
        """The top ``k`` passages of each question (as ``Retriever.search_batch``), their ids those
        of the slice returned."""
        from ..store.vectors.milvus import filter_expression

        expression = "" if where is None or where.is_empty else filter_expression(
            None if where.sources is None else sorted(where.sources), where.published_from, where.published_to)
        depth = max(self.depth, k)
        found = []
        for row, tokens in enumerate(query_tokens):
            extra = alternatives[row] if alternatives and alternatives[row] is not None else None
            readings = query_vectors[row][None, :] if extra is None else np.vstack([query_vectors[row][None, :], extra])
            pairs = synonyms[row] if synonyms else ()
            terms = " ".join([*tokens, *(t for a, b in pairs for t in (*a, *b))])
            found.append((readings, *self.source.hybrid(readings, terms, depth, k, expression, self.rrf_k)))
        positions = sorted({int(a) for *_, articles in found for a in articles.tolist()})
        packets = self.source.packets(positions) if positions else {}
        copies = sorted(set(member_positions(packets.values())) - set(packets))
        if copies:
            packets |= self.source.packets(copies)
        data, piece = assemble(self.source.summary, packets)
        out = []
        for row, (readings, ids, fused, vectors, _) in enumerate(found):
            local = piece.local(ids)
            out.append(Ranked(local, fused, (vectors @ readings.T).max(axis=1).astype(np.float32) if len(ids)
                              else np.empty(0, np.float32),
                              bm25_of(data, local, query_tokens[row], synonyms[row] if synonyms else ())))
        return piece, out

