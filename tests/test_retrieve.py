"""Reciprocal rank fusion and hybrid retrieval, checked against brute-force references."""

from __future__ import annotations

import math
import random
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from conftest import SMALL_ARTICLES, FakeEncoder, make_corpus
from hypothesis import given, settings
from hypothesis import strategies as st

from qa_bot.indexing.build import build_index
from qa_bot.indexing.rows import embed_text
from qa_bot.retrieval.hybrid import Retriever, rrf
from qa_bot.store.files import load_index
from qa_bot.store.lexical import tokenize

# ---------------------------------------------------------------------------- rrf


def rrf_reference(rankings, k=60, weights=None):
    """Exact RRF with fractions: [(id, score)] sorted by score, then by smaller id."""
    weights = [1.0] * len(rankings) if weights is None else weights
    scores: dict[int, Fraction] = {}
    for weight, ranking in zip(weights, rankings):
        for position, doc in enumerate(ranking):
            scores[doc] = scores.get(doc, Fraction(0)) + Fraction(weight) / (k + position + 1)
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def assert_matches_reference(rankings, k=60, weights=None):
    ids, scores = rrf(rankings, k=k, weights=weights)
    expected = rrf_reference(rankings, k, weights)
    exact = dict(expected)
    assert ids.dtype == np.int64 and scores.dtype == np.float64
    assert sorted(ids.tolist()) == sorted(exact)
    np.testing.assert_allclose(scores, [float(exact[d]) for d in ids.tolist()], rtol=1e-12, atol=0)
    for a, b in zip(ids.tolist(), ids.tolist()[1:]):
        # Best first, smaller id first among ties. Scores within float rounding of each other may
        # come in either order here; test_rrf_exact_ties_with_float_rounding covers that case.
        near = abs(exact[a] - exact[b]) <= 1e-12 * exact[a]
        assert exact[a] > exact[b] or (exact[a] == exact[b] and a < b) or near, (a, b, rankings)


_RANKING = st.lists(st.integers(0, 40), unique=True, max_size=23)
# Weights a user would set; not subnormal ones, whose contribution vanishes in float64 sums.
_WEIGHT = st.one_of(st.sampled_from([0.0, 0.25, 0.5, 1.0, 2.0, 3.0]), st.floats(0.01, 4.0).map(lambda w: round(w, 3)))


@settings(max_examples=300, deadline=None)
@given(st.lists(_RANKING, max_size=5), st.integers(1, 100))
def test_rrf_matches_exact_reference(rankings, k):
    assert_matches_reference(rankings, k)


@settings(max_examples=300, deadline=None)
@given(
    st.lists(_RANKING, min_size=1, max_size=4).flatmap(
        lambda r: st.tuples(st.just(r), st.lists(_WEIGHT, min_size=len(r), max_size=len(r)))
    )
)
def test_rrf_weighted_matches_exact_reference(rankings_and_weights):
    rankings, weights = rankings_and_weights
    assert_matches_reference(rankings, 60, weights)


@pytest.mark.parametrize("sizes", [(1,), (7,), (3, 11), (13, 1, 5), (0, 9), (17, 17, 17, 17)])
def test_rrf_seeded_random_odd_sizes(sizes):
    rng = random.Random(sum(sizes) * 31 + len(sizes))
    for _ in range(25):
        rankings = [rng.sample(range(50), n) for n in sizes]
        assert_matches_reference(rankings, k=rng.choice([1, 7, 60]))


def test_rrf_numpy_rankings_like_the_retriever_passes():
    ids, scores = rrf([np.array([4, 2, 9], dtype=np.int64), np.array([9], dtype=np.int64)])
    assert ids.tolist() == [9, 4, 2]
    assert scores[0] == pytest.approx(1 / 63 + 1 / 61)


def test_rrf_ties_are_broken_by_smaller_id():
    # 5 and 3 swap places between the lists: equal fused scores.
    ids, scores = rrf([[5, 3], [3, 5]])
    assert ids.tolist() == [3, 5]
    assert scores[0] == scores[1]
    ids, scores = rrf([[8], [2], [5]])
    assert ids.tolist() == [2, 5, 8]
    assert np.all(scores == 1 / 61)


