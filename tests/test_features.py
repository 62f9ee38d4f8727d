"""Candidate-sentence features and abstention features (pure functions)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import SMALL_ARTICLES, SpanFakeEncoder, make_corpus

from qa_bot.answer.candidates import confidence
from qa_bot.answer.features import (
    ABSTAIN_FEATURES,
    RANK_FEATURES,
    Evidence,
    abstain_features,
    article_coverage,
    has_type,
    linear,
    rank_features,
)

IDF = {"bla": 2.0, "want": 1.0, "independ": 3.0, "balochistan": 1.5, "kill": 1.0, "peopl": 0.5}


def idf(term: str) -> float:
    return IDF.get(term, 4.0)


def evidence(**overrides) -> Evidence:
    base = dict(
        question="How many people were killed?",
        query_terms=["mani", "peopl", "kill"],
        texts=["Nearly 200 people were killed.", "People were angry.", "Was anyone killed?"],
        tokens=[["near", "200", "peopl", "kill"], ["peopl", "angri"], ["anyon", "kill"]],
        context_tokens=[{"near", "200", "peopl", "kill", "angri"}] * 3,
        sentence_cos=np.array([0.7, 0.4, 0.5]),
        neighbour_cos=np.array([0.4, 0.7, 0.0]),
        passage_cos=np.array([0.6, 0.6, 0.3]),
        passage_rrf=np.array([0.03, 0.03, 0.015]),
        passage_bm25=np.array([4.0, 4.0, 0.0]),
    )
    base.update(overrides)
    return Evidence(**base)


def column(name: str, rows: np.ndarray) -> np.ndarray:
    return rows[:, RANK_FEATURES.index(name)]


def test_rank_features_values():
    rows = rank_features(evidence(), idf)
    assert rows.shape == (3, len(RANK_FEATURES))
    assert column("sent_cos_gap", rows).tolist() == pytest.approx([0.0, -0.3, -0.2])
    assert column("pass_rrf", rows).tolist() == pytest.approx([1.0, 1.0, 0.5])
    assert column("pass_bm25", rows).tolist() == pytest.approx([1.0, 1.0, 0.0])
    # "mani" is no term of any sentence: the best sentence holds peopl + kill of mani/peopl/kill.
    assert column("sent_lex", rows)[0] == pytest.approx((0.5 + 1.0) / (4.0 + 0.5 + 1.0))
    assert column("sent_lex_gap", rows)[0] == 0.0 and column("sent_lex_gap", rows)[1] < 0
    assert column("bigram", rows).tolist() == pytest.approx([0.5, 0.0, 0.0])  # "peopl kill"
    assert column("question", rows).tolist() == [0.0, 0.0, 1.0]
    assert column("type_match", rows).tolist() == [1.0, 0.0, 0.0]  # "200", a number
    assert column("type_miss", rows).tolist() == [0.0, 1.0, 1.0]


def test_rank_features_of_no_candidates():
    empty = evidence(texts=[], tokens=[], context_tokens=[], sentence_cos=np.zeros(0),
                     neighbour_cos=np.zeros(0), passage_cos=np.zeros(0), passage_rrf=np.zeros(0),
                     passage_bm25=np.zeros(0))
    assert rank_features(empty, idf).shape == (0, len(RANK_FEATURES))


def test_type_cue_ignores_what_the_question_already_says():
    assert not has_type("number", "In 2022, militants stormed bases.", "What happened in 2022?")
    assert has_type("number", "In 2022, 40 militants stormed bases.", "What happened in 2022?")
    assert not has_type("name", "The BLA attacked Karachi.", "Did the BLA attack Karachi?")
    assert has_type("name", "The BLA attacked Karachi.", "Where did the BLA attack?")


def test_article_coverage_pools_what_was_retrieved_of_each_article_and_its_headline():
    # Candidates 0 and 1 stand in article 7, candidate 2 in article 9.
    cov = article_coverage(["chines", "worker", "kill"], [7, 7, 9],
                           [{"kill", "peopl"}, {"chines", "attack"}, {"kill"}],
                           {7: ["bla", "attack"], 9: ["worker", "strike"]}, idf)
    # Article 7 holds "kill" and "chines" (from its other passage) but no "worker"; article 9
    # holds "kill" and, in its headline only, "worker".
    assert cov.tolist() == pytest.approx([5.0 / 9.0, 5.0 / 9.0, 5.0 / 9.0])
    cov = article_coverage(["chines", "worker"], [7, 9], [{"chines"}, set()], {9: ["worker"]}, idf)
    assert cov.tolist() == pytest.approx([0.5, 0.5])
    assert article_coverage([], [7], [{"kill"}], {}, idf).tolist() == [0.0]


def test_abstain_features_and_confidence():
    rows = rank_features(evidence(), idf)
    scores = np.array([2.0, 0.5, 1.5])
    vec = abstain_features(rows, scores, article_lex=np.array([0.25, 1.0, 0.5]))
    assert len(vec) == len(ABSTAIN_FEATURES)
    assert vec.tolist()[:2] == [2.0, 0.5] and vec[-1] == 0.25  # the best candidate's article
    weights = {"bias": -1.0, "top_score": 1.0, "margin": 2.0}
    assert confidence(vec, weights) == pytest.approx(1 / (1 + np.exp(-(-1 + 2 + 1))))
    # Another candidate: its own score, and its distance below the best as the margin.
    assert confidence(vec, weights, score=1.5) == pytest.approx(1 / (1 + np.exp(-(-1 + 1.5 - 1))))
    assert confidence(vec, weights, score=1.5) < confidence(vec, weights)


def test_single_candidate_margin_and_linear():
    rows = rank_features(evidence(texts=["Nearly 200 people were killed."], tokens=[["peopl", "kill"]],
                                  context_tokens=[{"peopl"}], sentence_cos=np.array([0.7]),
                                  neighbour_cos=np.array([0.0]), passage_cos=np.array([0.6]),
                                  passage_rrf=np.array([0.03]), passage_bm25=np.array([0.0])), idf)
    assert abstain_features(rows, np.array([1.0]), np.zeros(1))[1] == 1.0
    assert linear(np.array([[1.0, 2.0]]), ("a", "b"), {"a": 1.0, "b": 0.5, "bias": 1.0}).tolist() == [3.0]


def test_neighbour_cosine_is_the_best_of_the_sentences_beside_it_in_its_paragraph(tmp_path):
    from qa_bot.answer.candidates import _neighbour_cos
    from qa_bot.indexing.build import build_index
    from qa_bot.store.files import load_index

    body = "The port reopened. Ships docked at once.\n\nA single sentence stands here.\n\nWages rose. Shifts fell."
    corpus = make_corpus(tmp_path, {**SMALL_ARTICLES, "port": ("Port reopens", body)})
    build_index(corpus, tmp_path / "index", SpanFakeEncoder())
    data = load_index(tmp_path / "index")
    qvecs = np.random.default_rng(0).normal(size=(2, data.dimension)).astype(np.float32)
    ids = np.r_[np.arange(len(data.sentences)), 3, 3]
    para, vectors = data.sentences["paragraph"], np.asarray(data.sentence_vectors)
    want = []
    for s in ids.tolist():
        beside = [j for j in (s - 1, s + 1) if 0 <= j < len(para) and para[j] == para[s]]
        want.append(max(float(np.max(vectors[j] @ qvecs.T)) for j in beside) if beside else 0.0)
    assert any(w == 0.0 for w in want) and any(w != 0.0 for w in want), "both kinds of sentence"
    np.testing.assert_allclose(_neighbour_cos(data, ids, qvecs), want, rtol=1e-5, atol=1e-6)
    assert _neighbour_cos(data, np.array([], dtype=np.int64), qvecs).shape == (0,)
