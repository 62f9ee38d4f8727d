"""Passage vector stores behind one protocol (``base.VectorStore``) and the factory that picks one.

``faiss`` (``FaissVectorStore``) is the local default, files in the index directory; ``milvus``
(``MilvusVectorStore``) keeps them in a Milvus collection, on a server (``milvus://HOST:PORT/NAME``)
or in Milvus Lite (``milvus-lite://PATH``), the generation directory recording which. A new backend
is a module here implementing the protocol, one more branch in ``make_vector_store`` and
``load_vector_store``, and one more parameter of the contract tests (tests/test_vector_store.py).
"""

from __future__ import annotations

from pathlib import Path

from .base import VectorStore

KINDS = ("faiss", "milvus")


def make_vector_store(kind: str, dimension: int, *, previous: VectorStore | None = None,
                      location: str | None = None) -> VectorStore:
    """An empty store of ``kind`` for ``dimension``-dimensional vectors.

    ``previous``, the store of the index being rebuilt, may lend what it learnt (FAISS: trained
    IVF lists); a store of another kind is ignored. ``location`` says where a store that is not
    files in the index lives (Milvus: ``milvus://HOST:PORT/NAME`` or ``milvus-lite://PATH``).
    """
    if kind == "faiss":
        from .faiss import FaissVectorStore

        return FaissVectorStore(dimension, previous=previous if isinstance(previous, FaissVectorStore) else None)
    if kind == "milvus":
        from .milvus import MilvusLocation, MilvusVectorStore

        if location is not None:
            return MilvusVectorStore(dimension, MilvusLocation.parse(location))
        if isinstance(previous, MilvusVectorStore):  # a rebuild writes beside the store it replaces
            return MilvusVectorStore(dimension, previous.location)
        raise ValueError("a Milvus store needs a location: milvus://HOST:PORT/NAME or milvus-lite://PATH")
    raise ValueError(f"unknown vector store {kind!r}; choose one of {', '.join(KINDS)}")


def store_kind(spec: str | None) -> tuple[str, str | None]:
    """``(kind, location)`` of a ``--store`` value: None or a directory is the local FAISS default,
    ``milvus://…`` and ``milvus-lite://…`` a Milvus store there."""
    if spec and spec.startswith(("milvus://", "milvus-lite://")):
        from .milvus import MilvusLocation

        MilvusLocation.parse(spec)  # refused here, before any work, when malformed
        return "milvus", spec
    return "faiss", None


def discard_store(directory: Path) -> None:
    """Release what a generation's store holds outside its directory (a Milvus collection), as the
    generation is removed (and drop the Milvus collections an earlier build retired)."""
    if (Path(directory) / "milvus.json").exists() or (Path(directory).parent / "milvus-retired.json").exists():
        from .milvus_retired import discard

        discard(directory)


def load_vector_store(kind: str, directory: Path, dimension: int) -> VectorStore:
    """The store of ``kind`` saved in ``directory``; ValueError if its files are unreadable."""
    if kind == "faiss":
        from .faiss import FaissVectorStore

        return FaissVectorStore.load(directory, dimension)
    if kind == "milvus":
        from .milvus import MilvusVectorStore

        return MilvusVectorStore.load(directory, dimension)
    raise ValueError(f"unknown vector store {kind!r}; choose one of {', '.join(KINDS)}")


__all__ = ["KINDS", "VectorStore", "discard_store", "load_vector_store", "make_vector_store", "store_kind"]
