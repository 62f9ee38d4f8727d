"""An article's rows in an index build (``ArticleRows``), chunked afresh or reused from the previous
index, and the texts its passages and sentences are embedded as.

``build`` plans which articles are new or edited, ``embed`` embeds their rows in one pass over the
model, and ``build`` assembles the index from every article's rows.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..records import Article
from ..store.data import PARAGRAPH, PASSAGE, SENTENCE, IndexData
from ..store.token_states import PackedTokens
from .chunking import ChunkParams, chunk_text
from .chunking import windows as chunk_windows

# Bump when what is embedded for a passage or sentence changes: vectors of an older recipe are
# stale even where the article text is not. 3: forward passes over windows, every token once
# (embed.SINGLE_PASS); 2: one forward pass per passage.
EMBED_RECIPE = 3


def embed_text(heading: str, text: str) -> str:
    """What is embedded and BM25-indexed for a passage: its section heading, then its text."""
    return f"{heading}\n{text}" if heading else text


@dataclass
class ArticleRows:
    """The rows of one article (``store.data`` records), numbered within the article: ``article``
    is 0, and sentence and paragraph numbers start at 0; ``build`` renumbers them for the index."""

    sentences: np.ndarray  # SENTENCE records
    paragraphs: np.ndarray  # PARAGRAPH records
    passages: np.ndarray  # PASSAGE records
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    tokens: PackedTokens | None = None


def reuse(prev: IndexData, pos: int, *, passage_vectors: bool = True) -> ArticleRows:
    """The rows and vectors of the article at position ``pos`` of the previous index (its passage
    vectors zeros without ``passage_vectors``: a store that keeps them in place has them)."""
    s_rows, p_rows, g_rows = prev.article_sentences(pos), prev.article_passages(pos), prev.article_paragraphs(pos)
    sentences = prev.sentences[s_rows.start : s_rows.stop].copy()
    sentences["article"] = 0
    sentences["paragraph"] -= g_rows.start
    passages = prev.passages[p_rows.start : p_rows.stop].copy()
    passages["article"] = 0
    passages["first"] -= s_rows.start
    passages["last"] -= s_rows.start
    paragraphs = prev.paragraphs[g_rows.start : g_rows.stop].copy()
    paragraphs["article"] = 0
    tokens = None
    if prev.tokens is not None:
        bounds = prev.tokens.bounds[s_rows.start : s_rows.stop]
        lo, hi = (int(bounds[0, 0]), int(bounds[-1, 1])) if len(s_rows) else (0, 0)
        tokens = PackedTokens(np.array(prev.tokens.vectors[lo:hi]), prev.tokens.scales[lo:hi],
                              prev.tokens.ids[lo:hi], bounds[:, 1] - bounds[:, 0])
    vectors = (prev.passage_vectors.vectors(prev.store_ids(np.arange(p_rows.start, p_rows.stop))) if passage_vectors
               else np.zeros((len(p_rows), prev.dimension), np.float32))
    return ArticleRows(
        sentences, paragraphs, passages, vectors,
        prev.sentence_vectors[s_rows.start : s_rows.stop], tokens,
    )


def chunk(article: Article, params: ChunkParams) -> ArticleRows:
    """The rows of ``article`` cut afresh (no vectors yet)."""
    chunks = chunk_text(article.text, params)
    return ArticleRows(
        np.array([(0, *s) for s in chunks.sentences], dtype=SENTENCE),
        np.array([(0, *g) for g in chunks.paragraphs], dtype=PARAGRAPH),
        np.array([(0, *p) for p in chunks.passages], dtype=PASSAGE),
    )


def passage_texts(article: Article, rows: ArticleRows) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Each passage as embedded (heading, then body) and the spans of its sentences in that text."""
    return unit_texts(article, rows, list(_passage_fields(rows)))


def windows(rows: ArticleRows, params: ChunkParams) -> list[tuple[int, int, int, int]]:
    """Runs of sentences that do not overlap, cut as passages are (at most ``max_sentences``
    sentences and ``max_chars`` characters, never across a section), as (first, last, heading
    start, heading end): the forward passes of a build that reads every token once."""
    sections: list[list[int]] = []  # first, last, heading start, heading end
    for first, last, hstart, hend in _passage_fields(rows):
        if sections and sections[-1][2:] == [hstart, hend]:
            sections[-1][1] = max(sections[-1][1], last)
        else:
            sections.append([first, last, hstart, hend])
    spans = [tuple(s) for s in rows.sentences[["start", "end", "paragraph"]].tolist()]
    flat = ChunkParams(params.max_sentences, 0, params.max_chars)
    return [(a, b, hstart, hend) for first, last, hstart, hend in sections
            for a, b in chunk_windows(spans[:last], first, flat)]


def unit_texts(
    article: Article, rows: ArticleRows, units: list[tuple[int, int, int, int]]
) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Each run of sentences ``(first, last, heading start, heading end)`` as embedded (heading,
    then body) and the spans of its sentences in that text."""
    starts, ends = rows.sentences["start"].tolist(), rows.sentences["end"].tolist()
    texts, spans = [], []
    for first, last, hstart, hend in units:
        heading = article.text[hstart:hend] if hstart >= 0 else ""
        body_start, body_end = starts[first], ends[last - 1]
        text = embed_text(heading, article.text[body_start:body_end])
        shift = len(text) - (body_end - body_start) - body_start
        texts.append(text)
        spans.append([(a + shift, b + shift) for a, b in zip(starts[first:last], ends[first:last])])
    return texts, spans


def sentence_texts(article: Article, rows: ArticleRows) -> list[str]:
    """Each sentence as embedded: with its section heading, so a sentence under "What does the
    BLA want?" is read as an answer to that question, the way a reader reads it."""
    headings = [""] * len(rows.sentences)
    for first, last, hstart, hend in _passage_fields(rows):
        if hstart >= 0:
            for s in range(first, last):
                headings[s] = article.text[hstart:hend]
    spans = zip(rows.sentences["start"].tolist(), rows.sentences["end"].tolist())
    return [embed_text(h, article.text[a:b]) for h, (a, b) in zip(headings, spans)]


def _passage_fields(rows: ArticleRows):
    p = rows.passages
    return zip(p["first"].tolist(), p["last"].tolist(), p["heading_start"].tolist(), p["heading_end"].tolist())
