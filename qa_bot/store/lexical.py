"""BM25 over passages (bm25s) and the term statistics the answerer uses for lexical overlap.

Tokens are lower-cased words with English stop words removed and Snowball-stemmed (PyStemmer),
so "attacked" matches "attack" and "Pakistan's" matches "Pakistan’s". A build feeds passages in a
batch at a time (``LexicalBuilder``): each batch is tokenized as it comes and kept as vocabulary
ids, 4 bytes a term, so no build holds every passage's text or token strings at once.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN_PLUS

_APOSTROPHES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'"})


@lru_cache(maxsize=1)
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def tokenize(texts: Sequence[str]) -> list[list[str]]:
    """Stemmed, stop-word-free tokens of each text (the one tokenizer used everywhere)."""
    return bm25s.tokenize(
        [t.translate(_APOSTROPHES) for t in texts],
        stopwords=STOPWORDS_EN_PLUS,  # the NLTK list: also drops who/what/how
        stemmer=_stemmer(),
        return_ids=False,
        show_progress=False,
    )


class LexicalIndex:
    """A BM25 index over passage texts plus document frequencies of its terms."""

    def __init__(self, retriever: bm25s.BM25, n_docs: int, avgdl: float | None = None) -> None:
        self._retriever = retriever
        self.n_docs = n_docs
        self.avgdl = avgdl  # mean terms a passage, as bm25s computed it (known at build; the manifest keeps it)
        indptr = np.asarray(retriever.scores["indptr"])
        # bm25s stores a CSC matrix whose columns are vocabulary terms: the column length is the
        # number of passages holding the term.
        self._df = np.diff(indptr)
        self._vocab: dict[str, int] = retriever.vocab_dict

    @classmethod
    def build(cls, texts: Sequence[str]) -> LexicalIndex:
        builder = LexicalBuilder()
        builder.add(texts)
        return builder.finish()

    def save(self, directory: Path) -> None:
        self._retriever.save(str(directory), allow_pickle=False, show_progress=False)

    @classmethod
    def load(cls, directory: Path, n_docs: int) -> LexicalIndex:
        retriever = bm25s.BM25.load(str(directory), allow_pickle=False, mmap=False, show_progress=False)
        return cls(retriever, n_docs)

    def knows(self, term: str) -> bool:
        """True if some passage holds ``term``."""
        col = self._vocab.get(term)
        return col is not None and col < len(self._df) and self._df[col] > 0

    def idf(self, term: str) -> float:
        """Inverse document frequency; a term absent from the corpus gets the highest value."""
        col = self._vocab.get(term)
        df = int(self._df[col]) if col is not None and col < len(self._df) else 0
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))

    def vocabulary(self) -> tuple[list[str], np.ndarray]:
        """Every term, by vocabulary id, and its document frequency."""
        terms = [""] * len(self._vocab)
        for term, i in self._vocab.items():
            terms[i] = term
        return terms, self._df.copy()

    def passage_terms(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Each passage's terms and BM25 weights, as bm25s holds them (its term-major matrix read
        passage by passage): (bounds, ids, weights), passage ``p``'s entries at
        ``bounds[p]:bounds[p + 1]``, by ascending term id."""
        scores = self._retriever.scores
        indptr = np.asarray(scores["indptr"], np.int64)
        docs = np.asarray(scores["indices"], np.int64)
        terms = np.repeat(np.arange(len(indptr) - 1, dtype=np.int64), np.diff(indptr))
        order = np.lexsort((terms, docs))
        bounds = np.r_[0, np.cumsum(np.bincount(docs, minlength=self.n_docs))].astype(np.int64)
        return bounds, terms[order].astype(np.int32), np.asarray(scores["data"], np.float32)[order]

    def search(
        self,
        query_tokens: list[str],
        k: int,
        allowed: np.ndarray | None = None,
        *,
        synonyms: Sequence[tuple[list[str], list[str]]] = (),
    ) -> tuple[np.ndarray, np.ndarray]:
        """Top-k passage ids and BM25 scores for one tokenized query (ids of score 0 dropped).

        ``allowed``, a boolean mask over passages, restricts the search to those passages.
        ``synonyms`` are pairs of term lists naming one thing (an acronym and its long form): a
        passage scores the better of the two, not both, and the query need hold only one.
        """
        grouped = {t for a, b in synonyms for t in (*a, *b)}
        known = [t for t in query_tokens if t in self._vocab and t not in grouped]
        groups = [[[t for t in side if t in self._vocab] for side in pair] for pair in synonyms]
        groups = [g for g in groups if g[0] or g[1]]
        if (not known and not groups) or k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        mask = None if allowed is None else allowed.astype(np.float32)
        # Score every passage directly: bm25s.retrieve hands even one query to a thread pool,
        # which costs more than the scoring itself on a busy machine.
        scores = self._scores(known, mask)
        for a, b in groups:
            scores = scores + np.maximum(self._scores(a, mask), self._scores(b, mask))
        k = min(k, len(scores))
        if k <= 0:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.float32)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))].astype(np.int64)  # best first, ties by id
        keep = scores[top] > 0
        return top[keep], scores[top][keep]

    def _scores(self, terms: list[str], mask: np.ndarray | None) -> np.ndarray:
        if not terms:
            return np.zeros(self.n_docs, dtype=np.float32)
        return np.asarray(self._retriever.get_scores(terms, weight_mask=mask), dtype=np.float32)


