"""The vector-store protocol: passage vectors addressed by passage id, searched by inner product.

Every store holds L2-normalised float32 vectors under int64 passage ids and answers the same
questions the same way, so the retriever and the builder never know which engine holds them. A
backend is one module implementing ``VectorStore`` plus one entry in ``make_vector_store``
(``store.vectors``); the contract tests in ``tests/test_vector_store.py`` run on every backend.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Protocol

import numpy as np

Blocks = Callable[[], Iterable[np.ndarray]]
"""Vectors handed over a block of rows at a time: each call gives every row again, in order, as
consecutive (n, dimension) float32 blocks (a builder reading them back from disk)."""
Fields = Callable[[np.ndarray], dict[str, list]]
"""What a store that searches more than vectors (Milvus: BM25, filters) keeps beside each passage,
given its ids: {"text": its BM25 terms joined by spaces, "article": its article's position,
"source": the outlet, "day": the published date (YYYY-MM-DD or "")}, one list entry per id."""


class RowState(enum.IntEnum):
    """What an in-place build (a store that keeps rows across builds, Milvus) does with a row."""

    KEPT = 0  # held already, unchanged: not written
    NEW = 1  # not held: written (and removed again if the build fails)
    CHANGED = 2  # held, its fields changed: written over


class VectorStore(Protocol):
    """Passage vectors by id. Ids are int64 and unique; vectors are float32 rows of ``dimension``."""

    kind: str  # the name make_vector_store knows it by, recorded in the index manifest

    @property
    def dimension(self) -> int: ...

    @property
    def precision(self) -> float:
        """How far a component held may be from the one given (0.0 where vectors are kept exactly).
        ``vectors`` returns what is held, and ``search`` scores by it."""
        ...

    def __len__(self) -> int:
        """How many vectors the store holds."""
        ...

    def build(self, ids: np.ndarray, vectors: np.ndarray | Blocks, fields: Fields | None = None) -> None:
        """Replace everything the store holds with ``vectors`` under ``ids`` (rows aligned).

        ``vectors`` is one array, or ``Blocks``: then the store takes them a block at a time and
        never holds the whole input beside its own copy (a large build's peak memory). ``fields``
        gives what a store that also searches text and filters keeps per passage; others ignore it."""
        ...

    def append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        """Add ``vectors`` under ``ids``; raises ValueError if an id is already held."""
        ...

    def delete(self, ids: np.ndarray) -> None:
        """Remove the vectors of ``ids``; ids the store does not hold are ignored."""
        ...

    def ids(self) -> np.ndarray:
        """Every id held, ascending."""
        ...

    def holds_rows(self, n: int) -> bool:
        """True if the ids held are exactly 0 to ``n - 1`` (an index's passages by row number),
        checked without reading every id where the engine can count them."""
        ...

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        """The vectors of ``ids``, rows in the order given; KeyError for an id not held."""
        ...

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """The ``k`` best (scores, ids) by inner product for each query row, best first.

        Rows hold ids -1 (and scores -inf) where fewer than ``k`` vectors qualify. ``allowed``,
        an array of ids, restricts the search to those ids.
        """
        ...

    def save(self, directory: Path) -> None:
        """Write the store's files into ``directory`` (which exists)."""
        ...


def check_rows(ids: np.ndarray, vectors: np.ndarray, dimension: int) -> tuple[np.ndarray, np.ndarray]:
    """``ids`` as int64 and ``vectors`` as contiguous float32, checked to fit together."""
    ids = np.asarray(ids, dtype=np.int64).reshape(-1)
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if vectors.ndim != 2 or vectors.shape[1] != dimension:
        raise ValueError(f"vectors must have shape (n, {dimension}), got {vectors.shape}")
    if len(ids) != len(vectors):
        raise ValueError(f"got {len(ids)} ids for {len(vectors)} vectors")
    if len(np.unique(ids)) != len(ids):
        raise ValueError("ids must be unique")
    return ids, vectors


def as_blocks(vectors: np.ndarray | Blocks) -> Blocks:
    """``vectors`` as ``Blocks`` (an array is one block)."""
    return vectors if callable(vectors) else (lambda: [vectors])
