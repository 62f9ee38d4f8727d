"""int8 rows with a scale per row (store/quantised.py): what sentence vectors and token states are stored as."""

from __future__ import annotations

import numpy as np

from qa_bot.store.quantised import quantise


def unit_rows(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    rows = rng.normal(size=(n, d)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_int8_rows_keep_their_direction():
    rows = unit_rows(np.random.default_rng(0), 200, 64)
    q, scales = quantise(rows)
    assert q.dtype == np.int8 and scales.dtype == np.float32 and np.abs(q).max(axis=1).min() == 127
    back = q * scales[:, None]
    assert np.min(np.sum(back * rows, axis=1) / np.linalg.norm(back, axis=1)) > 0.999
    assert np.all(np.abs(back - rows) <= scales[:, None] / 2 + 1e-7)


def test_quantising_rows_read_back_gives_the_same_rows():
    """An incremental build carries an article's vectors over by reading them back and storing them
    again: that must not drift."""
    q, scales = quantise(unit_rows(np.random.default_rng(1), 500, 384))
    again, scales_again = quantise(q * scales[:, None])
    assert np.array_equal(again, q)
    np.testing.assert_allclose(scales_again, scales, rtol=1e-6)


def test_a_zero_row_stays_zero():
    q, scales = quantise(np.zeros((2, 8), np.float32))
    assert not q.any() and np.all(q * scales[:, None] == 0)
    assert quantise(np.empty((0, 8), np.float32))[0].shape == (0, 8)
