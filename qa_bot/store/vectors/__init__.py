"""Passage vector stores behind one protocol (``base.VectorStore``) and the factory that picks one.

``faiss`` (``FaissVectorStore``) is the local default, files in the index directory. A new backend
is a module here implementing the protocol, one more branch in ``make_vector_store`` and
``load_vector_store``, and one more parameter of the contract tests (tests/test_vector_store.py).
"""

from __future__ import annotations

from pathlib import Path

from .base import VectorStore

KINDS = ("faiss",)


def make_vector_store(kind: str, dimension: int, *, previous: VectorStore | None = None) -> VectorStore:
    """An empty store of ``kind`` for ``dimension``-dimensional vectors.

    ``previous``, the store of the index being rebuilt, may lend what it learnt (FAISS: trained
    IVF lists); a store of another kind is ignored.
    """
    if kind == "faiss":
        from .faiss import FaissVectorStore

        return FaissVectorStore(dimension, previous=previous if isinstance(previous, FaissVectorStore) else None)
    raise ValueError(f"unknown vector store {kind!r}; choose one of {', '.join(KINDS)}")


def load_vector_store(kind: str, directory: Path, dimension: int) -> VectorStore:
    """The store of ``kind`` saved in ``directory``; ValueError if its files are unreadable."""
    if kind == "faiss":
        from .faiss import FaissVectorStore

        return FaissVectorStore.load(directory, dimension)
    raise ValueError(f"unknown vector store {kind!r}; choose one of {', '.join(KINDS)}")


__all__ = ["KINDS", "VectorStore", "load_vector_store", "make_vector_store"]
