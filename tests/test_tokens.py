"""Token states for MaxSim: how they are packed, stored, reused by incremental builds and scored."""

from __future__ import annotations

import hashlib
import json

import numpy as np
import pytest
from conftest import SMALL_ARTICLES, FakeEncoder, SpanFakeEncoder, make_corpus

from qa_bot.answer.config import AnswerConfig, fitted
from qa_bot.answer.features import RANK_FEATURES
from qa_bot.bot import QABot
from qa_bot.errors import IndexCorruptError
from qa_bot.indexing.build import build_index
from qa_bot.store.files import load_index
from qa_bot.store.generations import current_generation
from qa_bot.store.token_states import (
    BASIS_FILE,
    PackedTokens,
    Projection,
    TokenStore,
    adapter_for,
    projection_for,
)

MAXSIM = RANK_FEATURES.index("maxsim")


def unit_rows(rng, n: int, dim: int) -> np.ndarray:
    rows = rng.normal(size=(n, dim))
    return (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)


def store_of(per_sentence, projection=None, dim=16) -> TokenStore:
    packed = PackedTokens.pack(per_sentence, projection, dim)
    return TokenStore(packed.vectors, packed.scales, packed.ids, TokenStore.bounds_of(packed.counts),
                      TokenStore.document_frequency(packed.ids, packed.counts), projection)


def test_maxsim_is_the_idf_weighted_mean_of_each_question_tokens_best_match():
    rng = np.random.default_rng(1)
    words = unit_rows(rng, 6, 16)  # token states of vocabulary ids 0..5
    sentences = [(words[[0, 1, 2]], np.array([0, 1, 2], np.int32)),
                 (words[[0, 3]], np.array([0, 3], np.int32)),
                 (np.empty((0, 16), np.float32), np.empty(0, np.int32)),
                 (words[[0, 4, 5]], np.array([0, 4, 5], np.int32))]
    store = store_of(sentences)
    assert store.bounds.tolist() == [[0, 3], [3, 5], [5, 5], [5, 8]]
    assert store.df[:6].tolist() == [3, 1, 1, 1, 1, 1]  # id 0 is in three of the four sentences
    question = (words[[0, 1]], np.array([0, 1], np.int32))

    scores, adapted = store.maxsim(question, np.array([0, 1, 2, 3]))
    np.testing.assert_array_equal(adapted, scores)  # no adapter: the plain MaxSim twice
    idf = np.log1p((4 - np.array([3, 1]) + 0.5) / (np.array([3, 1]) + 0.5))
    w = idf / idf.sum()
    expected = []
    for states, _ in sentences:
        if not len(states):
            expected.append(0.0)
            continue
        expected.append(float(w @ (words[[0, 1]] @ states.T).max(axis=1)))
    np.testing.assert_allclose(scores, expected, atol=0.01)  # int8 rounding
    assert scores[0] == pytest.approx(1.0, abs=0.01)  # holds both question tokens
    assert scores[0] > scores[1] > scores[2] == 0.0
    # Order and repetition of the sentences asked about do not matter.
    np.testing.assert_allclose(store.maxsim(question, np.array([3, 0, 0]))[0], scores[[3, 0, 0]])
    assert [m.tolist() for m in store.maxsim((words[:0], np.empty(0, np.int32)), np.array([0]))] == [[0.0], [0.0]]


def test_the_adapted_maxsim_reads_the_question_through_the_adapter():
    """With an adapter A, each question token q becomes q + q A (unit length) before its best
    match is found; the sentence tokens are as stored. A zero adapter changes nothing."""
    rng = np.random.default_rng(3)
    words = unit_rows(rng, 6, 16)
    sentences = [(words[[0, 1, 2]], np.array([0, 1, 2], np.int32)), (words[[3, 4]], np.array([3, 4], np.int32))]
    store = store_of(sentences)
    question = (words[[0, 3]], np.array([0, 3], np.int32))
    plain, _ = store.maxsim(question, np.array([0, 1]))
    store.adapter = np.zeros((16, 16), np.float32)
    np.testing.assert_allclose(store.maxsim(question, np.array([0, 1]))[1], plain, atol=1e-6)
    # An adapter that mixes what tokens 0 and 3 mean.
    swap = np.outer(words[0], words[3] - words[0]) + np.outer(words[3], words[0] - words[3])
    store.adapter = swap.astype(np.float32)
    again, adapted = store.maxsim(question, np.array([0, 1]))
    np.testing.assert_allclose(again, plain)  # the plain MaxSim does not see the adapter
    q = words[[0, 3]] + words[[0, 3]] @ store.adapter
    q /= np.linalg.norm(q, axis=1, keepdims=True)
    idf = store.idf(np.array([0, 3]))
    expected = [float((idf / idf.sum()) @ (q @ states.T).max(axis=1)) for states, _ in sentences]
    np.testing.assert_allclose(adapted, expected, atol=0.01)


