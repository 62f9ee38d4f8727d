"""Corpora for the benchmarks: SQuAD dev paragraphs, Wikinews, and SQuAD repeated to any size.

Larger corpora repeat the 2,067 real SQuAD dev paragraphs under distinct ids (``<id>-r<k>``), as
the performance issue allows. They are built with the normal builder; a caching encoder embeds
each distinct text once and reuses its vector for the repeats, so a 200,000-passage index takes
minutes instead of hours. Everything that is timed (search, BM25, scoring, loading) runs on the
full-size index; only the build of a scaled corpus is not a throughput figure.
"""

from __future__ import annotations

import hashlib
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa_bot.corpus.files import save_articles
from qa_bot.corpus.ingest import read_sources
from qa_bot.evaluation.datasets import EvalQuestion, load_mrqa
from qa_bot.indexing.build import build_index
from qa_bot.records import Article

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
SQUAD = SHARED / "mrqa_squad_dev.jsonl.gz"
WIKINEWS = SHARED / "gum_wikinews.jsonl"


def require_shared() -> None:
    if not SQUAD.exists():
        sys.exit(f"benchmarks need the evaluation data in {SHARED} (../shared/data beside the project)")


def squad() -> tuple[list[Article], list[EvalQuestion]]:
    data = load_mrqa(SQUAD)
    return data.articles, data.questions


def wikinews() -> list[Article]:
    return [n.article for n in read_sources([str(WIKINEWS)])[0]]


def split_questions(questions: list[EvalQuestion]) -> tuple[list[EvalQuestion], list[EvalQuestion]]:
    """Two fixed halves by paragraph: one to choose settings on (tune), one to report (report)."""
    tune, report = [], []
    for q in questions:
        half = int(hashlib.sha256(q.article.encode()).hexdigest(), 16) % 2
        (tune if half == 0 else report).append(q)
    return tune, report


def repeated(articles: list[Article], copies: int) -> list[Article]:
    """``copies`` copies of every article, ids made distinct (the first copy keeps its id)."""
    out = list(articles)
    for k in range(1, copies):
        out += [replace(a, id=f"{a.id}-r{k}") for a in articles]
    return out


def scaled(articles: list[Article], passages_per_article: float, target: int) -> list[Article]:
    """About ``target`` passages: a prefix of ``articles`` or enough repeats of all of them."""
    need = math.ceil(target / passages_per_article)
    if need <= len(articles):
        return articles[:need]
    return repeated(articles, math.ceil(need / len(articles)))[:need]


class CachingEncoder:
    """Wraps an encoder; each distinct text is embedded once, here and across runs (a .npy cache)."""

    def __init__(self, inner, cache: Path) -> None:
        self.inner = inner
        self.name = inner.name
        self._cache = cache
        self._vectors: dict[str, np.ndarray] = {}
        if cache.with_suffix(".npy").exists():
            texts = cache.with_suffix(".txt").read_text(encoding="utf-8").split("\x00")
            vectors = np.load(cache.with_suffix(".npy"), allow_pickle=False)
            self._vectors = dict(zip(texts, vectors))

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = 64,
               progress: Callable[[int], None] | None = None) -> np.ndarray:
        new = sorted({t for t in texts if t not in self._vectors})
        if new:
            for text, vector in zip(new, self.inner.encode(new, batch_size=batch_size)):
                self._vectors[text] = vector
            self._save()
        if progress is not None:
            progress(len(texts))
        return np.vstack([self._vectors[t] for t in texts]) if texts else np.empty((0, self.dimension), np.float32)

    def _save(self) -> None:
        self._cache.parent.mkdir(parents=True, exist_ok=True)
        texts = list(self._vectors)
        self._cache.with_suffix(".txt").write_text("\x00".join(texts), encoding="utf-8")
        np.save(self._cache.with_suffix(".npy"), np.vstack([self._vectors[t] for t in texts]), allow_pickle=False)


def build_corpus(articles: list[Article], work: Path, encoder) -> Path:
    """Write ``articles`` as a corpus under ``work`` (once) and build its index; the index dir."""
    corpus, index = work / "corpus", work / "index"
    if not corpus.exists():
        save_articles(corpus, articles)
    build_index(corpus, index, encoder)
    return index
