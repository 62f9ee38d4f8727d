"""The passage vector index: exact search while it is fast enough, an IVF index above that.

Exact inner-product search (``IndexFlatIP``) costs time linear in the corpus (a few milliseconds
at 50,000 passages on one core; ``benchmarks/perf.py ann`` prints exact search at 200,000). Above
``EXACT_LIMIT`` passages the index is an inverted file (``IndexIVFFlat``): the vectors are
clustered by k-means into about 4·√n lists and a question scans the quarter of the lists nearest
to it. That share was chosen with ``benchmarks/perf.py ann`` on one half of the SQuAD questions,
as the smallest tried (32 to 512 of 2,048 lists at 200,000 passages) whose recall@10 against exact
search reached 0.98 on distinct vectors; the other half reports it. Vectors are stored
uncompressed, so the scores it returns are exact for the passages it finds. An IVF index, unlike
HNSW, lets an incremental build reuse its trained lists and only add vectors.

A search runs on one thread: the web app answers several questions at once, one per thread, and
on two cores one query spread over both threads only waits for the other core whenever it is busy.
"""

from __future__ import annotations

import math
import os

import faiss
import numpy as np

EXACT_LIMIT = 50_000
PROBE_SHARE = 4  # scan 1/4 of the lists
_TRAIN_PER_LIST = 40  # k-means training points per list (faiss warns below 39)


def n_lists(n: int) -> int:
    """Lists for ``n`` vectors: about 4·√n, a power of two."""
    return 1 << max(4, round(math.log2(4 * math.sqrt(max(n, 1)))))


def n_probe(nlist: int) -> int:
    """Lists scanned per question: a quarter of them, at least 32 (all of them if fewer)."""
    return min(nlist, max(32, nlist // PROBE_SHARE))


def is_ivf(index: faiss.Index) -> bool:
    return isinstance(faiss.downcast_index(index), faiss.IndexIVF)


def make_index(vectors: np.ndarray, *, previous: faiss.Index | None = None, seed: int = 0) -> faiss.Index:
    """A passage index over L2-normalised ``vectors`` (rows are passage ids).

    If ``previous`` is an IVF index with the list count this size calls for, its trained
    centroids are reused, so an incremental build skips k-means.
    """
    n, dim = vectors.shape
    if n <= EXACT_LIMIT:
        index = faiss.IndexFlatIP(dim)
        index.add(vectors)
        return index
    nlist = min(n_lists(n), n)  # k-means needs at least one point per list
    quantizer = faiss.IndexFlatIP(dim)
    prev = faiss.downcast_index(previous) if previous is not None else None
    if isinstance(prev, faiss.IndexIVF) and prev.nlist == nlist and prev.d == dim:
        quantizer.add(prev.quantizer.reconstruct_n(0, nlist))
    index = faiss.IndexIVFFlat(quantizer, dim, nlist, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:
        faiss.omp_set_num_threads(os.cpu_count() or 1)  # searches set one thread; k-means wants all
        sample = np.random.default_rng(seed).choice(n, size=min(n, nlist * _TRAIN_PER_LIST), replace=False)
        index.train(vectors[np.sort(sample)])
    index.add(vectors)
    index.make_direct_map()  # lets reconstruct() fetch a passage's vector by id
    index.nprobe = n_probe(nlist)
    return index


def search(
    index: faiss.Index, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Top-``k`` (scores, ids) per query row, ids -1 where fewer exist.

    ``allowed``, a boolean mask over passages, restricts the search. A filter that keeps no more
    than EXACT_LIMIT passages is searched exactly over just those passages, so an approximate
    index never misses a passage because the filter emptied the lists it probed.
    """
    queries = np.ascontiguousarray(queries, dtype=np.float32)
    faiss.omp_set_num_threads(1)
    ivf = faiss.downcast_index(index)
    ivf = ivf if isinstance(ivf, faiss.IndexIVF) else None
    keep = None if allowed is None else np.flatnonzero(allowed).astype(np.int64)
    if ivf is not None and keep is not None and len(keep) <= EXACT_LIMIT:
        return _exact_subset(index, queries, k, keep)
    selector = None if keep is None else faiss.IDSelectorBatch(keep)
    if ivf is not None:  # the share of lists scanned follows this code, not the saved file
        params = faiss.SearchParametersIVF(sel=selector, nprobe=n_probe(ivf.nlist))
    else:
        params = None if selector is None else faiss.SearchParameters(sel=selector)
    return index.search(queries, k, params=params)


def _exact_subset(index: faiss.Index, queries: np.ndarray, k: int, keep: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    vectors = index.reconstruct_batch(keep)
    sims = queries @ vectors.T
    k_eff = min(k, len(keep))
    top = np.argsort(-sims, axis=1, kind="stable")[:, :k_eff]
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    ids = np.full((len(queries), k), -1, dtype=np.int64)
    scores[:, :k_eff] = np.take_along_axis(sims, top, axis=1)
    ids[:, :k_eff] = keep[top]
    return scores, ids
