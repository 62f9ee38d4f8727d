"""Incremental index builds: re-embed only the articles whose content changed."""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import faiss
import numpy as np

from . import ann
from .acronyms import Acronyms
from .chunking import ChunkParams, chunk_text
from .corpus import load_corpus
from .embedding import Encoder, gives_tokens, pools_spans
from .errors import CorpusError, IndexCorruptError, IndexIncompatibleError, IndexMissingError
from .index import (
    IndexData, build_lock, current_generation, embed_text, load_index, new_manifest, read_manifest, remove_stale,
    write_generation,
)
from .lexical import LexicalIndex
from .pooling import TokenStates, normalise_rows
from .records import Article
from .tokens import PackedTokens, Projection, TokenStore, projection_for

# Bump when what is embedded for a passage or sentence changes: vectors of an older recipe are
# stale even where the article text is not.
EMBED_RECIPE = 2
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

# Texts per forward pass. Passages are long (up to ~250 tokens), and small batches keep the
# attention tensors in cache: on 2 cores both backends embed passages fastest at 8
# (docs/performance.md, "Batch size"; chosen on the passages of the first 400 SQuAD paragraphs).
BATCH_SIZE = 8

Progress = Callable[[int, int], None]
"""``progress(done, total)``: called as texts are embedded."""


@dataclass
class BuildReport:
    """What a build did."""

    index_dir: Path
    generation: str = ""
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    articles: int = 0
    passages: int = 0
    sentences: int = 0
    embedded_texts: int = 0
    seconds: float = 0.0
    full_rebuild_reason: str | None = None

    @property
    def changed_anything(self) -> bool:
        return bool(self.added or self.changed or self.removed)


def content_hash(article: Article, params: ChunkParams) -> str:
    """Hash of what the embeddings depend on: the body text and the chunking parameters."""
    payload = json.dumps({"text": article.text, "chunking": dataclasses.asdict(params)}, sort_keys=True)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


@dataclass
class _Part:
    """The rows of one article, with article-local sentence and paragraph numbers."""

    sentences: np.ndarray  # (n, 3) start, end, paragraph
    paragraphs: np.ndarray  # (m, 2)
    passages: np.ndarray  # (p, 4) first, last, hstart, hend
    passage_vectors: np.ndarray | None = None
    sentence_vectors: np.ndarray | None = None
    tokens: PackedTokens | None = None


def _reuse(prev: IndexData, pos: int, passage_vectors: np.ndarray) -> _Part:
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
    return _Part(
        sentences, prev.paragraphs[g_rows, 1:].copy(), passages,
        passage_vectors[p_rows], prev.sentence_vectors[s_rows], tokens,
    )


def _chunk(article: Article, params: ChunkParams) -> _Part:
    chunks = chunk_text(article.text, params)
    return _Part(
        np.asarray(chunks.sentences, dtype=np.int64).reshape(-1, 3),
        np.asarray(chunks.paragraphs, dtype=np.int64).reshape(-1, 2),
        np.asarray(chunks.passages, dtype=np.int64).reshape(-1, 4),
    )


def _passage_texts(article: Article, part: _Part) -> tuple[list[str], list[list[tuple[int, int]]]]:
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


def _sentence_texts(article: Article, part: _Part) -> list[str]:
    """Each sentence as embedded: with its section heading, so a sentence under "What does the
    BLA want?" is read as an answer to that question, the way a reader reads it."""
    headings = [""] * len(part.sentences)
    for first, last, hstart, hend in part.passages:
        if hstart >= 0:
            for s in range(first, last):
                headings[s] = article.text[hstart:hend]
    return [embed_text(h, article.text[a:b]) for h, (a, b, _) in zip(headings, part.sentences)]


@dataclass(frozen=True)
class _TokenPlan:
    """How this build stores token states (see tokens.py)."""

    projection: Projection | None
    dimension: int

    @property
    def spec(self) -> dict:
        """What the manifest records as "token_vectors" (and a later build compares)."""
        return {"dimension": self.dimension, "basis": self.projection.key if self.projection is not None else None}


def _token_plan(encoder: Encoder, mode: str) -> _TokenPlan | None:
    if mode != LATE or not gives_tokens(encoder):
        return None
    projection = projection_for(encoder.name, encoder.dimension)
    return _TokenPlan(projection, projection.basis.shape[1] if projection is not None else encoder.dimension)


def _held_token_choice(index_dir: Path) -> bool:
    """Whether the live index was built with token states asked for (True if there is none)."""
    try:
        return read_manifest(current_generation(index_dir)).get("token_states", True) is not False
    except (IndexMissingError, IndexCorruptError, IndexIncompatibleError):
        return True