class LexicalBuilder:
    """Builds a ``LexicalIndex`` from passages added a batch at a time, in order."""

    PLACEHOLDER = "\u2400"  # the term of a passage of stop words only (bm25s wants no empty document)

    def __init__(self) -> None:
        self._vocab: dict[str, int] = {}
        self._ids: list[np.ndarray] = []  # per batch, its passages' term ids, one after another
        self._lengths: list[np.ndarray] = []  # per batch, each passage's number of terms

    def add(self, texts: Sequence[str]) -> None:
        """Append the next passages (as BM25 indexes them: heading, then text)."""
        if not texts:
            return
        terms = [t or [self.PLACEHOLDER] for t in tokenize(texts)]
        vocab = self._vocab
        flat = [vocab.setdefault(term, len(vocab)) for doc in terms for term in doc]
        self._ids.append(np.array(flat, dtype=np.int32))
        self._lengths.append(np.array([len(doc) for doc in terms], dtype=np.int64))

    def terms(self):
        """Before ``finish``: a function giving the BM25 terms of passages (by their number, in the
        order added) joined by spaces, for an engine that indexes them itself (Milvus)."""
        flat = np.concatenate(self._ids) if self._ids else np.empty(0, np.int32)
        lengths = np.concatenate(self._lengths) if self._lengths else np.empty(0, np.int64)
        self._ids, self._lengths = [flat], [lengths]
        bounds = np.r_[0, np.cumsum(lengths)]
        words = [""] * len(self._vocab)
        for word, i in self._vocab.items():
            words[i] = word

        def of(passages: np.ndarray) -> list[str]:
            return [" ".join(words[t] for t in flat[bounds[p] : bounds[p + 1]].tolist()) for p in passages.tolist()]

        return of

    def finish(self) -> LexicalIndex:
        ids = np.concatenate(self._ids) if self._ids else np.empty(0, np.int32)
        lengths = np.concatenate(self._lengths) if self._lengths else np.empty(0, np.int64)
        self._ids, self._lengths = [], []
        retriever = bm25s.BM25()
        retriever.index(_TermIds(ids, lengths, self._vocab), show_progress=False)
        return LexicalIndex(retriever, len(lengths), float(lengths.mean()) if len(lengths) else 0.0)


class _TermIds:
    """The corpus as bm25s reads it from ids (its ``ids`` and ``vocab``): every passage's term ids,
    given again each time bm25s walks them, from one flat array."""

    def __init__(self, flat: np.ndarray, lengths: np.ndarray, vocab: dict[str, int]) -> None:
        self.flat, self.vocab = flat, vocab
        self.bounds = np.r_[0, np.cumsum(lengths)]

    @property
    def ids(self) -> _TermIds:
        return self

    def __len__(self) -> int:
        return len(self.bounds) - 1

    def __iter__(self):
        flat, bounds = self.flat, self.bounds.tolist()
        for a, b in zip(bounds[:-1], bounds[1:]):
            yield flat[a:b].tolist()