def test_the_bundled_adapter_goes_with_the_bundled_projection_only():
    bundled = Projection.from_array(np.load(BASIS_FILE))
    adapter = adapter_for(bundled)
    assert adapter is not None and adapter.shape == (128, 128) and np.abs(adapter).max() > 0
    rng = np.random.default_rng(4)
    other = Projection(bundled.mean, np.linalg.qr(rng.normal(size=(384, 128)))[0].astype(np.float32))
    assert adapter_for(other) is None and adapter_for(None) is None


def test_a_projection_is_applied_to_stored_and_question_tokens_alike():
    rng = np.random.default_rng(2)
    states = unit_rows(rng, 5, 16)
    basis = np.linalg.qr(rng.normal(size=(16, 8)))[0].astype(np.float32)
    projection = Projection(states.mean(axis=0), basis)
    store = store_of([(states, np.arange(5, dtype=np.int32))], projection)
    assert store.vectors.shape == (5, 8)
    assert store.maxsim((states[:2], np.arange(2, dtype=np.int32)), np.array([0]))[0][0] == pytest.approx(1.0, abs=0.01)
    assert Projection.from_array(projection.to_array()).key == projection.key


def test_the_bundled_projection_is_an_orthonormal_basis_for_the_default_model_only():
    projection = projection_for("all-MiniLM-L6-v2", 384)
    assert projection is not None and projection.basis.shape == (384, 128)
    np.testing.assert_allclose(projection.basis.T @ projection.basis, np.eye(128), atol=1e-4)
    assert projection_for("all-MiniLM-L6-v2@onnx-int8", 384).key == projection.key
    assert projection_for("some/other-model", 384) is None
    assert projection_for("all-MiniLM-L6-v2", 768) is None


# ---------------------------------------------------------------------------- in the index


def test_the_index_keeps_each_sentences_own_token_states(small_corpus, tmp_path):
    encoder = SpanFakeEncoder()
    build_index(small_corpus, tmp_path / "index", encoder)
    data = load_index(tmp_path / "index")

    assert data.manifest["token_vectors"] == {"dimension": 64, "basis": None, "tokens": len(data.tokens.ids)}
    for i in range(len(data.sentences)):
        states, ids = encoder.word_tokens(data.sentence_text(i))
        a, b = data.tokens.bounds[i]
        assert data.tokens.ids[a:b].tolist() == ids.tolist()
        stored = data.tokens.sentence(i)
        cos = np.sum(stored * states, axis=1) / np.linalg.norm(stored, axis=1)
        assert cos.min() > 0.999


def test_an_index_without_token_states_answers_with_the_weights_fitted_without_them(small_corpus, tmp_path):
    build_index(small_corpus, tmp_path / "plain", FakeEncoder())
    build_index(small_corpus, tmp_path / "tokens", SpanFakeEncoder())
    plain = QABot(load_index(tmp_path / "plain"), FakeEncoder())
    tokens = QABot(load_index(tmp_path / "tokens"), SpanFakeEncoder())

    assert load_index(tmp_path / "plain").manifest["token_vectors"] is None
    assert plain.config.rank_weights == fitted(False)[0] and plain.config.min_confidence == fitted(False)[2]
    assert tokens.config.rank_weights == fitted(True)[0]
    # Weights given explicitly are kept; the rest still come from the index's set.
    plain.config = AnswerConfig(min_confidence=0.0)
    assert plain.config.min_confidence == 0.0 and plain.config.rank_weights == fitted(False)[0]

    # A newer build without token states (a running chat reloads it): the weights are resolved
    # again for it, the ones given are kept.
    tokens.config = AnswerConfig(min_confidence=0.0)
    reloaded = tokens.with_data(load_index(tmp_path / "plain"))
    assert reloaded.config.rank_weights == fitted(False)[0] and reloaded.config.min_confidence == 0.0
    assert tokens.with_data(load_index(tmp_path / "tokens")).config.rank_weights == fitted(True)[0]

    question = "Who is believed to lead the BLA?"
    assert not plain.candidates_batch([question])[0].features[:, MAXSIM:].any()
    cand = tokens.candidates_batch([question])[0]
    best = int(cand.sentences[np.argmax(cand.features[:, MAXSIM])])
    assert tokens.data.sentence_text(best) == "Bashir Zeb is believed to lead the BLA from exile in Afghanistan."
    assert np.all(cand.features[:, MAXSIM + 1] <= 0) and cand.features[:, MAXSIM + 1].max() == 0


