"""Optional second stage: a cross-encoder reads the question and each top candidate together.

The answerer ranks sentences with features of vectors computed apart (the question's and the
sentence's). A cross-encoder reads the question and a sentence in one forward pass, so every word
of one attends to every word of the other; it is the strongest reader of the kind, and the
slowest, so it only re-orders the ranker's best few candidates (``AnswerConfig.rerank_top``).

None is bundled (none can be shipped offline), so it is off unless the user supplies one:
``QABot.load(..., reranker=CrossEncoderReranker("path/or/name"))`` or ``--cross-encoder`` on the
command line. Any sentence-transformers ``CrossEncoder`` with one output works (ms-marco rerankers,
or one trained with ``tools/fit/cross_encoder.py``). What the answerer keeps from the first
stage: which sentences are candidates and whether to answer at all (the answerability model reads
the first stage's features; a cross-encoder's scores are not calibrated alike across models).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Protocol

import numpy as np

from ..encoders.models import DOWNLOAD_HINT, downloads_allowed
from ..errors import ModelLoadError


class Reranker(Protocol):
    """Scores (question, sentence) pairs: higher is a better answer. Only the order matters."""

    name: str

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray: ...


class CrossEncoderReranker:
    """A sentence-transformers ``CrossEncoder`` (one output), loaded on first use."""

    def __init__(self, model: str, *, device: str = "cpu", batch_size: int = 32, allow_download: bool = False):
        self.name = model
        self._device = device
        self._batch_size = batch_size
        self._allow_download = downloads_allowed(allow_download)
        self._model = None
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        if self._model is not None:
            return
        with self._lock:
            if self._model is not None:
                return
            try:
                from sentence_transformers import CrossEncoder

                model = CrossEncoder(self.name, device=self._device,
                                     local_files_only=not self._allow_download)
            except Exception as exc:  # the library raises many kinds; all mean "cannot load"
                raise ModelLoadError(f"cannot load cross-encoder {self.name!r}: {exc}. {DOWNLOAD_HINT}") from exc
            config = getattr(model, "config", None)
            architectures = getattr(config, "architectures", None) or []
            # An embedding model loads too, with a fresh random head: its config names the bare model.
            if architectures and not any(a.endswith("ForSequenceClassification") for a in architectures):
                raise ModelLoadError(
                    f"{self.name!r} is not a cross-encoder (architectures {architectures}): its scoring head would "
                    "be untrained. Give a model trained to score (question, passage) pairs, such as an ms-marco "
                    "reranker or one made by tools/fit/cross_encoder.py"
                )
            labels = getattr(config, "num_labels", 1)
            if labels != 1:
                raise ModelLoadError(
                    f"cross-encoder {self.name!r} has {labels} outputs; a reranker needs one relevance score "
                    "(an ms-marco style model, or one from tools/fit/cross_encoder.py)"
                )
            self._model = model

    def score(self, question: str, sentences: Sequence[str]) -> np.ndarray:
        if not sentences:
            return np.empty(0)
        self.warm_up()
        pairs = [(question, s) for s in sentences]
        scores = self._model.predict(pairs, batch_size=self._batch_size, show_progress_bar=False,
                                     convert_to_numpy=True)
        return np.asarray(scores, dtype=np.float64).reshape(len(sentences))


def rerank_order(scores: np.ndarray, rerank_scores: np.ndarray, top: int, weight: float) -> np.ndarray:
    """Candidate rows best first: the ``top`` best by the ranker's ``scores`` re-ordered by the
    sum of both scores standardised over those rows (the reranker's times ``weight``), then the
    rest in the ranker's order. ``rerank_scores`` are the reranker's, for the ``top`` best in order.

    Standardising makes the mix independent of a model's scale (logits, probabilities).
    """
    by_score = np.argsort(-scores, kind="stable")
    head = by_score[:top]
    if len(head) < 2:
        return by_score
    mixed = _standardised(scores[head]) + weight * _standardised(np.asarray(rerank_scores, dtype=np.float64))
    return np.concatenate([head[np.argsort(-mixed, kind="stable")], by_score[top:]])


def _standardised(x: np.ndarray) -> np.ndarray:
    spread = float(x.std())
    return (x - x.mean()) / spread if spread > 0 else np.zeros_like(x)


def load_reranker(model: str | None) -> CrossEncoderReranker | None:
    """The cross-encoder ``model`` names, loaded now so that a bad name fails at once (None: none)."""
    if model is None:
        return None
    reranker = CrossEncoderReranker(model)
    reranker.warm_up()
    return reranker
