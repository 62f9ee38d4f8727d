"""Vectors stored as int8 with one float32 scale per row: a quarter of float32's bytes.

Each row is divided by its largest absolute value over 127 and rounded, so ``int8 * scale`` gives
it back to within half a step of that scale. Quantising a row read back gives the same int8 row,
so an incremental build that carries an article's vectors over stores them unchanged. Used for
sentence vectors and token states (docs/decisions/compact-index.md).
"""

from __future__ import annotations

import numpy as np


def quantise(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """int8 rows and one float32 scale per row (``int8 * scale`` gives the row back)."""
    scales = np.abs(rows).max(axis=1) / 127 if len(rows) else np.empty(0, np.float32)
    scales = np.where(scales > 0, scales, 1.0).astype(np.float32)
    return np.round(rows / scales[:, None]).astype(np.int8), scales