def _previous(
    index_dir: Path, model: str, params: ChunkParams, mode: str, tokens: _TokenPlan | None, want: bool,
    report: BuildReport,
) -> IndexData | None:
    try:
        prev = load_index(index_dir)
    except IndexMissingError:
        return None
    except (IndexCorruptError, IndexIncompatibleError) as exc:
        report.full_rebuild_reason = f"previous index unusable: {exc}"
        return None
    if prev.model != model:
        report.full_rebuild_reason = f"model changed from {prev.model!r} to {model!r}"
        return None
    if prev.manifest.get("chunking") != dataclasses.asdict(params):
        report.full_rebuild_reason = "chunking parameters changed"
        return None
    if prev.manifest.get("embed_recipe") != EMBED_RECIPE:
        report.full_rebuild_reason = "this qa-bot embeds passages differently from the one that built the index"
        return None
    held = prev.manifest.get("sentence_vectors", SEPARATE)
    if held != mode:
        report.full_rebuild_reason = f"sentence vectors are embedded {mode!r} now, the index holds {held!r} ones"
        return None
    held_tokens = prev.manifest.get("token_vectors")
    held_tokens = {k: held_tokens.get(k) for k in ("dimension", "basis")} if isinstance(held_tokens, dict) else None
    if held_tokens != (tokens.spec if tokens is not None else None):
        report.full_rebuild_reason = (
            "the index holds no token states for MaxSim" if held_tokens is None
            else "token states are stored differently now" if tokens is not None
            else "token states are switched off" if prev.manifest.get("token_states") is not False and not want
            else "this encoder gives no token states, the index holds some"
        )
        return None
    return prev


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    encoder: Encoder,
    *,
    params: ChunkParams = ChunkParams(),
    progress: Progress | None = None,
    batch_size: int = BATCH_SIZE,
    token_states: bool | None = None,
) -> BuildReport:
    """Build or update the index of ``corpus_dir`` in ``index_dir``.

    ``token_states`` keeps each sentence's token states for MaxSim (tokens.py): better answers,
    about 2.75 times the index size (docs/performance.md). None keeps the live index's choice (on
    for a new index); a change of choice rebuilds everything.

    Articles whose content hash is unchanged keep their vectors; new and edited ones are embedded;
    deleted ones leave the index. Nothing is written if the corpus holds an unreadable file.

    Raises:
        CorpusError: the corpus is missing, empty, or holds files that cannot be read.
        BuildInProgressError: another build is running on ``index_dir``.
    """
    started = time.perf_counter()
    corpus_dir, index_dir = Path(corpus_dir), Path(index_dir)
    loaded = load_corpus(corpus_dir)
    if loaded.errors:
        lines = "\n".join(f"  {e}" for e in loaded.errors)
        raise CorpusError(
            f"{len(loaded.errors)} article file(s) in {str(corpus_dir)!r} cannot be read:\n{lines}\n"
            "Fix or remove them, then build again; the existing index was left as it was."
        )
    if not loaded.articles:
        raise CorpusError(f"corpus {str(corpus_dir)!r} has no articles; add some with 'qa-bot add SOURCE'")

    report = BuildReport(index_dir=index_dir)
    with build_lock(index_dir):
        mode = LATE if pools_spans(encoder) else SEPARATE
        want = token_states if token_states is not None else _held_token_choice(index_dir)
        tokens = _token_plan(encoder, mode) if want else None
        prev = _previous(index_dir, encoder.name, params, mode, tokens, want, report)
        # A model directory may be replaced under the same name: compare dimensions too (this
        # loads the model even when nothing else changed, so the check cannot be skipped).
        if prev is not None and encoder.dimension != prev.dimension:
            report.full_rebuild_reason = (
                f"model {encoder.name!r} gives {encoder.dimension}-dimensional vectors, "
                f"the index holds {prev.dimension}-dimensional ones"
            )
            prev = None
        plan = _plan(loaded.articles, prev, params)
        report.added, report.changed, report.unchanged = plan.added, plan.changed, plan.unchanged
        report.removed = plan.removed
        report.articles = len(loaded.articles)
        if prev is not None and prev.articles == loaded.articles:
            # Nothing changed, not even metadata: the live index is up to date.
            name, data = prev.path.name, prev
        else:
            # Any previous index kept here has the encoder's dimension (checked above).
            dim = encoder.dimension
            report.embedded_texts = _embed(encoder, plan.to_embed, plan.parts, dim, mode, tokens, progress, batch_size)
            data = _assemble(loaded.articles, plan.parts, plan.hashes, encoder.name, dim, params,
                             previous=prev.passage_index if prev is not None else None, tokens=tokens)
            data.manifest["sentence_vectors"] = mode
            data.manifest["token_states"] = want
            name = f"gen-{dt.datetime.now(dt.timezone.utc):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"
            write_generation(index_dir, name, data)
        remove_stale(index_dir, keep=name)

    report.generation = name
    report.passages = len(data.passages)
    report.sentences = len(data.sentences)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Job:
    """What one new or edited article embeds (see _embed)."""

    part: int  # its position in _Plan.parts
    passages: list[str]  # passage texts as embedded
    spans: list[list[tuple[int, int]]]  # per passage, its sentences' spans in the passage text
    sentences: list[str]  # sentence texts as embedded on their own


