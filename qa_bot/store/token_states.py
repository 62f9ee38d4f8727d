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
XQuAD), L2-normalised, then product-quantised (``Codebook``: 16 sub-vectors of 8 dimensions,
each stored as the number of its nearest of 256 centroids, ``qa_bot/fitted/token_codebook.npy``
from ``tools/fit/token_codebook.py``): 16 bytes per token, about 32 tokens per sentence
(docs/decisions/compact-index.md). Other models keep their full dimension, rounded to int8 with
one float32 scale per token (``quantised``), as indexes written before the codebook do.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from ..encoders.models import DEFAULT_MODEL, INT8_SUFFIX
from ..encoders.pooling import TokenStates, normalise_rows
from ..fitted import ADAPTER_FILE, BASIS_FILE, CODEBOOK_FILE
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


@dataclass(frozen=True)
class Codebook:
    """A product quantiser: a row is cut into ``m`` sub-vectors, each stored as the number (one
    byte) of its nearest centroid among 256; reading it back puts the centroids together and
    makes the row unit length again."""

    centroids: np.ndarray  # (m, 256, k / m) float32

    @property
    def codes(self) -> int:
        return int(self.centroids.shape[0])

    @property
    def dimension(self) -> int:
        return int(self.centroids.shape[0] * self.centroids.shape[2])

    @property
    def key(self) -> str:
        """A short fingerprint: an index keeps token codes of one codebook only."""
        return hashlib.sha256(np.ascontiguousarray(self.centroids, dtype=np.float32).tobytes()).hexdigest()[:16]

    def encode(self, rows: np.ndarray, block: int = 4096) -> np.ndarray:
        """(t, m) uint8: each sub-vector's nearest centroid (squared Euclidean distance)."""
        m, _, sub = self.centroids.shape
        norms = np.einsum("mcd,mcd->mc", self.centroids, self.centroids)
        out = np.empty((len(rows), m), np.uint8)
        for lo in range(0, len(rows), block):
            parts = np.asarray(rows[lo : lo + block], dtype=np.float32).reshape(-1, m, sub)
            distance = norms[None] - 2 * np.einsum("tmd,mcd->tmc", parts, self.centroids)
            out[lo : lo + block] = distance.argmin(axis=2)
        return out

    def decode(self, codes: np.ndarray) -> np.ndarray:
        """(t, k) float32 rows, unit length, from (t, m) codes."""
        codes = np.asarray(codes)
        rows = self.centroids[np.arange(self.codes), codes.astype(np.intp)].reshape(len(codes), -1)
        return normalise_rows(rows).astype(np.float32)


@lru_cache(maxsize=1)
def _codebook() -> Codebook | None:
    return Codebook(np.load(CODEBOOK_FILE, allow_pickle=False).astype(np.float32)) if CODEBOOK_FILE.is_file() else None


def codebook_for(projection: Projection | None) -> Codebook | None:
    """The bundled codebook, for the bundled projection only (else None: int8 rows)."""
    bundled, codebook = _bundled(), _codebook()
    if projection is None or bundled is None or codebook is None or projection.key != bundled[1]:
        return None
    return codebook if codebook.dimension == projection.basis.shape[1] else None


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
    """The token states of a run of sentences, projected and quantised, as the index stores them:
    codes of a ``Codebook`` (no scales), or int8 rows with a scale each."""

    vectors: np.ndarray  # (t, m) uint8 codes, or (t, k) int8
    scales: np.ndarray | None  # (t,) float32 for int8 rows; None for codes
    ids: np.ndarray  # (t,) int32 vocabulary ids
    counts: np.ndarray  # (n,) int64 tokens per sentence, in order

    @classmethod
    def pack(cls, per_sentence: list[TokenStates], projection: Projection | None, dimension: int,
             codebook: Codebook | None = None) -> PackedTokens:
        counts = np.array([len(ids) for _, ids in per_sentence], dtype=np.int64)
        if not counts.sum():
            return cls.empty(len(per_sentence), dimension, codebook)
        states = np.vstack([s for s, ids in per_sentence if len(ids)])
        states = projection(states) if projection is not None else states
        ids = np.concatenate([ids for _, ids in per_sentence if len(ids)]).astype(np.int32)
        if codebook is not None:
            return cls(codebook.encode(states), None, ids, counts)
        vectors, scales = quantise(states)
        return cls(vectors, scales, ids, counts)

    @classmethod
    def empty(cls, sentences: int, dimension: int, codebook: Codebook | None = None) -> PackedTokens:
        if codebook is not None:
            return cls(np.empty((0, codebook.codes), np.uint8), None, np.empty(0, np.int32),
                       np.zeros(sentences, np.int64))
        return cls(np.empty((0, dimension), np.int8), np.empty(0, np.float32), np.empty(0, np.int32),
                   np.zeros(sentences, np.int64))


@dataclass
class TokenStore:
    """Every sentence's token states in a loaded index, and MaxSim against them."""

    vectors: np.ndarray  # (T, m) uint8 codes of ``codebook``, or (T, k) int8 rows
    scales: np.ndarray | None  # (T,) float32 for int8 rows; None for codes
    ids: np.ndarray  # (T,) uint16 or int32 vocabulary ids
    bounds: np.ndarray  # (n, 2) int64: each sentence's rows [start, end)
    df: np.ndarray  # (V,) int64: how many sentences hold each vocabulary id
    projection: Projection | None
    adapter: np.ndarray | None = None  # the query adapter (adapter_for), or None
    codebook: Codebook | None = None  # what the codes are read with (codebook_for), or None: int8 rows

    @property
    def dimension(self) -> int:
        return self.codebook.dimension if self.codebook is not None else int(self.vectors.shape[1])

    def rows(self, rows: np.ndarray | slice) -> np.ndarray:
        """Token vectors at ``rows`` (float32, as stored: codes decoded, int8 rows scaled)."""
        if self.codebook is not None:
            return self.codebook.decode(self.vectors[rows])
        return self.vectors[rows].astype(np.float32) * self.scales[rows, None]

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
        return self.rows(slice(int(a), int(b)))

    def idf(self, ids: np.ndarray) -> np.ndarray:
        """BM25's IDF of vocabulary ids over the sentences (an id the corpus lacks weighs most)."""
        n = len(self.bounds)
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
        tokens = self.rows(rows)
        sims = both @ tokens.T  # (question tokens [plain, adapted], sentence tokens)
        starts = np.r_[0, np.cumsum(lengths[filled])[:-1]]
        best = np.maximum.reduceat(sims, starts, axis=1)
        out[0, filled] = weights @ best[: len(ids)]
        out[1, filled] = weights @ best[len(ids) :] if self.adapter is not None else out[0, filled]
        return out[0], out[1]
