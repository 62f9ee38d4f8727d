"""An article's rows in an index build (a ``Part``): chunked afresh or reused from the previous
index, and embedded.

``builder`` plans which articles are new or edited, hands their parts to ``embed_parts`` in one
pass over the model, and assembles the index from every part.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .chunking import ChunkParams, chunk_text
from ..encoders.base import Encoder, gives_tokens
from ..store.files import IndexData, embed_text
from ..encoders.pooling import TokenStates, normalise_rows
from ..records import Article
from ..store.token_states import PackedTokens, Projection, projection_for

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as texts are embedded."""

# How sentence vectors are made (recorded in the manifest as "sentence_vectors"): LATE pools each
# sentence's token states from the forward pass of the passages holding it (late chunking; one
# forward pass per passage, nothing more), SEPARATE embeds every sentence on its own as well. LATE
# needs a mean-pooled model (SpanEncoder); any other model gets SEPARATE. Both answer equally
# well (docs/quality.md, benchmarks/vector_study.py); LATE embeds only the passages, where
# SEPARATE also embeds every sentence (10,260 more texts beside SQuAD dev's 3,839 passages).
LATE, SEPARATE = "late", "separate"
# LATE builds also keep each sentence's token states from that same pass, for MaxSim (tokens.py),
# when the encoder hands them out (gives_tokens); the manifest's "token_vectors" records how
# they are stored, or null.


@dataclass
class Part:
    """The rows of one article, with article-local sentence and paragraph numbers."""

    sentences: np.ndarray  # (n, 3) start, end, paragraph
    paragraphs: np.ndarray  # (m, 2)
    passages: np.ndarray  # (p, 4) first, last, hstart, hend
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    tokens: PackedTokens | None = None


def reuse(prev: IndexData, pos: int, passage_vectors: np.ndarray) -> Part:
    s_rows = np.flatnonzero(prev.sentences[:, 0] == pos)
    p_rows = np.flatnonzero(prev.passages[:, 0] == pos)
    g_rows = np.flatnonzero(prev.paragraphs[:, 0] == pos)
    s0 = s_rows[0] if len(s_rows) else 0
    g0 = g_rows[0] if len(g_rows) else 0
    sentences = prev.sentences[s_rows, 1:].copy()
    sentences[:, 2] -= g0
    passages = prev.passages[p_rows, 1:].copy()
    passages[:, :2] -= s0
    tokens = None
    if prev.tokens is not None:
        bounds = prev.tokens.bounds[s_rows]
        lo, hi = (int(bounds[0, 0]), int(bounds[-1, 1])) if len(s_rows) else (0, 0)
        tokens = PackedTokens(np.array(prev.tokens.vectors[lo:hi]), prev.tokens.scales[lo:hi],
                              prev.tokens.ids[lo:hi], bounds[:, 1] - bounds[:, 0])
    return Part(
        sentences, prev.paragraphs[g_rows, 1:].copy(), passages,
        passage_vectors[p_rows], prev.sentence_vectors[s_rows], tokens,
    )


def chunk(article: Article, params: ChunkParams) -> Part:
    chunks = chunk_text(article.text, params)
    return Part(
        np.asarray(chunks.sentences, dtype=np.int64).reshape(-1, 3),
        np.asarray(chunks.paragraphs, dtype=np.int64).reshape(-1, 2),
        np.asarray(chunks.passages, dtype=np.int64).reshape(-1, 4),
    )


def passage_texts(article: Article, part: Part) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """Each passage as embedded (heading, then body) and the spans of its sentences in that text."""
    texts, spans = [], []
    for first, last, hstart, hend in part.passages:
        heading = article.text[hstart:hend] if hstart >= 0 else ""
        body_start = part.sentences[first, 0]
        text = embed_text(heading, article.text[body_start : part.sentences[last - 1, 1]])
        shift = len(text) - (part.sentences[last - 1, 1] - body_start) - body_start
        texts.append(text)
        spans.append([(int(a + shift), int(b + shift)) for a, b, _ in part.sentences[first:last]])
    return texts, spans


def sentence_texts(article: Article, part: Part) -> list[str]:
    """Each sentence as embedded: with its section heading, so a sentence under "What does the
    BLA want?" is read as an answer to that question, the way a reader reads it."""
    headings = [""] * len(part.sentences)
    for first, last, hstart, hend in part.passages:
        if hstart >= 0:
            for s in range(first, last):
                headings[s] = article.text[hstart:hend]
    return [embed_text(h, article.text[a:b]) for h, (a, b, _) in zip(headings, part.sentences)]


@dataclass(frozen=True)
class TokenPlan:
    """How this build stores token states (see tokens.py)."""

    projection: Projection | None
    dimension: int

    @property
    def spec(self) -> dict:
        """What the manifest records as "token_vectors" (and a later build compares)."""
        return {"dimension": self.dimension, "basis": self.projection.key if self.projection is not None else None}