def test_an_incremental_build_reuses_the_token_states_of_unchanged_articles(small_corpus, tmp_path):
    encoder = SpanFakeEncoder()
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, encoder)
    before = load_index(index_dir)
    kept = {before.sentence_text(i): before.tokens.sentence(i) for i in range(len(before.sentences))}

    make_corpus(tmp_path, {"a-new-story": ("A new story", "Dalton opened a new library on Friday. It has 20,000 books.")})
    encoder.reset()
    report = build_index(small_corpus, index_dir, encoder)
    after = load_index(index_dir)
    assert report.added == ["a-new-story"] and report.full_rebuild_reason is None
    assert encoder.encoded == sum(after.articles[a].id == "a-new-story" for a in after.passages["article"])
    for i in range(len(after.sentences)):
        text = after.sentence_text(i)
        if text in kept:
            np.testing.assert_array_equal(after.tokens.sentence(i), kept[text])
        else:
            assert after.tokens.ids[slice(*after.tokens.bounds[i])].tolist() == encoder.word_tokens(text)[1].tolist()
    # Document frequencies are recounted over the whole corpus.
    np.testing.assert_array_equal(after.tokens.df, TokenStore.document_frequency(
        after.tokens.ids, after.tokens.bounds[:, 1] - after.tokens.bounds[:, 0]))


class SpanOnlyEncoder(SpanFakeEncoder):
    """Pools spans but hands out no token states (like a custom encoder)."""

    encode_tokens = None
    encode_with_span_tokens = None


def test_gaining_or_losing_token_states_rebuilds_everything(small_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, SpanOnlyEncoder())
    assert load_index(index_dir).tokens is None

    report = build_index(small_corpus, index_dir, SpanFakeEncoder())
    assert report.full_rebuild_reason == "the index holds no token states for MaxSim"
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    assert load_index(index_dir).tokens is not None

    report = build_index(small_corpus, index_dir, SpanOnlyEncoder())
    assert report.full_rebuild_reason == "this encoder gives no token states, the index holds some"
    assert load_index(index_dir).tokens is None


def test_a_sentence_cut_by_truncation_everywhere_gets_the_tokens_of_its_own_pass(small_corpus, tmp_path):
    encoder = SpanFakeEncoder(window=150)
    build_index(small_corpus, tmp_path / "index", encoder)
    data = load_index(tmp_path / "index")
    alone = set(encoder.texts[len(data.passages):])
    assert alone
    for i in range(len(data.sentences)):
        ids = data.tokens.ids[slice(*data.tokens.bounds[i])].tolist()
        own = [t for t in alone if t.endswith(data.sentence_text(i))]
        if own:  # embedded alone: its heading's words come first
            assert ids == encoder.word_tokens(own[0])[1].tolist()
        else:
            assert ids == encoder.word_tokens(data.sentence_text(i))[1].tolist()


def test_token_files_that_disagree_are_reported_as_corrupt(small_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, SpanFakeEncoder())
    gen = current_generation(index_dir)
    bounds = np.load(gen / "token_bounds.npy")
    bounds[0, 1] += 1  # overlaps the next sentence
    np.save(gen / "token_bounds.npy", bounds)
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["files"]["token_bounds.npy"] = {
        "bytes": (gen / "token_bounds.npy").stat().st_size,
        "sha256": hashlib.sha256((gen / "token_bounds.npy").read_bytes()).hexdigest(),
    }
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="token_.*disagree.*qa-bot build"):
        load_index(index_dir)