@pytest.mark.parametrize(
    "rankings, k",
    [
        # Document 28: 1/(1+9) + 1/(1+14) = 1/6; document 3: 1/(1+5) = 1/6.
        ([[0, 1, 2, 4, 5, 29, 30, 31, 28], [0, 1, 2, 29, 3, 4, 5, 6, 7, 30, 31, 32, 33, 28]], 1),
        # Document 4: 1/2 + 3 * 1/6 = 1; document 5: 3 * 1/3 = 1.
        ([[4], [0, 5, 6, 7, 4], [0, 5, 6, 7, 4], [0, 5, 6, 7, 4]], 1),
    ],
)
def test_rrf_exact_ties_with_float_rounding(rankings, k):
    expected = rrf_reference(rankings, k)
    assert any(s1 == s2 for (_, s1), (_, s2) in zip(expected, expected[1:])), "an exact tie"
    ids, _ = rrf(rankings, k=k)
    assert ids.tolist() == [doc for doc, _ in expected]


def test_rrf_weights_change_the_order():
    rankings = [[1, 2], [2, 1]]
    assert rrf(rankings, weights=[2.0, 1.0])[0].tolist() == [1, 2]
    assert rrf(rankings, weights=[1.0, 2.0])[0].tolist() == [2, 1]
    ids, scores = rrf(rankings, weights=[0.0, 1.0])  # a zero weight silences a ranker
    assert ids.tolist() == [2, 1]
    assert scores.tolist() == pytest.approx([1 / 61, 1 / 62])


def test_rrf_single_ranking_keeps_its_order():
    ids, scores = rrf([[9, 1, 5, 3]], k=1)
    assert ids.tolist() == [9, 1, 5, 3]
    assert scores.tolist() == pytest.approx([1 / 2, 1 / 3, 1 / 4, 1 / 5])


@pytest.mark.parametrize("rankings", [[], [[]], [[], [], []]])
def test_rrf_empty_input(rankings):
    ids, scores = rrf(rankings)
    assert ids.shape == (0,) and scores.shape == (0,)
    assert ids.dtype == np.int64


@pytest.mark.parametrize("k", [0, -1, -60])
def test_rrf_rejects_non_positive_k(k):
    with pytest.raises(ValueError, match=f"k must be greater than 0, got {k}"):
        rrf([[1, 2]], k=k)


def test_rrf_rejects_wrong_number_of_weights():
    with pytest.raises(ValueError, match="got 1 weights for 2 rankings"):
        rrf([[1], [2]], weights=[1.0])


# ---------------------------------------------------------------------------- hybrid retrieval


@pytest.fixture(scope="module")
def encoder() -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="module")
def data(tmp_path_factory, encoder):
    tmp = tmp_path_factory.mktemp("retrieve")
    corpus = make_corpus(tmp, SMALL_ARTICLES)
    build_index(corpus, tmp / "index", encoder)
    return load_index(tmp / "index")


def passage_texts(data) -> list[str]:
    return [embed_text(data.heading(p), data.passage_text(p)) for p in range(len(data.passages))]


def bm25_reference(data, query_tokens: list[str], k1: float = 1.5, b: float = 0.75) -> np.ndarray:
    """Lucene BM25 (bm25s's default) computed directly from the passage token lists."""
    docs = [Counter(tokens or ["\u2400"]) for tokens in tokenize(passage_texts(data))]
    lengths = np.array([sum(d.values()) for d in docs], dtype=float)
    avg = lengths.mean()
    n = len(docs)
    scores = np.zeros(n)
    for term in set(query_tokens):
        df = sum(term in d for d in docs)
        if df == 0:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            tf = d[term]
            scores[i] += idf * tf / (tf + k1 * (1 - b + b * lengths[i] / avg)) if tf else 0.0
    return scores


def dense_reference(data, query_vector: np.ndarray) -> np.ndarray:
    vectors = data.all_passage_vectors()
    return vectors.astype(np.float64) @ query_vector.astype(np.float64)


def ranking(scores: np.ndarray, depth: int, positive_only: bool = False) -> list[int]:
    order = [int(i) for i in np.argsort(-scores, kind="stable")[:depth]]
    return [i for i in order if scores[i] > 0] if positive_only else order


QUERIES = [
    "What does the BLA want?",
    "How many homes were flooded in Riverton?",
    "solar farm Dalton acres",
    "Who won the chess championship",
    "Mayor Helen Park emergency evacuation boat",
    "independence Balochistan province gas mineral wealth",
    "engineers levees repairs March",
]


def test_idf_matches_document_frequencies(data):
    docs = [set(tokens) for tokens in tokenize(passage_texts(data))]
    n = len(docs)
    for term in sorted(set().union(*docs))[:60] + ["zzzunknownzzz"]:
        df = sum(term in d for d in docs)
        assert data.lexical.idf(term) == pytest.approx(math.log(1 + (n - df + 0.5) / (df + 0.5)))


