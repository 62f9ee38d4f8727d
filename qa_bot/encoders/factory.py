"""Picking an encoder for a model: ONNX Runtime when it can run it, else PyTorch (``make_encoder``)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ModelLoadError
from .base import Encoder, pools_spans
from .models import DEFAULT_MODEL, INT8_SUFFIX, canonical_model_name
from .onnx_encoder import OnnxEncoder
from .pooling import TokenStates
from .torch_encoder import SentenceTransformerEncoder

BACKENDS = ("auto", "onnx", "onnx-int8", "torch")


def make_encoder(model: str = DEFAULT_MODEL, *, backend: str | None = None) -> Encoder:
    """The encoder for ``model`` on ``backend`` (default: ``$QA_BOT_BACKEND``, else "auto").

    "auto" runs the model on ONNX Runtime when it can (same vectors, faster; see
    ``onnx_encoder``) and on PyTorch otherwise; "onnx" and "torch" insist on one; "onnx-int8"
    runs an int8-quantised copy (another model name in the index: its vectors differ a little).
    """
    backend = (backend or os.environ.get("QA_BOT_BACKEND") or "auto").lower()
    # An index built with the int8 model records INT8_SUFFIX; asking it picks that model again.
    if backend == "onnx-int8" or model.endswith(INT8_SUFFIX):
        return OnnxEncoder(model, int8=True)
    if backend == "torch":
        return SentenceTransformerEncoder(model)
    if backend == "onnx":
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
