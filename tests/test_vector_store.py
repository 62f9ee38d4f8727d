"""The vector-store contract: what every backend behind ``store.vectors.VectorStore`` must do.

Each test runs on every backend of ``BACKENDS`` (as haystack's document-store tests and txtai's
``DenseTest`` run one suite on each engine). A new backend is one more entry there. Results are
checked against a brute-force reference, with an odd number of queries and a ``k`` larger than
what a filter keeps, so the edges are hit.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from qa_bot.store.vectors import KINDS, VectorStore, load_vector_store, make_vector_store
from qa_bot.store.vectors import faiss as faiss_store

DIM = 16


def _faiss(monkeypatch) -> tuple[Callable[[], VectorStore], Callable[[Path], VectorStore]]:
    return lambda: make_vector_store("faiss", DIM), lambda d: load_vector_store("faiss", d, DIM)


def _faiss_ivf(monkeypatch):
    # IVF from 10 vectors on; the suite's stores (<= 64 vectors) get 32 lists or fewer, all of
    # them scanned (n_probe), so an IVF store must answer exactly too.
    monkeypatch.setattr(faiss_store, "EXACT_LIMIT", 10)
    return _faiss(monkeypatch)


def _milvus_lite(monkeypatch, tmp_path_factory=None):
    """Milvus Lite in a file of its own, through the code that talks to a Milvus server by URI."""
    pytest.importorskip("pymilvus", reason="the Milvus backend is an extra: pip install 'qa-bot[milvus]'")
    location = f"milvus-lite://{_milvus_file()}"
    return (lambda: make_vector_store("milvus", DIM, location=location),
            lambda d: load_vector_store("milvus", d, DIM))


_MILVUS_FILES: list[Path] = []


def _milvus_file() -> Path:
    """One Milvus Lite file for the whole suite (each store is a collection of its own in it):
    starting Milvus Lite costs a fraction of a second per file."""
    if not _MILVUS_FILES:
        import tempfile

        _MILVUS_FILES.append(Path(tempfile.mkdtemp(prefix="qa-bot-milvus-")) / "contract.db")
    return _MILVUS_FILES[0]


BACKENDS = {"faiss": _faiss, "faiss-ivf": _faiss_ivf, "milvus-lite": _milvus_lite}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, monkeypatch):
    """(new empty store, load a saved one from a directory) for one backend."""
    return BACKENDS[request.param](monkeypatch)


def unit_rows(n: int, seed: int = 0) -> np.ndarray:
    x = np.random.default_rng(seed).standard_normal((n, DIM))
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def brute_force(ids: np.ndarray, vectors: np.ndarray, queries: np.ndarray, k: int, allowed=None):
    """The reference: every inner product, best first, padded with (-inf, -1)."""
    if allowed is not None:
        keep = np.isin(ids, allowed)
        ids, vectors = ids[keep], vectors[keep]
    sims = queries @ vectors.T
    order = np.argsort(-sims, axis=1, kind="stable")[:, :k]
    scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
    out = np.full((len(queries), k), -1, dtype=np.int64)
    scores[:, : order.shape[1]] = np.take_along_axis(sims, order, axis=1)
    out[:, : order.shape[1]] = ids[order]
    return scores, out


def assert_holds(store: VectorStore, ids: np.ndarray, vectors: np.ndarray) -> None:
    """``store`` holds ``vectors`` under ``ids``, each component within the store's precision."""
    held = store.vectors(ids)
    assert held.shape == vectors.shape and held.dtype == np.float32
    assert np.abs(held - vectors).max() <= store.precision + 1e-7
    assert store.precision < 0.01, "unit vectors keep their components to within a hundredth"


def assert_same_results(got, want):
    (scores, ids), (want_scores, want_ids) = got, want
    np.testing.assert_array_equal(ids, want_ids)
    np.testing.assert_allclose(scores[ids >= 0], want_scores[want_ids >= 0], rtol=1e-5, atol=1e-6)


@pytest.fixture
def filled(backend):
    """A store of 60 vectors under non-contiguous ids, and what it holds."""
    new, _ = backend
    ids = np.arange(60, dtype=np.int64) * 7 + 3  # 3, 10, 17, ...
    vectors = unit_rows(60)
    store = new()
    store.build(ids, vectors)
    return store, ids, vectors


def test_the_factory_knows_its_kinds_and_names_them_when_asked_for_another():
    assert "faiss" in KINDS
    with pytest.raises(ValueError, match="unknown vector store 'nope'.*faiss"):
        make_vector_store("nope", DIM)


def test_a_new_store_is_empty(backend):
    new, _ = backend
    store = new()
    assert len(store) == 0 and store.ids().tolist() == [] and store.dimension == DIM
    scores, ids = store.search(unit_rows(3), 4)
    assert ids.tolist() == [[-1] * 4] * 3


def test_a_store_knows_whether_it_holds_an_indexs_rows(backend):
    new, _ = backend
    store = new()
    assert store.holds_rows(0)
    store.build(np.arange(20), unit_rows(20))
    assert store.holds_rows(20) and not store.holds_rows(19) and not store.holds_rows(21)
    store.delete(np.array([7]))
    assert not store.holds_rows(20) and not store.holds_rows(19)
    other = new()
    other.build(np.arange(20) + 1, unit_rows(20))
    assert not other.holds_rows(20)


