"""The passage vector index: exact below a size, IVF above it, and what each must guarantee."""

from __future__ import annotations

import faiss
import numpy as np
import pytest

from qa_bot.store.vectors import faiss as ann
from qa_bot.bot import QABot
from qa_bot.indexing.build import build_index
from qa_bot.store.files import load_index


def clustered(n: int, dim: int = 32, clusters: int = 40, seed: int = 0) -> np.ndarray:
    """Unit vectors around a few centres, like sentence embeddings of a corpus on a few topics."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((clusters, dim))
    x = centres[rng.integers(clusters, size=n)] + 0.6 * rng.standard_normal((n, dim))
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    return x.astype(np.float32)


def exact_top(x: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    return np.argsort(-(q @ x.T), axis=1, kind="stable")[:, :k]


@pytest.fixture
def small_limit(monkeypatch):
    monkeypatch.setattr(ann, "EXACT_LIMIT", 1000)


def test_a_quarter_of_the_lists_is_scanned():
    assert ann.n_probe(2048) == 512 and ann.n_probe(64) == 32 and ann.n_probe(10) == 10


def test_lists_grow_with_the_square_root():
    assert ann.n_lists(10_000) == 512  # 4 * 100 = 400 -> nearest power of two
    assert ann.n_lists(200_000) == 2048
    assert ann.n_lists(1) == 16


def test_up_to_the_limit_the_index_is_exact():
    x = clustered(800)
    index = ann.make_index(x)
    assert not ann.is_ivf(index)
    _, ids = ann.search(index, x[:20], 10)
    np.testing.assert_array_equal(ids, exact_top(x, x[:20], 10))


def test_above_the_limit_an_ivf_index_finds_almost_all_true_neighbours(small_limit):
    x = clustered(6000)
    queries = clustered(200, seed=1)
    index = ann.make_index(x)
    assert ann.is_ivf(index) and index.nlist == ann.n_lists(6000)
    scores, ids = ann.search(index, queries, 10)
    truth = exact_top(x, queries, 10)
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), truth.tolist())])
    assert recall >= 0.95
    # Scores are exact inner products of the passages found (vectors are stored uncompressed).
    np.testing.assert_allclose(scores, np.einsum("qd,qkd->qk", queries, x[ids]), rtol=1e-5, atol=1e-5)


def test_ivf_index_round_trips_and_reconstructs_by_id(small_limit, tmp_path):
    x = clustered(3000)
    faiss.write_index(ann.make_index(x), str(tmp_path / "p.faiss"))
    index = faiss.read_index(str(tmp_path / "p.faiss"))
    assert ann.is_ivf(index) and faiss.downcast_index(index).nprobe == ann.n_probe(index.nlist)
    np.testing.assert_array_equal(index.reconstruct(1234), x[1234])
    np.testing.assert_array_equal(index.reconstruct_n(0, index.ntotal), x)


def test_filtered_search_on_ivf_is_exact_within_the_filter(small_limit):
    x = clustered(3000)
    index = ann.make_index(x)
    allowed = np.zeros(len(x), dtype=bool)
    allowed[np.random.default_rng(2).choice(len(x), 150, replace=False)] = True
    queries = x[:5]
    _, ids = ann.search(index, queries, 10, allowed)
    keep = np.flatnonzero(allowed)
    np.testing.assert_array_equal(ids, keep[exact_top(x[keep], queries, 10)])


def test_filter_smaller_than_k_pads_with_minus_one(small_limit):
    x = clustered(3000)
    allowed = np.zeros(len(x), dtype=bool)
    allowed[[5, 7]] = True
    _, ids = ann.search(ann.make_index(x), x[:1], 4, allowed)
    assert sorted(ids[0, :2].tolist()) == [5, 7] and ids[0, 2:].tolist() == [-1, -1]


def test_rebuild_reuses_the_trained_lists(small_limit, monkeypatch):
    x = clustered(3000)
    first = ann.make_index(x)
    trained = []
    monkeypatch.setattr(faiss.IndexIVFFlat, "train", lambda self, v: trained.append(len(v)))
    second = ann.make_index(x[:2900], previous=first)  # same list count: no k-means
    assert not trained and second.ntotal == 2900
    np.testing.assert_array_equal(
        second.quantizer.reconstruct_n(0, second.nlist), first.quantizer.reconstruct_n(0, first.nlist)
    )


def test_a_built_ivf_index_answers_like_an_exact_one(small_corpus, tmp_path, fake_encoder, monkeypatch):
    """The whole path (build, write, load, dense search, BM25-only hits reconstructed) on IVF."""
    build_index(small_corpus, tmp_path / "exact", fake_encoder)
    exact = QABot(load_index(tmp_path / "exact"), fake_encoder)
    monkeypatch.setattr(ann, "EXACT_LIMIT", 4)
    build_index(small_corpus, tmp_path / "ivf", fake_encoder)
    approx = QABot(load_index(tmp_path / "ivf"), fake_encoder)
    assert ann.is_ivf(approx.data.passage_index) and not ann.is_ivf(exact.data.passage_index)
    # With this few lists every list is scanned, so the answers must be the same.
    ivf = approx.data.passage_index
    assert ann.n_probe(ivf.nlist) == ivf.nlist
    for question in ("What does the BLA want?", "Who attacked the train?", "When was the festival held?"):
        assert approx.ask(question).to_dict() == exact.ask(question).to_dict()
