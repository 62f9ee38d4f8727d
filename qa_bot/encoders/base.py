"""What the index and the bot need from an embedding model: the encoder protocols.

``Encoder`` gives text vectors; ``SpanEncoder`` also pools character spans of a text from the same
forward pass (late chunking); ``TokenEncoder`` also hands out token states (MaxSim). The real
encoders (``torch_encoder``, ``onnx_encoder``, picked by ``factory.make_encoder``) offer all three;
test fakes and custom encoders may offer only the first, and ``gives_tokens`` / ``pools_spans``
tell which.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from .pooling import TokenStates


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
    interaction (MaxSim, ``store.token_states``): the builder keeps each sentence's token states, the bot
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
