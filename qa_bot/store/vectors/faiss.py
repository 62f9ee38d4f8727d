"""The FAISS vector store (the local default): exhaustive search while it is fast enough, IVF above that.

Vectors are stored with FAISS's 8-bit scalar quantiser (``QT_8bit``: each dimension's range over
the vectors, cut in 255 steps): a quarter of float32's bytes, each component within half a step
(about 1e-3 for the default model), and the same answers on the fitting data
(docs/decisions/compact-index.md). A rebuild keeps the ranges of the store it replaces, widened
only where a new vector lies outside them, so vectors carried over are stored again unchanged; an
``append`` outside them stores everything again under wider ones. Indexes written before
(``IndexFlatIP``, ``IndexIVFFlat``: exact vectors) load and search as they are.

Inner-product search over every vector costs time linear in the corpus (a few milliseconds
at 50,000 passages on one core; ``python -m benchmarks.perf ann`` prints exhaustive search at
200,000). Above ``EXACT_LIMIT`` passages the index is an inverted file (``IndexIVFScalarQuantizer``): the
vectors are clustered by k-means into about 4·√n lists and a question scans the quarter of the
lists nearest to it. That share was chosen with ``benchmarks.perf ann`` on one half of the SQuAD
questions, as the smallest tried (32 to 512 of 2,048 lists at 200,000 passages) whose recall@10
against exact search reached 0.98 on distinct vectors; the other half reports it. An IVF index,
unlike HNSW, lets a rebuild reuse its trained lists and only add vectors.

Passage ids are FAISS ids: the exact index sits in an ``IndexIDMap2`` and the IVF index keeps a
hash-table direct map, so both add, remove and reconstruct by id. An index file written before
the id map existed (a bare ``IndexFlatIP`` whose ids are its row numbers) is read into one.

A search runs on one thread: the web app answers several questions at once, one per thread, and
on two cores one query spread over both threads only waits for the other core whenever it is busy.
This is the only module of qa_bot that imports faiss.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import faiss
import numpy as np

from .base import Blocks, Fields, as_blocks, check_rows

EXACT_LIMIT = 50_000
PROBE_SHARE = 4  # scan 1/4 of the lists
_TRAIN_PER_LIST = 40  # k-means training points per list (faiss warns below 39)
CODE = faiss.ScalarQuantizer.QT_8bit
FILE = "passages.faiss"


def n_lists(n: int) -> int:
    """Lists for ``n`` vectors: about 4·√n, a power of two."""
    return 1 << max(4, round(math.log2(4 * math.sqrt(max(n, 1)))))


def n_probe(nlist: int) -> int:
    """Lists scanned per question: a quarter of them, at least 32 (all of them if fewer)."""
    return min(nlist, max(32, nlist // PROBE_SHARE))


class FaissVectorStore:
    """Passage vectors in a FAISS index (``VectorStore``).

    ``previous``, a FAISS store whose IVF lists were trained for the same list count, lends them
    to this store's first ``build``, so a rebuild of a large index skips k-means.
    """

    kind = "faiss"

    def __init__(self, dimension: int, *, previous: FaissVectorStore | None = None, seed: int = 0) -> None:
        self._dimension = int(dimension)
        self._previous = previous
        self._seed = seed
        self.index: faiss.Index = faiss.IndexIDMap2(faiss.IndexFlatIP(self._dimension))
        """The FAISS index itself (for benchmarks that measure FAISS; qa_bot goes through the methods)."""
        self._held: np.ndarray | None = None  # ids(), until the contents change

    # ------------------------------------------------------------------ contents

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def precision(self) -> float:
        sq = _scalar_quantizer(self.index)
        if sq is None or not sq.trained.size():
            return 0.0
        low, high = _held_ranges(sq)
        return float((high - low).max()) / 255 / 2 * 1.001  # half a step (and float rounding)

    def __len__(self) -> int:
        return int(self.index.ntotal)

    @property
    def is_ivf(self) -> bool:
        return self._ivf() is not None

    def _ivf(self) -> faiss.IndexIVF | None:
        ivf = faiss.downcast_index(self.index)
        return ivf if isinstance(ivf, faiss.IndexIVF) else None

    def build(self, ids: np.ndarray, vectors: np.ndarray | Blocks, fields: Fields | None = None) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(np.unique(ids)) != len(ids):
            raise ValueError("ids must be unique")
        blocks = as_blocks(vectors)
        self._held = None
        # The previous store lends its lists to this build only: holding on to it would keep every
        # earlier index of a long-running process alive.
        previous, self._previous = self._previous, None
        n, dim = len(ids), self._dimension
        if n == 0:
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dim))
        elif n <= EXACT_LIMIT:
            index = faiss.IndexIDMap2(faiss.IndexScalarQuantizer(dim, CODE, faiss.METRIC_INNER_PRODUCT))
        else:
            nlist = min(n_lists(n), n)  # k-means needs at least one point per list
            quantizer = faiss.IndexFlatIP(dim)
            prev = previous._ivf() if previous is not None else None
            if prev is not None and prev.nlist == nlist and prev.d == dim:
                quantizer.add(prev.quantizer.reconstruct_n(0, nlist))
            # Vectors themselves, not residuals from their list's centroid, are quantised: the
            # ranges are the vectors' (and a vector moves between lists when they are retrained).
            index = faiss.IndexIVFScalarQuantizer(quantizer, dim, nlist, CODE, faiss.METRIC_INNER_PRODUCT, False)
            if quantizer.ntotal != nlist:
                faiss.omp_set_num_threads(os.cpu_count() or 1)  # searches set one thread; k-means wants all
                size = min(n, nlist * _TRAIN_PER_LIST)
                sample = np.sort(np.random.default_rng(self._seed).choice(n, size=size, replace=False))
                index.train(check_rows(np.arange(size), _rows_at(blocks, sample, dim), dim)[1])
            index.set_direct_map_type(faiss.DirectMap.Hashtable)  # reconstruct and remove by id
            index.nprobe = n_probe(nlist)
        if n:
            _set_ranges(index, _ranges(blocks, dim, _scalar_quantizer(previous.index) if previous else None))
        added = 0
        for block in blocks():
            block_ids, block = check_rows(ids[added : added + len(block)], block, dim)
            index.add_with_ids(block, block_ids)
            added += len(block)
        if added != n:
            raise ValueError(f"got {n} ids for {added} vectors")
        self.index = index

    def append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_rows(ids, vectors, self._dimension)
        held = np.intersect1d(ids, self._held_ids())
        if len(held):
            raise ValueError(f"ids already held: {held[:5].tolist()}{' …' if len(held) > 5 else ''}")
        self._held = None
        held = _scalar_quantizer(self.index)
        if held is not None and not _within(held, vectors):
            # The quantiser's ranges must widen: store everything again under the wider ones (the
            # vectors held move by up to one more step; a build, which sees every vector, does not).
            old = self._held_ids()
            everything = np.concatenate([old, ids]), np.vstack([self.index.reconstruct_batch(old), vectors])
            self._previous = self
            self.build(*everything)
            return
        self.index.add_with_ids(vectors, ids)

    def delete(self, ids: np.ndarray) -> None:
        ids = np.intersect1d(np.asarray(ids, dtype=np.int64).reshape(-1), self._held_ids())
        if not len(ids):
            return
        self._held = None
        if self.is_ivf:  # its hash-table direct map removes by an explicit list of ids only
            self.index.remove_ids(faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids)))
        else:
            self.index.remove_ids(faiss.IDSelectorBatch(ids))

    def ids(self) -> np.ndarray:
        return self._held_ids().copy()

    def holds_rows(self, n: int) -> bool:
        return np.array_equal(self._held_ids(), np.arange(n))

    def _held_ids(self) -> np.ndarray:
        if self._held is None:
            ivf = self._ivf()
            if ivf is None:
                held = faiss.vector_to_array(faiss.downcast_index(self.index).id_map)
            else:
                lists = ivf.invlists
                held = np.concatenate([np.empty(0, np.int64)] + [
                    faiss.rev_swig_ptr(lists.get_ids(i), lists.list_size(i))
                    for i in range(ivf.nlist) if lists.list_size(i)
                ])
            self._held = np.sort(held.astype(np.int64))
        return self._held

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return np.empty((0, self._dimension), dtype=np.float32)
        try:
            return self.index.reconstruct_batch(ids)
        except RuntimeError:
            missing = ids[~np.isin(ids, self._held_ids())]
            raise KeyError(int(missing[0]) if len(missing) else ids.tolist()) from None

    # ------------------------------------------------------------------ search

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-``k`` (scores, ids) per query row, ids -1 where fewer exist.

        A filter (``allowed``) that keeps no more than EXACT_LIMIT passages of an IVF index is
        searched exactly over just those passages, so an approximate index never misses a
        passage because the filter emptied the lists it probed.
        """
        queries = np.ascontiguousarray(queries, dtype=np.float32)
        faiss.omp_set_num_threads(1)
        ivf = self._ivf()
        keep = None if allowed is None else np.asarray(allowed, dtype=np.int64).reshape(-1)
        if ivf is not None and keep is not None and len(keep) <= EXACT_LIMIT:
            held = self._held_ids()  # sorted: the allowed ids it holds are found by bisection
            at = np.minimum(np.searchsorted(held, keep), max(len(held) - 1, 0))
            return self._exact_subset(queries, k, np.unique(keep[held[at] == keep]) if len(held) else keep[:0])
        selector = None if keep is None else faiss.IDSelectorBatch(keep)
        if ivf is not None:  # the share of lists scanned follows this code, not the saved file
            params = faiss.SearchParametersIVF(sel=selector, nprobe=n_probe(ivf.nlist))
        else:
            params = None if selector is None else faiss.SearchParameters(sel=selector)
        return self.index.search(queries, k, params=params)

    def _exact_subset(self, queries: np.ndarray, k: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        vectors = self.index.reconstruct_batch(keep)
        sims = queries @ vectors.T
        k_eff = min(k, len(keep))
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k_eff]
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        ids = np.full((len(queries), k), -1, dtype=np.int64)
        scores[:, :k_eff] = np.take_along_axis(sims, top, axis=1)
        ids[:, :k_eff] = keep[top]
        return scores, ids

    # ------------------------------------------------------------------ files

    def save(self, directory: Path) -> None:
        faiss.write_index(self.index, str(Path(directory) / FILE))

    @classmethod
    def load(cls, directory: Path, dimension: int) -> FaissVectorStore:
        """Read ``passages.faiss``; raises ValueError if it is not a FAISS index of ``dimension``."""
        try:
            index = faiss.read_index(str(Path(directory) / FILE))
        except RuntimeError as exc:
            raise ValueError(f"not a FAISS index ({exc})") from None
        if index.d != dimension:
            raise ValueError(f"holds {index.d}-dimensional vectors, not {dimension}-dimensional ones")
        store = cls(dimension)
        bare = faiss.downcast_index(index)
        if isinstance(bare, faiss.IndexIVF):
            if bare.direct_map.type != faiss.DirectMap.Hashtable:
                bare.set_direct_map_type(faiss.DirectMap.Hashtable)
        elif not isinstance(bare, faiss.IndexIDMap2):
            # An index from before passage ids: its ids are its row numbers.
            vectors = index.reconstruct_n(0, index.ntotal) if index.ntotal else np.empty((0, dimension), np.float32)
            index = faiss.IndexIDMap2(faiss.IndexFlatIP(dimension))
            index.add_with_ids(vectors, np.arange(len(vectors), dtype=np.int64))
        store.index = index
        return store


