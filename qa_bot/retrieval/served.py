"""Retrieval from an index an engine serves whole (``store/served.py``): the engine fuses dense and
BM25 rankings and filters by outlet and day, then the packets of the articles found are put
together as a slice (``store/slices.py``) that the answerer reads as it reads a local index.

A batch of questions costs one hybrid search per question, then one fetch of the packets of every
article they found, and one more for the copies of those articles when some have copies. The
engine returns each passage's BM25 terms with it, which the slice scores with the summary's
statistics (``slices.SlicedLexical``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..records import ArticleFilter
from ..store.slices import Slice, Summary, assemble, member_serials
from .hybrid import Ranked, bm25_of


class Source(Protocol):
    """An index an engine serves: its summary, a fused search, the packets of articles."""

    summary: Summary

    def hybrid(self, readings: np.ndarray, terms: str, depth: int, k: int, expression: str,
               rrf_k: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """(passage keys, fused scores, passage vectors, article serials, passage BM25 terms), best first."""
        ...

    def packets(self, serials: list[int]) -> dict[int, bytes]:
        """The packets of article versions by serial (those that are gone left out)."""
        ...


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
        from ..store.vectors.milvus import where_expression

        expression = where_expression(where)
        depth = max(self.depth, k)
        found = []
        for row, tokens in enumerate(query_tokens):
            extra = alternatives[row] if alternatives and alternatives[row] is not None else None
            readings = query_vectors[row][None, :] if extra is None else np.vstack([query_vectors[row][None, :], extra])
            pairs = synonyms[row] if synonyms else ()
            terms = " ".join([*tokens, *(t for a, b in pairs for t in (*a, *b))])
            found.append((readings, *self.source.hybrid(readings, terms, depth, k, expression, self.rrf_k)))
        serials = sorted({int(a) for *_, articles, _ in found for a in articles.tolist()})
        packets = self.source.packets(serials) if serials else {}
        copies = sorted(set(member_serials(packets.values())) - set(packets))
        if copies:
            packets |= self.source.packets(copies)
        terms = {int(k): text for _, keys, *_, texts in found for k, text in zip(keys.tolist(), texts)}
        data, piece = assemble(self.source.summary, packets, terms)
        out = []
        for row, (readings, keys, fused, vectors, _, _) in enumerate(found):
            held = piece.holds(keys)  # a passage whose article a build removed meanwhile is left out
            local = piece.local(keys[held])
            out.append(Ranked(local, fused[held], (vectors[held] @ readings.T).max(axis=1).astype(np.float32)
                              if len(local) else np.empty(0, np.float32),
                              bm25_of(data, local, query_tokens[row], synonyms[row] if synonyms else ())))
        return piece, out

