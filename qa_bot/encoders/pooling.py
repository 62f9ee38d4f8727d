"""From a model's token states to vectors: batching, mean pooling, spans and per-token states.

Shared by every real encoder (``torch_encoder``, ``onnx_encoder``): texts are batched by length so
each batch pads little; a text's vector is sentence-transformers' mean pooling of its token
states; a span's vector (late chunking) is the mean of the tokens inside it; token states (for
MaxSim) are a text's or a span's own tokens, special tokens left out.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

TokenStates = tuple[np.ndarray, np.ndarray]
"""``(states, ids)`` of a text's (or span's) own tokens, special tokens left out: their
L2-normalised float32 states (k, dim) and their vocabulary ids (k,) int32."""


def encode_in_batches(
    texts: Sequence,
    batch_size: int,
    dimension: int,
    run: Callable[[list], np.ndarray],
    progress: Callable[[int], None] | None,
    key: Callable[[object], int] = len,
) -> np.ndarray:
    """``run`` over batches of texts sorted by length (so each batch pads little), rows returned in
    the order of ``texts``; ``progress(n)`` after each batch. Shared by every real encoder."""
    out = np.empty((len(texts), dimension), dtype=np.float32)
    order = np.argsort([-key(t) for t in texts], kind="stable")
    for lo in range(0, len(texts), batch_size):
        rows = order[lo : lo + batch_size]
        out[rows] = run([texts[i] for i in rows])
        if progress is not None:
            progress(len(rows))
    return out


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length; all-zero rows stay zero."""
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    return matrix / np.where(norms > 0, norms, 1.0)


def _inner_tokens(mask: np.ndarray, special: np.ndarray, offsets: np.ndarray | None = None) -> np.ndarray:
    """Which tokens of one text are its own: real, not special and (with offsets) not empty."""
    inner = mask.astype(bool) & ~special.astype(bool)
    return inner if offsets is None else inner & (offsets[:, 1] > offsets[:, 0])


def pool_tokens(
    hidden: np.ndarray,
    mask: np.ndarray,
    offsets: np.ndarray,
    special: np.ndarray,
    spans: Sequence[Sequence[tuple[int, int]]],
    ids: np.ndarray | None = None,
) -> tuple[np.ndarray, list[np.ndarray], list[list[TokenStates]] | None]:
    """Mean pooling of one batch of token states: the text vectors and each text's span vectors.

    ``hidden`` is (texts, tokens, dim); ``mask`` marks real tokens, ``special`` the [CLS]/[SEP]
    ones, ``offsets`` (texts, tokens, 2) their character spans. A span's vector is the mean of the
    non-special tokens inside it; a span whose end was truncated away gets a zero row. With
    ``ids`` (texts, tokens), the third item holds each span's own token states (else None).
    """
    per_text, per_text_tokens = [], []
    dim = hidden.shape[-1]
    for row, text_spans in enumerate(spans):
        inner = _inner_tokens(mask[row], special[row], offsets[row])
        seen = int(offsets[row, inner, 1].max()) if inner.any() else 0
        out = np.zeros((len(text_spans), dim), dtype=np.float32)
        states: list[TokenStates] = []
        for k, (a, b) in enumerate(text_spans):
            inside = inner & (offsets[row, :, 0] >= a) & (offsets[row, :, 1] <= b)
            whole = b <= seen and inside.any()
            if whole:
                out[k] = hidden[row, inside].mean(axis=0)
            if ids is not None:
                keep = inside if whole else np.zeros_like(inside)
                states.append((normalise_rows(hidden[row, keep]).astype(np.float32),
                               ids[row, keep].astype(np.int32)))
        per_text.append(normalise_rows(out))
        per_text_tokens.append(states)
    return mean_pool(hidden, mask), per_text, per_text_tokens if ids is not None else None


def text_tokens(hidden: np.ndarray, mask: np.ndarray, special: np.ndarray, ids: np.ndarray) -> list[TokenStates]:
    """Each text's own token states (special and padding tokens left out), L2-normalised."""
    out = []
    for row in range(len(hidden)):
        keep = _inner_tokens(mask[row], special[row])
        out.append((normalise_rows(hidden[row, keep]).astype(np.float32), ids[row, keep].astype(np.int32)))
    return out


def encode_tokens_in_batches(
    texts: Sequence[str],
    batch_size: int,
    dimension: int,
    run: Callable[[list[str]], tuple[np.ndarray, list[TokenStates]]],
) -> tuple[np.ndarray, list[TokenStates]]:
    """``encode_in_batches`` for ``encode_tokens``: ``run(batch)`` gives vectors and token states."""
    tokens: list[TokenStates] = [None] * len(texts)  # type: ignore[list-item]

    def run_rows(rows: list[int]) -> np.ndarray:
        vectors, states = run([texts[i] for i in rows])
        for i, st in zip(rows, states):
            tokens[i] = st
        return vectors

    vectors = encode_in_batches(range(len(texts)), batch_size, dimension, run_rows, None, key=lambda i: len(texts[i]))
    return vectors, tokens


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """sentence-transformers' mean pooling of (texts, tokens, dim) token states, L2-normalised."""
    weights = mask[..., None].astype(np.float32)
    pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
    return normalise_rows(pooled).astype(np.float32)


def encode_spans_in_batches(
    texts: Sequence[str],
    spans: Sequence[Sequence[tuple[int, int]]],
    batch_size: int,
    dimension: int,
    run: Callable[[list[str], list[Sequence[tuple[int, int]]]], tuple[np.ndarray, list[np.ndarray], list | None]],
    progress: Callable[[int], None] | None,
) -> tuple[np.ndarray, np.ndarray, list[TokenStates] | None]:
    """``encode_in_batches`` for ``encode_with_spans``: ``run(batch, batch_spans)`` gives what
    ``pool_tokens`` gives; span rows (and span token states, if ``run`` gives them) come back flat,
    in input order."""
    if len(spans) != len(texts):
        raise ValueError(f"{len(texts)} texts but {len(spans)} span lists")
    per_text: list[np.ndarray] = [np.empty((0, dimension), np.float32)] * len(texts)
    per_text_tokens: list[list[TokenStates]] = [[] for _ in texts]
    with_tokens = False

    def run_rows(batch_rows: list[int]) -> np.ndarray:
        nonlocal with_tokens
        vectors, pooled, states = run([texts[i] for i in batch_rows], [spans[i] for i in batch_rows])
        for k, (i, rows) in enumerate(zip(batch_rows, pooled)):
            per_text[i] = rows
            if states is not None:
                per_text_tokens[i] = states[k]
                with_tokens = True
        return vectors

    vectors = encode_in_batches(range(len(texts)), batch_size, dimension, run_rows, progress,
                                key=lambda i: len(texts[i]))
    flat = np.vstack(per_text) if texts else np.empty((0, dimension), np.float32)
    flat_tokens = [st for states in per_text_tokens for st in states] if with_tokens else None
    return vectors, flat.astype(np.float32).reshape(-1, dimension), flat_tokens