@pytest.mark.parametrize("query", QUERIES)
def test_bm25_search_matches_brute_force(data, query):
    tokens = tokenize([query])[0]
    ids, scores = data.lexical.search(tokens, len(data.passages))
    reference = bm25_reference(data, tokens)
    assert len(ids) == int(np.count_nonzero(reference > 0))
    np.testing.assert_allclose(scores, reference[ids], rtol=1e-4)
    assert np.all(np.diff(scores) <= 1e-6), "BM25 hits come best first"


@pytest.mark.parametrize("k", [1, 3, 5, 100])
def test_search_batch_matches_brute_force(data, encoder, k):
    retriever = Retriever(data, depth=6)
    vectors = encoder.encode(QUERIES)
    tokens = tokenize(QUERIES)
    results = retriever.search_batch(vectors, tokens, k)
    assert len(results) == len(QUERIES)
    depth = min(max(6, k), len(data.passages))
    for query_vector, query_tokens, ranked in zip(vectors, tokens, results):
        ids = ranked.passages.tolist()
        assert len(ids) == len(set(ids)) <= k
        assert np.all(np.diff(ranked.fused) <= 0), "sorted by fused score"
        dense = dense_reference(data, query_vector)
        bm25 = bm25_reference(data, query_tokens)
        np.testing.assert_allclose(ranked.dense, dense[ids], atol=1e-5)
        np.testing.assert_allclose(ranked.bm25, bm25[ids], rtol=1e-4, atol=1e-6)
        # The fused list is RRF of the two brute-force rankings, cut at k.
        expected = rrf_reference([ranking(dense, depth), ranking(bm25, depth, positive_only=True)])
        assert ids == [doc for doc, _ in expected[:k]]
        np.testing.assert_allclose(ranked.fused, [float(s) for _, s in expected[:k]])


def test_search_batch_odd_batch_sizes_equal_single_queries(data, encoder):
    retriever = Retriever(data)
    singles = [retriever.search_batch(encoder.encode([q]), tokenize([q]), 4)[0] for q in QUERIES]
    for size in (1, 3, 7):
        batch = QUERIES[:size]
        for got, want in zip(retriever.search_batch(encoder.encode(batch), tokenize(batch), 4), singles):
            assert got.passages.tolist() == want.passages.tolist()
            np.testing.assert_allclose(got.fused, want.fused)
            np.testing.assert_allclose(got.dense, want.dense, atol=1e-6)


def test_bm25_only_hits_get_their_cosine(data, encoder):
    # The query vector is passage 0's own vector; its words come from an article far away.
    vectors = data.all_passage_vectors()
    far = int(np.argmin(vectors @ vectors[0]))
    words = tokenize([data.passage_text(far)])[0]
    rare = [t for t in words if data.lexical.idf(t) > 1.5][:4]
    assert rare, "the far passage has distinctive words"
    retriever = Retriever(data, depth=2)
    (ranked,) = retriever.search_batch(vectors[:1], [rare], k=2)
    dense_top = ranking(dense_reference(data, vectors[0]), 2)
    assert far not in dense_top
    assert far in ranked.passages.tolist(), "BM25 brought the far passage in"
    i = ranked.passages.tolist().index(far)
    assert ranked.dense[i] == pytest.approx(float(vectors[far] @ vectors[0]), abs=1e-5)
    assert ranked.bm25[i] > 0


def test_stop_word_only_query_uses_dense_ranking_alone(data, encoder):
    query = "What is it that they were about?"
    tokens = tokenize([query])
    assert tokens == [[]]
    (ranked,) = Retriever(data).search_batch(encoder.encode([query]), tokens, 5)
    dense = dense_reference(data, encoder.encode([query])[0])
    assert ranked.passages.tolist() == ranking(dense, 5)
    assert np.all(ranked.bm25 == 0)
    np.testing.assert_allclose(ranked.fused, [1 / (60 + r) for r in range(1, 6)])


def test_k_larger_than_the_index_returns_every_passage(data, encoder):
    (ranked,) = Retriever(data, depth=3).search_batch(encoder.encode(["flood"]), tokenize(["flood"]), 1000)
    assert sorted(ranked.passages.tolist()) == list(range(len(data.passages)))
    assert len(ranked.fused) == len(ranked.dense) == len(ranked.bm25) == len(data.passages)
