"""The embedding pass of a build: a group of new or edited articles' passages (and, where needed,
their sentences) go through the model in one pass, and each article's rows get their vectors.

How sentence vectors are made is recorded in the manifest as "sentence_vectors": LATE pools each
sentence's token states from the forward pass that read it (late chunking), SEPARATE embeds every
sentence on its own as well. LATE needs a mean-pooled model (``SpanEncoder``); any other model
gets SEPARATE. Both answer equally well (docs/decisions/sentence-vectors.md). A LATE build reads
every token once: its forward passes are windows of sentences cut like passages but without
their overlap (``rows.windows``); a passage that is a window keeps the window's vector and one that
straddles two is pooled from its sentences (docs/decisions/single-pass.md). SEPARATE embeds the
passages and every sentence. LATE builds also keep each sentence's token states from that same
pass, for MaxSim (store/token_states.py), when the encoder hands them out (``gives_tokens``); the
manifest's "token_vectors" records how they are stored, or null.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..encoders.base import Encoder, gives_tokens
from ..encoders.pooling import TokenStates, normalise_rows
from ..store.token_states import PackedTokens, Projection, projection_for
from .rows import ArticleRows

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as texts are embedded."""

LATE, SEPARATE = "late", "separate"
# Forward passes over windows of sentences that do not overlap (every token read once), passages
# pooled from them (``passages_from_units``); False runs one pass per passage, which reads every
# sentence about twice (the builds before 2026-12-02; tools/studies/single_pass.py compares them).
SINGLE_PASS = True


@dataclass(frozen=True)
class TokenPlan:
    """How this build stores token states (see store/token_states.py)."""

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
    """What one new or edited article embeds (see embed_group)."""

    part: int  # its position in the build's list of ArticleRows
    passages: list[str]  # the texts of its forward passes (passages, or windows: see units)
    spans: list[list[tuple[int, int]]]  # per text, its sentences' spans in the text
    sentences: list[str]  # sentence texts as embedded on their own
    units: list[tuple[int, int]] | None = None  # per text, its sentences [first, last); None: the passages


# Texts per group: a build embeds (and writes) a group of articles at a time, so that what a
# forward pass gives before it is pooled and packed (every token state of every passage, in
# float32: about 150 KB per passage) is held for one group only, whatever the size of the corpus.
GROUP_TEXTS = 512


def embed_group(
    encoder: Encoder,
    jobs: list[Job],
    parts: list[ArticleRows],
    dim: int,
    mode: str,
    tokens: TokenPlan | None,
    progress: Progress | None,
    batch_size: int,
) -> int:
    """Embed the texts of ``jobs`` in one pass, hand each part its vectors; return how many
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
        units = job.units if job.units is not None else _ranges(part.passages)
        unit_vectors = vectors[row : row + len(job.passages)]
        part.passage_vectors = unit_vectors  # replaced below if the units are not the passages
        row += len(job.passages)
        sums = np.zeros((len(job.sentences), dim), dtype=np.float32)
        own: list[TokenStates | None] = [None] * len(job.sentences)
        for first, last in units:
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
    for job in jobs:
        if job.units is not None:
            part = parts[job.part]
            part.passage_vectors = passages_from_units(part, job.units, part.passage_vectors)
    if tokens is not None:
        empty: TokenStates = (np.empty((0, dim), np.float32), np.empty(0, np.int32))
        for job in jobs:
            found = [st if st is not None else empty for st in states[job.part]]
            parts[job.part].tokens = PackedTokens.pack(found, tokens.projection, tokens.dimension)
    return len(texts) + len(missing)


def _ranges(records: np.ndarray) -> list[tuple[int, int]]:
    return list(zip(records["first"].tolist(), records["last"].tolist()))


def passages_from_units(part: ArticleRows, units: list[tuple[int, int]], unit_vectors: np.ndarray) -> np.ndarray:
    """Passage vectors when the forward passes were over ``units`` rather than the passages: a
    passage that is a unit keeps the unit's vector; any other (one that straddles two units) is
    the mean of its sentences' vectors, each weighted by its length in characters (a stand-in for
    its number of tokens), normalised."""
    by_range = {unit: k for k, unit in enumerate(units)}
    lengths = (part.sentences["end"] - part.sentences["start"]).astype(np.float32)
    out = np.empty((len(part.passages), unit_vectors.shape[1]), dtype=np.float32)
    for p, (first, last) in enumerate(_ranges(part.passages)):
        k = by_range.get((first, last))
        if k is not None:
            out[p] = unit_vectors[k]
        else:
            out[p] = lengths[first:last] @ part.sentence_vectors[first:last]
    return normalise_rows(out)