@dataclass
class _Plan:
    """Per article: reuse the previous rows and vectors, or chunk afresh and embed."""

    parts: list[_Part]
    hashes: list[str]
    to_embed: list[_Job]
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    removed: list[str]


def _plan(articles: list[Article], prev: IndexData | None, params: ChunkParams) -> _Plan:
    prev_hashes = {a["id"]: a["hash"] for a in prev.manifest["articles"]} if prev else {}
    prev_vectors = prev.passage_vectors() if prev else None
    plan = _Plan([], [], [], [], [], [], sorted(set(prev_hashes) - {a.id for a in articles}))
    for article in articles:
        digest = content_hash(article, params)
        plan.hashes.append(digest)
        if prev_hashes.get(article.id) == digest:
            plan.parts.append(_reuse(prev, prev.article_position(article.id), prev_vectors))
            plan.unchanged.append(article.id)
            continue
        part = _chunk(article, params)
        plan.parts.append(part)
        (plan.changed if article.id in prev_hashes else plan.added).append(article.id)
        plan.to_embed.append(_Job(len(plan.parts) - 1, *_passage_texts(article, part), _sentence_texts(article, part)))
    return plan


def _embed(
    encoder: Encoder,
    jobs: list[_Job],
    parts: list[_Part],
    dim: int,
    mode: str,
    tokens: _TokenPlan | None,
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
    missing: list[tuple[_Job, int]] = []
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


def _assemble(
    articles: list[Article], parts: list[_Part], hashes: list[str], model: str, dim: int, params: ChunkParams,
    *, previous: faiss.Index | None = None, tokens: _TokenPlan | None = None,
) -> IndexData:
    sentences, paragraphs, passages, p_vecs, s_vecs, entries = [], [], [], [], [], []
    n_sent = n_para = 0
    for pos, (article, part, digest) in enumerate(zip(articles, parts, hashes)):
        col = np.full((len(part.sentences), 1), pos, dtype=np.int64)
        s = np.hstack([col, part.sentences])
        s[:, 3] += n_para
        sentences.append(s)
        paragraphs.append(np.hstack([np.full((len(part.paragraphs), 1), pos, dtype=np.int64), part.paragraphs]))
        p = np.hstack([np.full((len(part.passages), 1), pos, dtype=np.int64), part.passages])
        p[:, 1:3] += n_sent
        passages.append(p)
        p_vecs.append(part.passage_vectors)
        s_vecs.append(part.sentence_vectors)
        entries.append({"id": article.id, "hash": digest, "passages": len(part.passages), "sentences": len(part.sentences)})
        n_sent += len(part.sentences)
        n_para += len(part.paragraphs)

    passages_arr = np.vstack(passages).astype(np.int64).reshape(-1, 5)
    passage_vectors = np.ascontiguousarray(np.vstack(p_vecs), dtype=np.float32)
    index = ann.make_index(passage_vectors.reshape(-1, dim), previous=previous)
    manifest = new_manifest(
        model, dim, dataclasses.asdict(params), entries,
        dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    )
    data = IndexData(
        manifest,
        list(articles),
        np.vstack(sentences).astype(np.int64).reshape(-1, 4),
        np.vstack(paragraphs).astype(np.int64).reshape(-1, 3),
        passages_arr,
        np.ascontiguousarray(np.vstack(s_vecs), dtype=np.float32),
        index,
        lexical=None,  # set below: it is built from the passage texts this object slices
    )
    data.lexical = LexicalIndex.build(
        [embed_text(data.heading(i), data.passage_text(i)) for i in range(len(passages_arr))]
    )
    if tokens is not None:
        packed = PackedTokens.concat([part.tokens for part in parts], tokens.dimension)
        data.tokens = TokenStore(
            packed.vectors, packed.scales, packed.ids, TokenStore.bounds_of(packed.counts),
            TokenStore.document_frequency(packed.ids, packed.counts), tokens.projection,
        )
    data.acronyms = Acronyms.learn(text for a in articles for text in (a.title, a.text))
    data.manifest["token_vectors"] = dict(tokens.spec, tokens=len(data.tokens.ids)) if tokens is not None else None
    data.manifest["embed_recipe"] = EMBED_RECIPE
    data.manifest["counts"] = {"articles": len(articles), "passages": len(passages_arr), "sentences": n_sent}
    return data