def test_a_tampered_token_file_fails_its_checksum_before_a_question_uses_it(small_corpus, tmp_path):
    """The token states are memory-mapped and checked a block at a time as they are first read
    (store/integrity.py): loading does not hash them, the first read of a damaged block fails."""
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, SpanFakeEncoder())
    path = current_generation(index_dir) / "token_vectors.npy"
    raw = bytearray(path.read_bytes())
    raw[-1] ^= 0xFF
    path.write_bytes(bytes(raw))
    data = load_index(index_dir)
    with pytest.raises(IndexCorruptError, match="token_vectors.npy.*checksum.*qa-bot build"):
        data.tokens.sentence(len(data.sentences) - 1)
    bot = QABot(data, SpanFakeEncoder(), AnswerConfig())
    with pytest.raises(IndexCorruptError, match="token_vectors.npy.*checksum"):
        bot.ask("How many homes were flooded?")
    path.write_bytes(bytes(raw[:-1]))  # cut short: its size no longer matches, found at load
    with pytest.raises(IndexCorruptError, match="token_vectors.npy.*checksum"):
        load_index(index_dir)


def test_question_text_reaches_maxsim_through_the_encoders_token_states(small_corpus, tmp_path):
    """The bot reads the question's token states from the same pass as its vector."""
    encoder = SpanFakeEncoder()
    build_index(small_corpus, tmp_path / "index", encoder)
    bot = QABot(load_index(tmp_path / "index"), encoder)
    question = "How many homes were flooded?"
    cand = bot.candidates_batch([question])[0]
    expected, adapted = bot.data.tokens.maxsim(encoder.word_tokens(question), cand.sentences)
    np.testing.assert_allclose(cand.features[:, MAXSIM], expected)
    np.testing.assert_allclose(cand.features[:, RANK_FEATURES.index("maxsim_adapted")], adapted)
    assert expected.max() > 0.5


def test_token_states_can_be_switched_off_and_the_choice_is_kept(small_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, SpanFakeEncoder(), token_states=False)
    data = load_index(index_dir)
    assert data.tokens is None and data.manifest["token_states"] is False

    # A later build that does not say keeps the index's choice: nothing to do here.
    encoder = SpanFakeEncoder()
    report = build_index(small_corpus, index_dir, encoder)
    assert not report.changed_anything and report.full_rebuild_reason is None and encoder.encoded == 0
    make_corpus(tmp_path, {"a-new-story": ("A new story", "Dalton opened a new library on Friday.")})
    report = build_index(small_corpus, index_dir, encoder)
    assert report.added == ["a-new-story"] and load_index(index_dir).tokens is None

    report = build_index(small_corpus, index_dir, encoder, token_states=True)
    assert report.full_rebuild_reason == "the index holds no token states for MaxSim"
    assert load_index(index_dir).tokens is not None
    report = build_index(small_corpus, index_dir, encoder, token_states=False)
    assert report.full_rebuild_reason == "token states are switched off"


def test_the_cli_switches_token_states_off(small_corpus, tmp_path, monkeypatch):
    from click.testing import CliRunner

    from qa_bot.app.cli import main

    monkeypatch.setattr("qa_bot.bot.make_encoder", lambda model=None, **kw: SpanFakeEncoder())
    index_dir = tmp_path / "index"
    args = ["build", "--corpus", str(small_corpus), "--index", str(index_dir)]
    result = CliRunner().invoke(main, [*args, "--no-token-states"])
    assert result.exit_code == 0, result.output
    assert load_index(index_dir).tokens is None
    result = CliRunner().invoke(main, [*args, "--token-states"])
    assert result.exit_code == 0 and "full rebuild: the index holds no token states" in result.output
    assert load_index(index_dir).tokens is not None


def test_embedding_a_few_texts_at_a_time_gives_the_same_index(small_corpus, tmp_path, monkeypatch):
    from qa_bot.indexing import embed

    build_index(small_corpus, tmp_path / "one", SpanFakeEncoder())
    monkeypatch.setattr(embed, "GROUP_TEXTS", 1)  # every article its own group
    calls = []
    original = embed.embed_group
    monkeypatch.setattr(embed, "embed_group", lambda *a, **k: calls.append(len(a[1])) or original(*a, **k))
    build_index(small_corpus, tmp_path / "many", SpanFakeEncoder())
    one, many = load_index(tmp_path / "one"), load_index(tmp_path / "many")
    assert len(calls) == len(one.articles) and set(calls) == {1}, "one group per article"
    assert np.array_equal(one.sentence_vectors, many.sentence_vectors)
    assert np.array_equal(one.all_passage_vectors(), many.all_passage_vectors())
    assert np.array_equal(one.tokens.vectors, many.tokens.vectors) and np.array_equal(one.tokens.ids, many.tokens.ids)