def token_plan(encoder: Encoder, mode: str) -> TokenPlan | None:
    if mode != LATE or not gives_tokens(encoder):
        return None
    projection = projection_for(encoder.name, encoder.dimension)
    return TokenPlan(projection, projection.basis.shape[1] if projection is not None else encoder.dimension)


@dataclass
class Job:
    """What one new or edited article embeds (see embed_parts)."""

    part: int  # its position in _Plan.parts
    passages: list[str]  # passage texts as embedded
    spans: list[list[tuple[int, int]]]  # per passage, its sentences' spans in the passage text
    sentences: list[str]  # sentence texts as embedded on their own


def embed_parts(
    encoder: Encoder,
    jobs: list[Job],
    parts: list[Part],
    dim: int,
    mode: str,
    tokens: TokenPlan | None,
    progress: Progress | None,
    batch_size: int,
) -> int:
    """Embed the texts of every job in one pass, hand each part its vectors; return how many
    texts went through the model.

    SEPARATE: passages and sentences are all embedded. LATE: only passages are; a sentence's
    vector is the normalised mean of its pooled vectors in the passages that hold it, and only a
    sentence that truncation cut short in every passage is embedded on its own. With ``tokens``, a
    sentence keeps the token states of the first passage holding it (its own pass, heading
    included, for one embedded on its own).
    """
    if mode == SEPARATE:
        texts = [t for job in jobs for t in (*job.passages, *job.sentences)]
    else:
        texts = [t for job in jobs for t in job.passages]
    done = 0

    def tick(n: int, total: int) -> None:
        nonlocal done
        done += n
        if progress is not None:
            progress(done, total)

    if not texts:  # e.g. only articles without sentences changed
        for job in jobs:
            parts[job.part].passage_vectors = np.empty((0, dim), dtype=np.float32)
            parts[job.part].sentence_vectors = np.empty((0, dim), dtype=np.float32)
            if tokens is not None:
                parts[job.part].tokens = PackedTokens.empty(0, tokens.dimension)
        return 0
    if mode == SEPARATE:
        vectors = encoder.encode(texts, batch_size=batch_size, progress=lambda n: tick(n, len(texts)))
        row = 0
        for job in jobs:
            parts[job.part].passage_vectors = vectors[row : row + len(job.passages)]
            row += len(job.passages)
            parts[job.part].sentence_vectors = vectors[row : row + len(job.sentences)]
            row += len(job.sentences)
        return len(texts)

    spans = [s for job in jobs for s in job.spans]
    if tokens is not None:
        vectors, pooled, span_states = encoder.encode_with_span_tokens(
            texts, spans, batch_size=batch_size, progress=lambda n: tick(n, len(texts))
        )
    else:
        vectors, pooled = encoder.encode_with_spans(
            texts, spans, batch_size=batch_size, progress=lambda n: tick(n, len(texts))
        )
    row = span_row = 0
    missing: list[tuple[Job, int]] = []
    states: dict[int, list[TokenStates | None]] = {}  # per part, per sentence
    for job in jobs:
        part = parts[job.part]
        part.passage_vectors = vectors[row : row + len(job.passages)]
        row += len(job.passages)
        sums = np.zeros((len(job.sentences), dim), dtype=np.float32)
        own: list[TokenStates | None] = [None] * len(job.sentences)
        for first, last, _, _ in part.passages:
            sums[first:last] += pooled[span_row : span_row + last - first]
            if tokens is not None:
                for s in range(first, last):
                    found = span_states[span_row + s - first]
                    if own[s] is None and len(found[1]):
                        own[s] = found
            span_row += last - first
        part.sentence_vectors = normalise_rows(sums)
        states[job.part] = own
        missing += [(job, int(i)) for i in np.flatnonzero(~sums.any(axis=1))]
    if missing:
        total = len(texts) + len(missing)
        alone = [job.sentences[i] for job, i in missing]
        if tokens is not None:
            own_vectors, own_states = encoder.encode_tokens(alone, batch_size=batch_size)
            tick(len(alone), total)
            for (job, i), found in zip(missing, own_states):
                states[job.part][i] = found
        else:
            own_vectors = encoder.encode(alone, batch_size=batch_size, progress=lambda n: tick(n, total))
        for (job, i), vector in zip(missing, own_vectors):
            parts[job.part].sentence_vectors[i] = vector
    if tokens is not None:
        empty: TokenStates = (np.empty((0, dim), np.float32), np.empty(0, np.int32))
        for job in jobs:
            found = [st if st is not None else empty for st in states[job.part]]
            parts[job.part].tokens = PackedTokens.pack(found, tokens.projection, tokens.dimension)
    return len(texts) + len(missing)
