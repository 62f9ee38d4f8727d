"""The FAISS vector store: exact below a size, IVF above it, and what each must guarantee.

What every vector store must do is in test_vector_store.py; this file holds what is FAISS's own.
"""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from qa_bot.bot import QABot
from qa_bot.indexing.build import build_index
from qa_bot.store.files import load_index
from qa_bot.store.vectors import faiss as faiss_store
from qa_bot.store.vectors.faiss import FaissVectorStore


def clustered(n: int, dim: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres, like sentence embeddings of a corpus on a few topics."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(clusters, size=n)] + 0.6 * rng.standard_normal((n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def exact_top(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :k]


def store_of(x: np.ndarray, previous: FaissVectorStore | None = None) -> FaissVectorStore:
    store = FaissVectorStore(x.shape[1], previous=previous)
    store.build(np.arange(len(x)), x)
    return store


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(faiss_store, "EXACT_LIMIT", 1000)


def test_a_quarter_of_the_lists_is_scanned():
    assert faiss_store.n_probe(2048) == 512 and faiss_store.n_probe(64) == 32 and faiss_store.n_probe(10) == 10


def test_lists_grow_with_the_square_root():
    assert faiss_store.n_lists(10_000) == 512  # 4 * 100 = 400 -> nearest power of two
    assert faiss_store.n_lists(200_000) == 2048
    assert faiss_store.n_lists(1) == 16


def test_up_to_the_limit_the_search_is_exhaustive_over_the_vectors_held():
    x = clustered(800)
    store = store_of(x)
    assert not store.is_ivf
    held = store.vectors(np.arange(len(x)))
    assert 0 < np.abs(held - x).max() <= store.precision < 5e-3  # 8 bits a component
    scores, ids = store.search(x[:20], 10)
    np.testing.assert_array_equal(ids, exact_top(held, x[:20], 10))
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", x[:20], held[ids]), rtol=1e-5, atol=1e-5)
    # Against the vectors given, the top 10 differ at most where scores are within the quantiser's error.
    truth = exact_top(x, x[:20], 10)
    assert np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), truth.tolist())]) >= 0.95


def test_above_the_limit_an_ivf_index_finds_almost_all_true_neighbours(small_limit):
    x = clustered(6000)
    queries = clustered(200, seed=1)
    store = store_of(x)
    assert store.is_ivf and store.index.nlist == faiss_store.n_lists(6000)
    scores, ids = store.search(queries, 10)
    truth = exact_top(x, queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), truth.tolist())])
    assert recall >= 0.95
    # Scores are inner products with the vectors held, within the quantiser's error of the given ones.
    held = store.vectors(np.arange(len(x)))
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, held[ids]), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, x[ids]), atol=store.precision * 8)


def test_ivf_index_round_trips_and_reconstructs_by_id(small_limit, tmp_path):
    x = clustered(3000)
    store_of(x).save(tmp_path)
    store = FaissVectorStore.load(tmp_path, x.shape[1])
    assert store.is_ivf and store.index.nprobe == faiss_store.n_probe(store.index.nlist)
    held = store.vectors(np.arange(len(x)))
    assert np.abs(held - x).max() <= store.precision
    np.testing.assert_array_equal(store.vectors(np.array([1234])), held[1234:1235])


def test_filtered_search_on_ivf_is_exact_within_the_filter(small_limit):
    x = clustered(3000)
    store = store_of(x)
    keep = np.sort(np.random.default_rng(2).choice(len(x), 150, replace=False))
    queries = x[:5]
    _, ids = store.search(queries, 10, keep)
    held = store.vectors(keep)
    np.testing.assert_array_equal(ids, keep[exact_top(held, queries, 10)])


def test_a_filter_smaller_than_k_pads_with_minus_one_on_ivf(small_limit):
    x = clustered(3000)
    _, ids = store_of(x).search(x[:1], 4, np.array([5, 7]))
    assert sorted(ids[0, :2].tolist()) == [5, 7] and ids[0, 2:].tolist() == [-1, -1]


def test_rebuild_reuses_the_trained_lists(small_limit, monkeypatch):
    x = clustered(3000)
    first = store_of(x)
    trained = []
    monkeypatch.setattr(faiss.IndexIVFScalarQuantizer, "train", lambda self, v: trained.append(len(v)))
    second = store_of(x[:2900], previous=first)  # same list count: no k-means
    assert not trained and len(second) == 2900
    np.testing.assert_array_equal(
        second.index.quantizer.reconstruct_n(0, second.index.nlist),
        first.index.quantizer.reconstruct_n(0, first.index.nlist),
    )


def test_ivf_deletes_and_appends_by_id(small_limit):
    x = clustered(3000)
    store = store_of(x)
    store.delete(np.arange(0, 3000, 2))
    assert len(store) == 1500 and store.ids().tolist() == list(range(1, 3000, 2))
    _, ids = store.search(x[10:11], 5, np.arange(10, 20))
    assert 10 not in ids[0].tolist() and set(ids[0].tolist()) <= {11, 13, 15, 17, 19}
    store.append(np.array([10]), x[10:11])
    _, ids = store.search(x[10:11], 1, np.arange(10, 20))
    assert ids[0, 0] == 10


def test_an_index_file_from_before_passage_ids_loads_with_row_numbers_as_ids(tmp_path):
    """Indexes written before the vector-store seam hold a bare IndexFlatIP: its row numbers are
    the passage ids, and it loads as such."""
    x = clustered(50)
    bare = faiss.IndexFlatIP(x.shape[1])
    bare.add(x)
    faiss.write_index(bare, str(tmp_path / faiss_store.FILE))
    store = FaissVectorStore.load(tmp_path, x.shape[1])
    assert store.ids().tolist() == list(range(50))
    np.testing.assert_array_equal(store.vectors(np.array([3, 7])), x[[3, 7]])
    np.testing.assert_array_equal(store.search(x[:3], 4)[1], exact_top(x, x[:3], 4))


def test_a_file_of_another_dimension_or_kind_is_refused(tmp_path):
    store_of(clustered(20)).save(tmp_path)
    with pytest.raises(ValueError, match="32-dimensional"):
        FaissVectorStore.load(tmp_path, 64)
    (tmp_path / faiss_store.FILE).write_bytes(b"not an index")
    with pytest.raises(ValueError, match="not a FAISS index"):
        FaissVectorStore.load(tmp_path, 32)


def test_a_built_ivf_index_answers_like_an_exact_one(small_corpus, tmp_path, fake_encoder, monkeypatch):
    """The whole path (build, write, load, dense search, BM25-only hits reconstructed) on IVF."""
    build_index(small_corpus, tmp_path / "exact", fake_encoder)
    exact = QABot(load_index(tmp_path / "exact"), fake_encoder)
    monkeypatch.setattr(faiss_store, "EXACT_LIMIT", 4)
    build_index(small_corpus, tmp_path / "ivf", fake_encoder)
    approx = QABot(load_index(tmp_path / "ivf"), fake_encoder)
    assert approx.data.passage_vectors.is_ivf and not exact.data.passage_vectors.is_ivf
    # With this few lists every list is scanned, so the answers must be the same.
    ivf = approx.data.passage_vectors.index
    assert faiss_store.n_probe(ivf.nlist) == ivf.nlist
    for question in ("What does the BLA want?", "Who attacked the train?", "When was the festival held?"):
        assert approx.ask(question).to_dict() == exact.ask(question).to_dict()
