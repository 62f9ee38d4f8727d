"""Token-level late interaction: ColBERT's MaxSim between a question and candidate sentences.

The build keeps the states of every sentence's own tokens as the model read them in its passage
(the same forward pass that gives the sentence its vector, see ``indexing.embed``). At question
time each question token finds its best match among a sentence's tokens; the IDF-weighted mean of
those best cosines is the sentence's MaxSim, one of the answerer's ranking features
(``answer.features``). It sees what a single vector blurs: which of the question's words, read in
context, the sentence actually holds.

Stored compactly: each token state is projected onto a fixed PCA basis (128 of 384 dimensions for
the default model, shipped as ``qa_bot/fitted/token_basis.npy``, fitted by
``tools/fit/token_basis.py`` on tokens of the fitting paragraphs: SQuAD dev paragraphs not in
XQuAD; other models keep their full dimension), L2-normalised and rounded to int8 with one float32
scale per token: 132 bytes per token, about 32 tokens per sentence. ``tools/studies/maxsim.py``
measured what this costs in accuracy (0.4 points of accuracy@1 on held-out fitting questions
against float16 at full dimension).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..encoders.models import DEFAULT_MODEL, INT8_SUFFIX
from ..encoders.pooling import TokenStates, normalise_rows
from ..fitted import ADAPTER_FILE, BASIS_FILE
from .quantised import quantise


@dataclass(frozen=True)
class Projection:
    """Centre token states on ``mean`` and project them onto ``basis``'s columns."""

    mean: np.ndarray  # (d,)
    basis: np.ndarray  # (d, k)

    @classmethod
    def from_array(cls, array: np.ndarray) -> Projection:
        return cls(array[:, 0], array[:, 1:])

    def to_array(self) -> np.ndarray:
        return np.hstack([self.mean[:, None], self.basis]).astype(np.float32)

    @property
    def key(self) -> str:
        """A short fingerprint: an index keeps token vectors of one projection only."""
        return hashlib.sha256(self.to_array().tobytes()).hexdigest()[:16]

    def __call__(self, states: np.ndarray) -> np.ndarray:
        return normalise_rows((states - self.mean) @ self.basis).astype(np.float32)


@lru_cache(maxsize=1)
def _bundled() -> tuple[Projection, str, np.ndarray | None] | None:
    """The bundled projection, its key and its query adapter (None where there is no adapter
    file), read once per process; None without a bundled projection."""
    if not BASIS_FILE.is_file():
        return None
    projection = Projection.from_array(np.load(BASIS_FILE, allow_pickle=False))
    adapter = np.load(ADAPTER_FILE, allow_pickle=False).astype(np.float32) if ADAPTER_FILE.is_file() else None
    return projection, projection.key, adapter


def projection_for(model: str, dimension: int) -> Projection | None:
    """The bundled projection for the default model (also on the int8 backend), else None."""
    bundled = _bundled()
    if model.removesuffix(INT8_SUFFIX) != DEFAULT_MODEL or bundled is None:
        return None
    return bundled[0] if len(bundled[0].mean) == dimension else None


def adapter_for(projection: Projection | None) -> np.ndarray | None:
    """The bundled query adapter, for the bundled projection only (else None)."""
    bundled = _bundled()
    if projection is None or bundled is None or bundled[2] is None or projection.key != bundled[1]:
        return None
    adapter = bundled[2]
    return adapter if adapter.shape == (projection.basis.shape[1],) * 2 else None


def adapt(states: np.ndarray, adapter: np.ndarray) -> np.ndarray:
    """Question token states (projected) through the query adapter: ``q + q @ adapter``, unit length."""
    return normalise_rows(states + states @ adapter).astype(np.float32)