def test_build_holds_exactly_the_vectors_given(filled):
    store, ids, vectors = filled
    assert len(store) == 60 and store.ids().tolist() == ids.tolist()
    assert_holds(store, ids[::-1], vectors[::-1])
    assert store.vectors(np.array([], dtype=np.int64)).shape == (0, DIM)


def test_vectors_given_a_block_at_a_time_build_the_same_store(filled, backend):
    store, ids, vectors = filled
    new, _ = backend
    blocks = new()
    read = []

    def chunks():
        read.append(1)
        return (vectors[lo : lo + 25] for lo in range(0, len(vectors), 25))

    blocks.build(ids, chunks)
    assert blocks.ids().tolist() == ids.tolist() and read, "the blocks were read"
    np.testing.assert_array_equal(blocks.vectors(ids), store.vectors(ids))
    queries = unit_rows(5, seed=3)
    assert_same_results(blocks.search(queries, 7), store.search(queries, 7))
    with pytest.raises(ValueError, match="60 ids for 50 vectors"):
        new().build(ids, lambda: [vectors[:25], vectors[25:50]])


def test_search_matches_brute_force(filled):
    """Over the vectors the store holds (``vectors``), which is what it scores by."""
    store, ids, _ = filled
    vectors = store.vectors(ids)
    queries = unit_rows(7, seed=1)
    for k in (1, 5, 60, 75):  # 75: more than the store holds
        assert_same_results(store.search(queries, k), brute_force(ids, vectors, queries, k))


def test_a_filter_restricts_the_search_and_pads_when_it_keeps_fewer_than_k(filled):
    store, ids, _ = filled
    vectors = store.vectors(ids)
    queries = unit_rows(5, seed=2)
    allowed = ids[[0, 4, 9, 33, 59]]
    assert_same_results(store.search(queries, 8, allowed), brute_force(ids, vectors, queries, 8, allowed))
    scores, found = store.search(queries, 3, np.array([], dtype=np.int64))
    assert (found == -1).all()


def test_build_replaces_everything_held(filled):
    store, _, _ = filled
    store.build(np.array([1, 2]), unit_rows(2, seed=3))
    assert store.ids().tolist() == [1, 2]


def test_append_adds_and_refuses_an_id_already_held(filled):
    store, ids, vectors = filled
    extra = unit_rows(3, seed=4)
    store.append(np.array([1, 2, 1000]), extra)
    assert len(store) == 63 and store.ids().tolist() == sorted([*ids.tolist(), 1, 2, 1000])
    assert_holds(store, np.array([1, 2, 1000]), extra)
    # An append outside the quantiser's ranges stores everything again under wider ones: what was
    # held may move by one more step.
    assert np.abs(store.vectors(ids) - vectors).max() <= 2 * store.precision + 1e-7
    _, found = store.search(extra[2:], 1)
    assert found[0, 0] == 1000
    with pytest.raises(ValueError, match="already held"):
        store.append(ids[:1], vectors[:1])
    assert len(store) == 63


def test_delete_removes_by_id_and_ignores_ids_not_held(filled):
    store, ids, _ = filled
    vectors = store.vectors(ids)
    gone = ids[[1, 5, 20]]
    store.delete(np.array([*gone, 999_999]))
    assert len(store) == 57 and not set(gone.tolist()) & set(store.ids().tolist())
    kept = ~np.isin(ids, gone)
    queries = vectors[[1, 5, 20]]  # each gone vector is its own best match no more
    assert_same_results(store.search(queries, 4), brute_force(ids[kept], vectors[kept], queries, 4))
    with pytest.raises(KeyError):
        store.vectors(gone[:1])


def test_save_then_load_answers_the_same(filled, backend, tmp_path):
    store, ids, vectors = filled
    store.save(tmp_path)
    _, load = backend
    loaded = load(tmp_path)
    queries = unit_rows(3, seed=5)
    assert loaded.kind == store.kind and loaded.ids().tolist() == ids.tolist()
    assert_same_results(loaded.search(queries, 6), store.search(queries, 6))
    np.testing.assert_array_equal(loaded.vectors(ids), store.vectors(ids))
    assert loaded.precision == store.precision
    assert_holds(loaded, ids, vectors)


def test_a_rebuild_from_what_a_store_holds_stores_it_unchanged(filled, backend):
    """An incremental build reads the vectors of unchanged articles back from the store it replaces."""
    store, ids, _ = filled
    new, _ = backend
    held = store.vectors(ids)
    again = make_vector_store(store.kind, DIM, previous=store)
    again.build(ids, held)
    np.testing.assert_array_equal(again.vectors(ids), held)


def test_bad_rows_are_refused_with_the_reason(backend):
    new, _ = backend
    store = new()
    with pytest.raises(ValueError, match=r"shape \(n, 16\)"):
        store.build(np.arange(2), np.zeros((2, DIM + 1), np.float32))
    with pytest.raises(ValueError, match="2 ids for 3 vectors"):
        store.build(np.arange(2), unit_rows(3))
    with pytest.raises(ValueError, match="unique"):
        store.build(np.array([4, 4]), unit_rows(2))