def _scalar_quantizer(index: faiss.Index | None) -> faiss.ScalarQuantizer | None:
    """The scalar quantiser of a store's index (None for one written before it, or an empty one)."""
    if index is None:
        return None
    bare = faiss.downcast_index(index)
    if isinstance(bare, faiss.IndexIDMap2):
        bare = faiss.downcast_index(bare.index)
    return bare.sq if isinstance(bare, (faiss.IndexScalarQuantizer, faiss.IndexIVFScalarQuantizer)) else None


def _held_ranges(sq: faiss.ScalarQuantizer) -> tuple[np.ndarray, np.ndarray]:
    """(lowest, highest) value per dimension that ``sq`` encodes (``QT_8bit`` keeps minimum, span)."""
    trained = faiss.vector_to_array(sq.trained).reshape(2, sq.d)
    return trained[0], trained[0] + trained[1]


def _ranges(blocks: Blocks, dim: int, previous: faiss.ScalarQuantizer | None) -> tuple[np.ndarray, np.ndarray]:
    """Each dimension's lowest and highest value over every vector (one pass over the blocks),
    widened to the previous store's ranges: where nothing lies outside them, they stay as they were,
    and the vectors carried over from it are stored again unchanged."""
    low, high = np.full(dim, np.inf, np.float32), np.full(dim, -np.inf, np.float32)
    for block in blocks():
        block = check_rows(np.arange(len(block)), block, dim)[1]
        if len(block):
            low, high = np.minimum(low, block.min(axis=0)), np.maximum(high, block.max(axis=0))
    if previous is not None and previous.d == dim and previous.qtype == CODE and previous.trained.size():
        held_low, held_high = _held_ranges(previous)
        # FAISS decodes the top step half a step above the range: up to a step above, a vector is inside.
        step = (held_high - held_low) / 255
        low = np.minimum(low, held_low)
        high = np.where(high <= held_high + step, held_high, np.maximum(high, held_high))
    return low, high


