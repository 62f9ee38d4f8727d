"""The ONNX Runtime encoder: the same vectors as sentence-transformers, and safe fallbacks."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest

from qa_bot.encoders import onnx_encoder
from qa_bot.encoders.factory import AutoEncoder, make_encoder
from qa_bot.encoders.models import resolve_model
from qa_bot.encoders.onnx_encoder import OnnxEncoder, UnsupportedModel, fingerprint, model_layout
from qa_bot.encoders.torch_encoder import SentenceTransformerEncoder

TEXTS = [
    "What does the BLA want?",
    "The Baloch Liberation Army (BLA) wants independence for Balochistan.",
    "",
    "Ünïcödé, emoji 🚆 and mixed scripts: بلوچستان",
    "word " * 400,  # past the 256-token window: truncated the same way
]


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    path = tmp_path_factory.mktemp("qa-bot-cache")
    old = os.environ.get("QA_BOT_CACHE")
    os.environ["QA_BOT_CACHE"] = str(path)
    yield path
    if old is None:
        del os.environ["QA_BOT_CACHE"]
    else:
        os.environ["QA_BOT_CACHE"] = old


@pytest.fixture(scope="module")
def onnx(cache):
    encoder = OnnxEncoder("all-MiniLM-L6-v2")
    encoder.warm_up()
    return encoder


PASSAGE = "What does the BLA want?\nThe BLA wants independence for Balochistan. It accuses Islamabad of exploitation."
SPANS = [(24, 67), (68, 105), (0, 23)]


@pytest.mark.e2e
def test_span_vectors_pool_the_passage_tokens_alike_on_both_backends(onnx):
    torch_encoder = SentenceTransformerEncoder()
    assert onnx.pools_spans and torch_encoder.pools_spans and make_encoder().pools_spans
    texts, spans = [PASSAGE, "word " * 400, "x"], [SPANS, [(0, 4), (1500, 1504)], [(0, 1)]]
    assert PASSAGE[24:67] == "The BLA wants independence for Balochistan."
    vectors, pooled = onnx.encode_with_spans(texts, spans, batch_size=2)
    t_vectors, t_pooled = torch_encoder.encode_with_spans(texts, spans, batch_size=2)
    # Text vectors are exactly what encode gives; span vectors agree across backends.
    np.testing.assert_array_equal(vectors, onnx.encode(texts, batch_size=2))
    assert np.min(np.sum(vectors * t_vectors, axis=1)) > 0.9999
    assert pooled.shape == (6, 384)
    # The span past the 256-token window was truncated away: a zero row, on both backends.
    assert not pooled[4].any() and not t_pooled[4].any()
    live = [0, 1, 2, 3, 5]
    np.testing.assert_allclose(np.linalg.norm(pooled[live], axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(pooled[live] * t_pooled[live], axis=1)) > 0.9999
    # A sentence read in its passage stays close to, but is not, the sentence embedded alone; it is
    # nearer its own text than the passage's other sentence is.
    alone = onnx.encode([PASSAGE[a:b] for a, b in SPANS])
    cos = pooled[:3] @ alone.T
    assert 0.6 < cos[0, 0] < 0.9999 and cos[0, 0] > cos[1, 0] and cos[1, 1] > cos[0, 1]


@pytest.mark.e2e
def test_token_states_come_from_the_same_pass_alike_on_both_backends(onnx):
    torch_encoder = SentenceTransformerEncoder()
    texts = ["What does the BLA want?", "word " * 400, PASSAGE]
    vectors, tokens = onnx.encode_tokens(texts, batch_size=2)
    t_vectors, t_tokens = torch_encoder.encode_tokens(texts, batch_size=2)
    np.testing.assert_array_equal(vectors, onnx.encode(texts, batch_size=2))
    assert np.min(np.sum(vectors * t_vectors, axis=1)) > 0.9999
    ids = onnx._tokenizer.encode(texts[0]).ids
    # [CLS] and [SEP] are left out; the window's other 254 tokens of the long text are kept.
    assert tokens[0][1].tolist() == ids[1:-1] and len(tokens[1][1]) == 254
    for (states, ids), (t_states, t_ids) in zip(tokens, t_tokens):
        assert ids.tolist() == t_ids.tolist() and states.dtype == np.float32
        np.testing.assert_allclose(np.linalg.norm(states, axis=1), 1.0, atol=1e-5)
        assert np.min(np.sum(states * t_states, axis=1)) > 0.9999
    # A span's token states are the passage pass's states of the tokens inside it.
    spans = [SPANS, [(0, 4), (1500, 1504)]]
    _, pooled, span_tokens = onnx.encode_with_span_tokens([PASSAGE, "word " * 400], spans, batch_size=2)
    np.testing.assert_array_equal(pooled, onnx.encode_with_spans([PASSAGE, "word " * 400], spans, batch_size=2)[1])
    words = onnx._tokenizer.encode(PASSAGE[24:67]).ids[1:-1]
    assert span_tokens[0][1].tolist() == words
    assert len(span_tokens[4][1]) == 0  # truncated away
    passage_states, passage_ids = tokens[2]
    at = next(i for i in range(len(passage_ids)) if passage_ids[i : i + len(words)].tolist() == words)
    np.testing.assert_allclose(span_tokens[0][0], passage_states[at : at + len(words)], atol=1e-4)


@pytest.mark.e2e
def test_onnx_vectors_match_sentence_transformers(onnx):
    torch_vectors = SentenceTransformerEncoder().encode(TEXTS)
    onnx_vectors = onnx.encode(TEXTS, batch_size=2)  # batches of mixed lengths: padding must not leak
    assert onnx_vectors.shape == (len(TEXTS), 384) and onnx_vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(onnx_vectors, axis=1), 1.0, atol=1e-5)
    assert np.min(np.sum(torch_vectors * onnx_vectors, axis=1)) > 0.9999
    assert onnx.name == SentenceTransformerEncoder().name == "all-MiniLM-L6-v2"  # indexes interchange


@pytest.mark.e2e
def test_export_is_cached_and_reused(onnx, cache, monkeypatch):
    exported = list(cache.rglob("model.onnx"))
    assert len(exported) == 1
    monkeypatch.setattr(onnx_encoder, "export", lambda *a: pytest.fail("exported again"))
    again = OnnxEncoder("all-MiniLM-L6-v2")
    np.testing.assert_allclose(again.encode(TEXTS[:2]), onnx.encode(TEXTS[:2]), atol=1e-6)


@pytest.mark.e2e
def test_a_damaged_cached_export_is_removed_and_the_auto_encoder_still_works(onnx, cache):
    target = next(cache.rglob("model.onnx"))
    saved = target.read_bytes()
    try:
        target.write_bytes(b"not an onnx model")
        with pytest.raises(UnsupportedModel, match="could not be loaded"):
            OnnxEncoder("all-MiniLM-L6-v2").warm_up()
        assert not target.exists()
    finally:
        target.write_bytes(saved)


@pytest.mark.e2e
def test_int8_vectors_are_close_and_named_apart(onnx):
    int8 = OnnxEncoder("all-MiniLM-L6-v2", int8=True)
    vectors = int8.encode(TEXTS)
    assert int8.name == "all-MiniLM-L6-v2@onnx-int8" and int8.backend == "onnx-int8"
    cosines = np.sum(vectors * onnx.encode(TEXTS), axis=1)
    assert cosines.min() > 0.97 and cosines.mean() < 0.99999  # close, but not the same vectors


def test_auto_encoder_falls_back_to_torch(monkeypatch):
    def refuse(self):
        raise UnsupportedModel("not this one")

    monkeypatch.setattr(OnnxEncoder, "warm_up", refuse)
    chosen = []
    monkeypatch.setattr(SentenceTransformerEncoder, "warm_up", lambda self: chosen.append(self))
    encoder = AutoEncoder("all-MiniLM-L6-v2")
    assert encoder.backend == "torch" and len(chosen) == 1
    assert encoder.name == "all-MiniLM-L6-v2"


def test_backend_choice(monkeypatch):
    assert isinstance(make_encoder(backend="torch"), SentenceTransformerEncoder)
    assert isinstance(make_encoder(backend="onnx"), OnnxEncoder)
    assert isinstance(make_encoder(), AutoEncoder)
    monkeypatch.setenv("QA_BOT_BACKEND", "torch")
    assert isinstance(make_encoder(), SentenceTransformerEncoder)
    with pytest.raises(ValueError, match="unknown encoder backend 'gpu'; choose one of auto, onnx, onnx-int8, torch"):
        make_encoder(backend="gpu")
    # An index built with the int8 model records its own name, and asking it picks that model.
    int8 = make_encoder("all-MiniLM-L6-v2@onnx-int8", backend="torch")
    assert isinstance(int8, OnnxEncoder) and int8.int8 and int8.name == "all-MiniLM-L6-v2@onnx-int8"
    assert make_encoder(backend="onnx-int8").name == "all-MiniLM-L6-v2@onnx-int8"


def _model_dir(tmp_path, pooling: dict, modules=("Transformer", "Pooling", "Normalize")):
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "modules.json").write_text(json.dumps([
        {"idx": i, "name": str(i), "path": "1_Pooling" if kind == "Pooling" else "",
         "type": f"sentence_transformers.models.{kind}"} for i, kind in enumerate(modules)
    ]))
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 8, **pooling}))
    (tmp_path / "tokenizer.json").write_text("{}")
    (tmp_path / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    return tmp_path


def test_layout_of_a_mean_pooled_model(tmp_path):
    assert model_layout(_model_dir(tmp_path, {"pooling_mode_mean_tokens": True})) == (128, 8)


def test_the_bundled_model_is_supported():
    assert model_layout(__import__("pathlib").Path(resolve_model("all-MiniLM-L6-v2"))) == (256, 384)


@pytest.mark.parametrize(
    "pooling, modules, problem",
    [
        ({"pooling_mode_cls_token": True}, ("Transformer", "Pooling"), "not mean pooling"),
        ({"pooling_mode_mean_tokens": True}, ("Transformer", "Pooling", "Dense"), "not transformer"),
    ],
)
def test_other_models_are_left_to_torch(tmp_path, pooling, modules, problem):
    with pytest.raises(UnsupportedModel, match=problem):
        model_layout(_model_dir(tmp_path, pooling, modules))


def test_fingerprint_changes_when_a_model_file_changes(tmp_path):
    model = _model_dir(tmp_path, {"pooling_mode_mean_tokens": True})
    before = fingerprint(model)
    (model / "tokenizer.json").write_text('{"changed": true}')
    assert fingerprint(model) != before