@dataclass
class PackedTokens:
    """The token states of a run of sentences, projected and quantised, as the index stores them."""

    vectors: np.ndarray  # (t, k) int8
    scales: np.ndarray  # (t,) float32
    ids: np.ndarray  # (t,) int32 vocabulary ids
    counts: np.ndarray  # (n,) int64 tokens per sentence, in order

    @classmethod
    def pack(cls, per_sentence: list[TokenStates], projection: Projection | None, dimension: int) -> PackedTokens:
        counts = np.array([len(ids) for _, ids in per_sentence], dtype=np.int64)
        if not counts.sum():
            return cls.empty(len(per_sentence), dimension)
        states = np.vstack([s for s, ids in per_sentence if len(ids)])
        vectors, scales = quantise(projection(states) if projection is not None else states)
        ids = np.concatenate([ids for _, ids in per_sentence if len(ids)]).astype(np.int32)
        return cls(vectors, scales, ids, counts)

    @classmethod
    def empty(cls, sentences: int, dimension: int) -> PackedTokens:
        return cls(np.empty((0, dimension), np.int8), np.empty(0, np.float32), np.empty(0, np.int32),
                   np.zeros(sentences, np.int64))


@dataclass
class TokenStore:
    """Every sentence's token states in a loaded index, and MaxSim against them."""

    vectors: np.ndarray  # (T, k) int8
    scales: np.ndarray  # (T,) float32
    ids: np.ndarray  # (T,) uint16 or int32 vocabulary ids
    bounds: np.ndarray  # (n, 2) int64: each sentence's rows [start, end)
    df: np.ndarray  # (V,) int64: how many sentences hold each vocabulary id
    projection: Projection | None
    adapter: np.ndarray | None = None  # the query adapter (adapter_for), or None
    total: int | None = None  # sentences in the whole index, when this holds a slice of it (store/slices.py)

    @property
    def dimension(self) -> int:
        return int(self.vectors.shape[1])

    @staticmethod
    def bounds_of(counts: np.ndarray) -> np.ndarray:
        ends = np.cumsum(counts)
        return np.c_[ends - counts, ends].astype(np.int64)

    @staticmethod
    def document_frequency(ids: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """Per vocabulary id, the number of sentences holding it at least once."""
        if not len(ids):
            return np.zeros(0, np.int64)
        sentence = np.repeat(np.arange(len(counts)), counts)
        vocab = int(ids.max()) + 1
        pairs = np.unique(sentence.astype(np.int64) * vocab + ids)
        return np.bincount(pairs % vocab, minlength=vocab).astype(np.int64)

    def sentence(self, i: int) -> np.ndarray:
        """Sentence ``i``'s token vectors, dequantised (float32)."""
        a, b = self.bounds[i]
        return self.vectors[a:b].astype(np.float32) * self.scales[a:b, None]

    def idf(self, ids: np.ndarray) -> np.ndarray:
        """BM25's IDF of vocabulary ids over the sentences (an id the corpus lacks weighs most)."""
        n = len(self.bounds) if self.total is None else self.total
        df = np.zeros(len(ids))
        known = ids < len(self.df)
        df[known] = self.df[ids[known]]
        return np.log1p((n - df + 0.5) / (df + 0.5))

    def maxsim(self, question: TokenStates, sentences: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """MaxSim of the question against each of ``sentences`` (0 for a sentence without tokens),
        and the same with the question's tokens through the query adapter (the plain MaxSim again
        where there is no adapter)."""
        states, ids = question
        out = np.zeros((2, len(sentences)))
        if not len(ids) or not len(sentences):
            return out[0], out[1]
        q = self.projection(states) if self.projection is not None else states
        both = np.vstack([q, adapt(q, self.adapter)]) if self.adapter is not None else q
        weights = self.idf(ids)
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(ids), 1 / len(ids))
        spans = self.bounds[sentences]
        lengths = spans[:, 1] - spans[:, 0]
        filled = lengths > 0
        if not filled.any():
            return out[0], out[1]
        rows = np.concatenate([np.arange(a, b) for a, b in spans[filled]])
        tokens = self.vectors[rows].astype(np.float32) * self.scales[rows, None]
        sims = both @ tokens.T  # (question tokens [plain, adapted], sentence tokens)
        starts = np.r_[0, np.cumsum(lengths[filled])[:-1]]
        best = np.maximum.reduceat(sims, starts, axis=1)
        out[0, filled] = weights @ best[: len(ids)]
        out[1, filled] = weights @ best[len(ids) :] if self.adapter is not None else out[0, filled]
        return out[0], out[1]