def _within(sq: faiss.ScalarQuantizer, vectors: np.ndarray) -> bool:
    low, high = _held_ranges(sq)
    step = (high - low) / 255
    return bool(np.all(vectors >= low) and np.all(vectors <= high + step))


def _set_ranges(index: faiss.Index, ranges: tuple[np.ndarray, np.ndarray]) -> None:
    """Give ``index``'s quantiser these ranges (its training) and mark it trained."""
    sq = _scalar_quantizer(index)
    if sq is None:
        return
    low, high = ranges
    span = np.maximum(high - low, 1e-6).astype(np.float32)
    faiss.copy_array_to_vector(np.concatenate([low, span]).astype(np.float32), sq.trained)
    bare = faiss.downcast_index(index)
    if isinstance(bare, faiss.IndexIDMap2):
        faiss.downcast_index(bare.index).is_trained = True
    bare.is_trained = index.is_trained = True


def _rows_at(blocks: Blocks, rows: np.ndarray, dim: int) -> np.ndarray:
    """The vectors at (ascending) row numbers ``rows`` of ``blocks``, read in one pass over them."""
    out, start = [], 0
    for block in blocks():
        lo, hi = np.searchsorted(rows, [start, start + len(block)])
        out.append(np.asarray(block, dtype=np.float32)[rows[lo:hi] - start])
        start += len(block)
    return np.ascontiguousarray(np.concatenate(out) if out else np.empty((0, dim), np.float32))
