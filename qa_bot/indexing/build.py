"""Incremental index builds: re-embed only the articles whose content changed.

A build reads the corpus, plans each article (reuse its rows and vectors from the live index when
its content hash is unchanged, else chunk it afresh), embeds the new and edited ones in one pass
(``embed``), assembles the index (rows renumbered, the vector store, BM25, token states,
acronyms) and writes it as a new generation (``store.files``), under the index's build lock.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..corpus.files import load_corpus
from ..encoders.base import Encoder, pools_spans
from ..errors import CorpusError, IndexCorruptError, IndexIncompatibleError, IndexMissingError
from ..records import Article
from ..retrieval.acronyms import Acronyms
from ..store.data import PARAGRAPH, PASSAGE, SENTENCE, IndexData
from ..store.files import load_index, write_generation
from ..store.generations import build_lock, current_generation, new_generation_name, remove_stale
from ..store.lexical import LexicalIndex
from ..store.manifest import new_manifest, read_manifest
from ..store.token_states import PackedTokens, TokenStore, adapter_for
from ..store.vectors import VectorStore, make_vector_store
from .chunking import ChunkParams
from .embed import LATE, SEPARATE, Job, Progress, TokenPlan, embed_parts, token_plan
from .rows import EMBED_RECIPE, ArticleRows, chunk, embed_text, passage_texts, reuse, sentence_texts

# Texts per forward pass. Passages are long (up to ~250 tokens), and small batches keep the
# attention tensors in cache: on 2 cores both backends embed passages fastest at 8
# (docs/performance.md, "Batch size"; chosen on the passages of the first 400 SQuAD paragraphs).
BATCH_SIZE = 8
# How sentence vectors are made (LATE or SEPARATE) and when token states are kept: see embed.py.
VECTOR_STORE = "faiss"  # the local default (store/vectors)


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


def _held_token_choice(index_dir: Path) -> bool:
    """Whether the live index was built with token states asked for (True if there is none)."""
    try:
        return read_manifest(current_generation(index_dir)).get("token_states", True) is not False
    except (IndexMissingError, IndexCorruptError, IndexIncompatibleError):
        return True


def _previous(
    index_dir: Path, model: str, params: ChunkParams, mode: str, tokens: TokenPlan | None, want: bool,
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

    ``token_states`` keeps each sentence's token states for MaxSim (store/token_states.py): better answers,
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
        tokens = token_plan(encoder, mode) if want else None
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
            report.embedded_texts = embed_parts(
                encoder, plan.to_embed, plan.parts, dim, mode, tokens, progress, batch_size
            )
            data = _assemble(loaded.articles, plan.parts, plan.hashes, encoder.name, dim, params,
                             previous=prev.passage_vectors if prev is not None else None, tokens=tokens)
            data.manifest["sentence_vectors"] = mode
            data.manifest["token_states"] = want
            name = new_generation_name()
            write_generation(index_dir, name, data)
        remove_stale(index_dir, keep=name)

    report.generation = name
    report.passages = len(data.passages)
    report.sentences = len(data.sentences)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Plan:
    """Per article: reuse the previous rows and vectors, or chunk afresh and embed."""

    parts: list[ArticleRows]
    hashes: list[str]
    to_embed: list[Job]
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    removed: list[str]


def _plan(articles: list[Article], prev: IndexData | None, params: ChunkParams) -> _Plan:
    prev_hashes = {a["id"]: a["hash"] for a in prev.manifest["articles"]} if prev else {}
    prev_vectors = prev.all_passage_vectors() if prev else None
    plan = _Plan([], [], [], [], [], [], sorted(set(prev_hashes) - {a.id for a in articles}))
    for article in articles:
        digest = content_hash(article, params)
        plan.hashes.append(digest)
        if prev_hashes.get(article.id) == digest:
            plan.parts.append(reuse(prev, prev.article_position(article.id), prev_vectors))
            plan.unchanged.append(article.id)
            continue
        part = chunk(article, params)
        plan.parts.append(part)
        (plan.changed if article.id in prev_hashes else plan.added).append(article.id)
        plan.to_embed.append(Job(len(plan.parts) - 1, *passage_texts(article, part), sentence_texts(article, part)))
    return plan


def _assemble(
    articles: list[Article], parts: list[ArticleRows], hashes: list[str], model: str, dim: int, params: ChunkParams,
    *, previous: VectorStore | None = None, tokens: TokenPlan | None = None,
) -> IndexData:
    """The index of every article's rows: rows renumbered index-wide, then the passage vector
    store, BM25, token states and acronyms."""
    sentences, paragraphs, passages, entries = [], [], [], []
    n_sent = n_para = 0
    for pos, (article, part, digest) in enumerate(zip(articles, parts, hashes)):
        s = part.sentences.copy()
        s["article"] = pos
        s["paragraph"] += n_para
        sentences.append(s)
        g = part.paragraphs.copy()
        g["article"] = pos
        paragraphs.append(g)
        p = part.passages.copy()
        p["article"] = pos
        p["first"] += n_sent
        p["last"] += n_sent
        passages.append(p)
        entries.append(
            {"id": article.id, "hash": digest, "passages": len(part.passages), "sentences": len(part.sentences)}
        )
        n_sent += len(part.sentences)
        n_para += len(part.paragraphs)

    passages_arr = np.concatenate(passages) if passages else np.empty(0, PASSAGE)
    store = make_vector_store(VECTOR_STORE, dim, previous=previous)
    store.build(np.arange(len(passages_arr), dtype=np.int64), _gather(parts, "passage_vectors", (dim,), np.float32))
    manifest = new_manifest(
        model, dim, dataclasses.asdict(params), entries,
        dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), vector_store=store.kind,
    )
    data = IndexData(
        manifest,
        list(articles),
        np.concatenate(sentences) if sentences else np.empty(0, SENTENCE),
        np.concatenate(paragraphs) if paragraphs else np.empty(0, PARAGRAPH),
        passages_arr,
        _gather(parts, "sentence_vectors", (dim,), np.float32),
        store,
        lexical=None,  # set below: it is built from the passage texts this object slices
    )
    data.lexical = LexicalIndex.build(
        [embed_text(data.heading(i), data.passage_text(i)) for i in range(len(passages_arr))]
    )
    if tokens is not None:
        packed = _gather_tokens(parts, tokens.dimension)
        data.tokens = TokenStore(
            packed.vectors, packed.scales, packed.ids, TokenStore.bounds_of(packed.counts),
            TokenStore.document_frequency(packed.ids, packed.counts), tokens.projection,
            adapter_for(tokens.projection),
        )
    data.acronyms = Acronyms.learn(text for a in articles for text in (a.title, a.text))
    data.manifest["token_vectors"] = dict(tokens.spec, tokens=len(data.tokens.ids)) if tokens is not None else None
    data.manifest["embed_recipe"] = EMBED_RECIPE
    data.manifest["counts"] = {"articles": len(articles), "passages": len(passages_arr), "sentences": n_sent}
    return data


# Assembling: each article's rows are copied into one array for the index and then dropped from
# the article, so that the two copies never both exist whole (a build's peak memory would be twice
# the index).


def _gather(parts: list[ArticleRows], name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """The ``name`` arrays of every part, in order, as one array; each part's is released."""
    out = np.empty((sum(len(getattr(part, name)) for part in parts), *shape), dtype=dtype)
    row = 0
    for part in parts:
        rows = getattr(part, name)
        out[row : row + len(rows)] = rows
        row += len(rows)
        setattr(part, name, None)
    return out


def _gather_tokens(parts: list[ArticleRows], dimension: int) -> PackedTokens:
    """Every part's packed token states as one ``PackedTokens``; each part's is released."""
    total = sum(len(part.tokens.ids) for part in parts)
    out = PackedTokens(np.empty((total, dimension), np.int8), np.empty(total, np.float32),
                       np.empty(total, np.int32), np.empty(sum(len(part.tokens.counts) for part in parts), np.int64))
    row = sentence = 0
    for part in parts:
        t = part.tokens
        out.vectors[row : row + len(t.ids)] = t.vectors.reshape(-1, dimension)
        out.scales[row : row + len(t.ids)] = t.scales
        out.ids[row : row + len(t.ids)] = t.ids
        out.counts[sentence : sentence + len(t.counts)] = t.counts
        row += len(t.ids)
        sentence += len(t.counts)
        part.tokens = None
    return out
