"""The embedding model run by ONNX Runtime instead of PyTorch: the same vectors, faster on a CPU.

A sentence-transformers model of the usual shape (a transformer, mean pooling, optionally L2
normalisation) is exported once with ``torch.onnx.export`` into a cache directory; from then on
questions and passages are encoded by ONNX Runtime and the HF ``tokenizers`` library, without
importing torch or transformers at all, which also shortens a cold start.

The export is checked before it is used: the exported model must give the same vectors as
sentence-transformers (cosine >= 0.9999 on probe texts), so an index built by either backend is
searched correctly by the other, and the model name recorded in the index is the same.

``OnnxEncoder(model, int8=True)`` (backend "onnx-int8") also quantises the weights to int8
(ONNX Runtime dynamic quantisation, per channel). Its vectors differ a little from the others
(checked: cosine >= 0.97 on the probes), so it records the model as ``<name>@onnx-int8`` and
indexes built with it are only searched with it. Whether its answers hold up is measured in
docs/performance.md.

The cache is ``$QA_BOT_CACHE/onnx`` (default ``~/.cache/qa-bot/onnx``), one directory per model,
keyed by the model files' names, sizes and modification times.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from ..errors import ModelLoadError
from .models import INT8_SUFFIX, canonical_model_name, resolve_model
from .pooling import (
    TokenStates,
    encode_in_batches,
    encode_spans_in_batches,
    encode_tokens_in_batches,
    mean_pool,
    pool_tokens,
    text_tokens,
)

ONNX_RECIPE = 1  # bump when the export changes, so older cached exports are not reused
_PROBES = (
    "What does the Baloch Liberation Army want?",
    "The group has carried out attacks on security forces and Chinese nationals in Balochistan.",
    "x",
    "A much longer text " * 100,  # longer than the model's window: truncation must match too
)


class UnsupportedModel(ModelLoadError):
    """The model cannot run on the ONNX backend (use the torch backend for it)."""


def cache_root() -> Path:
    return Path(os.environ.get("QA_BOT_CACHE") or Path.home() / ".cache" / "qa-bot") / "onnx"


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UnsupportedModel(f"{path}: cannot read ({exc})") from None


def model_layout(model_dir: Path) -> tuple[int, int]:
    """(max sequence length, dimension) of a mean-pooled sentence-transformers model directory.

    Raises UnsupportedModel for anything else (CLS or max pooling, extra modules, no
    ``tokenizer.json``), which the torch backend still runs.
    """
    modules = _read_json(model_dir / "modules.json") if (model_dir / "modules.json").exists() else None
    kinds = [m.get("type", "").rsplit(".", 1)[-1] for m in modules or []]
    if kinds not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        raise UnsupportedModel(f"{model_dir}: modules {kinds or 'unknown'} are not transformer + pooling (+ normalize)")
    pooling_dir = model_dir / next(m["path"] for m in modules if m["type"].endswith("Pooling"))
    pooling = _read_json(pooling_dir / "config.json")
    modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
    if modes != ["pooling_mode_mean_tokens"]:
        raise UnsupportedModel(f"{model_dir}: pooling {modes} is not mean pooling")
    if not (model_dir / "tokenizer.json").is_file():
        raise UnsupportedModel(f"{model_dir}: no tokenizer.json (a fast tokenizer is needed)")
    st_config = model_dir / "sentence_bert_config.json"
    max_len = _read_json(st_config).get("max_seq_length") if st_config.exists() else None
    return int(max_len or 512), int(pooling["word_embedding_dimension"])


def fingerprint(model_dir: Path) -> str:
    """A cheap key for a model directory: file names, sizes and modification times."""
    digest = hashlib.sha256(f"recipe {ONNX_RECIPE}".encode())
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        stat = path.stat()
        digest.update(f"{path.relative_to(model_dir)} {stat.st_size} {stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:16]


def export(model_dir: Path, target: Path) -> None:
    """Export the transformer of ``model_dir`` to ``target`` (atomically) and check its vectors."""
    import torch
    from transformers import AutoModel

    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True).eval()

    class Hidden(torch.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.inner(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    names = ["input_ids", "attention_mask", "token_type_ids"]
    example = tuple(torch.ones((2, 8), dtype=torch.int64) for _ in names)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        # The tracer warns about shape-dependent branches of the attention mask code; they are
        # constant for this model (no padding offset, never causal), and the vectors are checked.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Hidden(model), example, tmp, input_names=names, output_names=["last_hidden_state"],
                dynamic_axes={n: {0: "batch", 1: "tokens"} for n in [*names, "last_hidden_state"]},
                opset_version=17, dynamo=False,
            )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def quantize(source: Path, target: Path) -> None:
    """Dynamic int8 quantisation of ``source``'s weights, per output channel, written atomically."""
    try:
        import onnx
        from onnxruntime.quantization import QuantType, quantize_dynamic
    except ImportError as exc:
        raise UnsupportedModel("the onnx-int8 backend needs the package onnx: pip install onnx") from exc
    fd, tmp = tempfile.mkstemp(dir=target.parent, suffix=".onnx.tmp")
    os.close(fd)
    try:
        quantize_dynamic(
            str(source), tmp, weight_type=QuantType.QInt8, per_channel=True,
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


class OnnxEncoder:
    """A sentence-transformers model run by ONNX Runtime; loaded (and exported) on first use."""

    pools_spans = True  # only mean-pooled models run here (see model_layout)

    def __init__(self, model: str, *, threads: int | None = None, int8: bool = False) -> None:
        self.int8 = int8 or model.endswith(INT8_SUFFIX)
        model = model.removesuffix(INT8_SUFFIX)
        self.name = canonical_model_name(model) + (INT8_SUFFIX if self.int8 else "")
        self.backend = "onnx-int8" if self.int8 else "onnx"
        self._requested = model
        self._threads = threads
        self._session = None
        self._tokenizer = None
        self._inputs: list[str] = []
        self._dimension = 0
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._session is not None:
            return
        with self._lock:
            if self._session is None:
                self._load()

    def _load(self) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        model_dir = Path(resolve_model(self._requested))
        if not model_dir.is_dir():
            raise UnsupportedModel(f"{self._requested!r} is not a local model directory")
        max_len, self._dimension = model_layout(model_dir)
        target = cache_root() / f"{model_dir.name}-{fingerprint(model_dir)}" / "model.onnx"
        if self.int8:
            target = target.with_name("model-int8.onnx")
        if not target.is_file():
            try:
                fp32 = target.with_name("model.onnx")
                if not fp32.is_file():
                    export(model_dir, fp32)
                if self.int8:
                    quantize(fp32, target)
                self._open(ort, Tokenizer, model_dir, target, max_len)
                self._check_against_torch(model_dir, target)
            except UnsupportedModel:
                raise
            except Exception as exc:
                raise UnsupportedModel(f"cannot export {self._requested!r} to ONNX ({exc})") from exc
        else:
            self._open(ort, Tokenizer, model_dir, target, max_len)

    def _open(self, ort, Tokenizer, model_dir: Path, target: Path, max_len: int) -> None:
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        if self._threads:
            options.intra_op_num_threads = self._threads
        # Idle worker threads would otherwise spin between questions, taking the core that BM25,
        # scoring and the other requests of the web app need.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(target), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # a damaged cache file: export again next time
            target.unlink(missing_ok=True)
            raise UnsupportedModel(f"{target} could not be loaded ({exc}); it was removed") from exc
        tokenizer = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=max_len)
        pad = tokenizer.padding or {}
        tokenizer.enable_padding(pad_id=pad.get("pad_id", 0), pad_token=pad.get("pad_token", "[PAD]"))
        self._inputs = [i.name for i in session.get_inputs()]
        self._tokenizer, self._session = tokenizer, session

    def _check_against_torch(self, model_dir: Path, target: Path) -> None:
        from sentence_transformers import SentenceTransformer

        reference = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True).encode(
            list(_PROBES), normalize_embeddings=True, convert_to_numpy=True
        )
        cosines = np.sum(reference * self._run(list(_PROBES)), axis=1)
        if float(cosines.min()) < (0.97 if self.int8 else 0.9999):
            target.unlink(missing_ok=True)
            self._session = None
            raise UnsupportedModel(f"the ONNX export of {model_dir} disagrees with sentence-transformers "
                                   f"(cosine {cosines.min():.5f})")

    @property
    def dimension(self) -> int:
        self.warm_up()
        return self._dimension

    def _forward(self, texts: list[str]) -> tuple[np.ndarray, np.ndarray, list]:
        """The model's token states for ``texts`` (padded to the longest), their attention mask
        and their encodings."""
        batch = self._tokenizer.encode_batch(texts)
        feeds = {
            "input_ids": np.array([e.ids for e in batch], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in batch], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in batch], dtype=np.int64),
        }
        hidden = self._session.run(None, {k: feeds[k] for k in self._inputs})[0]
        return hidden, feeds["attention_mask"], batch

    def _run_spans(self, texts: list[str], spans: list, tokens: bool = False):
        hidden, mask, batch = self._forward(texts)
        return pool_tokens(
            hidden,
            mask,
            np.array([e.offsets for e in batch]).reshape(len(batch), -1, 2),
            np.array([e.special_tokens_mask for e in batch]),
            spans,
            ids=np.array([e.ids for e in batch]) if tokens else None,
        )

    def _run_tokens(self, texts: list[str]) -> tuple[np.ndarray, list[TokenStates]]:
        hidden, mask, batch = self._forward(texts)
        special = np.array([e.special_tokens_mask for e in batch])
        return mean_pool(hidden, mask), text_tokens(hidden, mask, special, np.array([e.ids for e in batch]))

    def _run(self, texts: list[str]) -> np.ndarray:
        hidden, mask, _ = self._forward(texts)
        return mean_pool(hidden, mask)

    def encode_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        self.warm_up()
        return encode_spans_in_batches(texts, spans, batch_size, self._dimension, self._run_spans, progress)[:2]

    def encode_with_span_tokens(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, list[TokenStates]]:
        self.warm_up()
        return encode_spans_in_batches(
            texts, spans, batch_size, self._dimension, lambda t, s: self._run_spans(t, s, tokens=True), progress
        )

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> tuple[np.ndarray, list[TokenStates]]:
        self.warm_up()
        return encode_tokens_in_batches(texts, batch_size, self._dimension, self._run_tokens)

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        self.warm_up()
        return encode_in_batches(texts, batch_size, self._dimension, self._run, progress)
