"""A sentence-transformers model run by PyTorch: the reference encoder, and the fallback for
models the ONNX backend cannot run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import ModelLoadError
from .models import DEFAULT_MODEL, DOWNLOAD_HINT, canonical_model_name, downloads_allowed, resolve_model
from .pooling import (
    TokenStates,
    encode_in_batches,
    encode_spans_in_batches,
    encode_tokens_in_batches,
    normalise_rows,
    pool_tokens,
    text_tokens,
)


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
            states = out["token_embeddings"].float().cpu().numpy()
            return vectors, text_tokens(states, encoded["attention_mask"].numpy(),
                                        encoded["special_tokens_mask"].numpy(), encoded["input_ids"].numpy())

        return encode_tokens_in_batches(texts, batch_size, self.dimension, run)
