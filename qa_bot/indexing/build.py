"""Incremental index builds: re-embed only the articles whose content changed.

A build reads the corpus, plans each article (reuse its rows and vectors from the live index when
its content hash is unchanged, else chunk it afresh), embeds the new and edited ones in one pass
(``embed``), assembles the index (rows renumbered, the vector store, BM25, token states,
acronyms) and writes it as a new generation (``store.writer``), under the index's build lock.
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

from ..corpus.files import load_corpus, load_examples
from ..encoders.base import Encoder, pools_spans
from ..errors import CorpusError, IndexCorruptError, IndexIncompatibleError, IndexMissingError
from ..records import Article
from ..retrieval.acronyms import Acronyms
from ..store.data import IndexData
from ..store.files import load_index
from ..store.generations import build_lock, current_generation, new_generation_name, remove_stale
from ..store.lexical import LexicalBuilder
from ..store.manifest import new_manifest, read_manifest
from ..store.vectors import discard_store, make_vector_store, store_kind
from ..store.vectors.base import RowState
from ..store.writer import GenerationWriter
from . import copies, embed
from .chunking import ChunkParams
from .embed import LATE, SEPARATE, Job, Progress, TokenPlan, token_plan
from .rows import (
    EMBED_RECIPE,
    ArticleRows,
    chunk,
    embed_text,
    passage_texts,
    reuse,
    sentence_texts,
    unit_texts,
    windows,
)

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
    if prev.manifest.get("embed_recipe") != _recipe():
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
    store: str | None = None,
    ray: str | None = None,
) -> BuildReport:
    """Build or update the index of ``corpus_dir`` in ``index_dir``.

    ``store`` says where the passage vectors go: None keeps the live index's store (the local FAISS
    files for a new index), a path the local FAISS files, ``milvus://HOST:PORT/NAME`` or
    ``milvus-lite://PATH`` a Milvus collection (the rest of the index stays in ``index_dir``).
    Moving an index to another store embeds nothing: the vectors are read from the old one.

    ``ray`` embeds the new and edited articles on a Ray cluster (``indexing.distributed``): its
    address, or "local" for one started in this process; the index is written here as usual.

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
    # A malformed location is refused first; without one the live index's store is kept, even
    # through a full rebuild (another model), which cannot reuse the rest of the index.
    wanted = store_kind(store) if store is not None else _held_store(index_dir)
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
        examples = load_examples(corpus_dir)
        if (prev is not None and prev.articles == loaded.articles and prev.manifest.get("copies") == copies.RECIPE
                and _same_store(prev, wanted) and prev.manifest.get("examples", []) == examples):
            # Nothing changed, not even metadata: the live index is up to date (an index from
            # before copies were kept is written again, its rows and vectors reused).
            name = prev.path.name
            report.passages, report.sentences = len(prev.passages), len(prev.sentences)
        else:
            name = new_generation_name()
            report.embedded_texts = _write(loaded.articles, plan, prev, encoder, params, mode, tokens, want, name,
                                           index_dir, progress, batch_size, report, wanted, ray, examples)
        if (index_dir / name / "milvus.json").exists():
            # The whole index goes to Milvus as well, for machines that answer without this
            # directory (store/served.py); a generation published already is not written again.
            from ..store.served import publish_generation

            publish_generation(index_dir)
        remove_stale(index_dir, keep=name, release=discard_store)

    report.generation = name
    report.seconds = time.perf_counter() - started
    return report


def _write(
    articles: list[Article], plan: _Plan, prev: IndexData | None, encoder: Encoder, params: ChunkParams, mode: str,
    tokens: TokenPlan | None, want: bool, name: str, index_dir: Path, progress: Progress | None, batch_size: int,
    report: BuildReport, wanted: tuple[str, str | None] | None = None, ray: str | None = None,
    examples: list[str] | None = None,
) -> int:
    """Write generation ``name``: the articles a group at a time (the new and edited ones embedded,
    the others' rows and vectors read from ``prev``), then BM25, the vector store and the manifest.
    Returns how many texts went through the model."""
    dim = encoder.dimension  # any previous index kept here has it (checked by the caller)
    # The forward passes of each article to embed, cut once: windows, or None for its passages.
    single = mode == LATE and embed.SINGLE_PASS
    units = {i: windows(rows, params) if single else None
             for i, rows in enumerate(plan.rows) if not isinstance(rows, int)}
    total, done = sum(_texts(plan.rows[i], mode, units[i]) for i in units), 0
    held = prev.passage_vectors if prev is not None else None
    kind, location = wanted or (held.kind if held is not None else VECTOR_STORE, None)
    states = _row_states(articles, plan, prev, wanted) if kind == "milvus" else None
    writer = GenerationWriter(index_dir, name, dim, token_dimension=tokens.dimension if tokens else None,
                              projection=tokens.projection if tokens else None)
    lexical = LexicalBuilder()
    held_signatures = prev.signatures if prev is not None and prev.manifest.get("copies") == copies.RECIPE else None
    signatures: list[np.ndarray] = []
    remote = None
    if ray is not None:
        from . import distributed

        work = [(i, _job(i, articles[i], plan.rows[i], units[i]), plan.rows[i]) for i in sorted(units)]
        remote = distributed.embed_on_ray(None if ray == "local" else ray, encoder, work, dim, mode, tokens, batch_size,
                              progress, total)
    with writer:
        for group in _groups(plan.rows, mode, units):
            signatures.append(_signatures(group, articles, plan.rows, held_signatures))
            if remote is not None:
                done += distributed.take_embedded(remote, [i for i in group if i in units], plan.rows)
            else:
                jobs = [_job(i, articles[i], plan.rows[i], units[i]) for i in group if i in units]
                before = done

                def tick(n: int, _total: int, before: int = before) -> None:
                    progress(before + n, max(total, before + n))

                done += embed.embed_group(encoder, jobs, plan.rows, dim, mode, tokens, tick if progress else None,
                                          batch_size)
            texts: list[str] = []
            for i in group:
                rows = plan.rows[i]
                # An article kept in place keeps its passage vectors there: they are not read back.
                part = (reuse(prev, rows, passage_vectors=states is None or states[i] != RowState.KEPT)
                        if isinstance(rows, int) else rows)
                writer.add(part.sentences, part.paragraphs, part.passages, part.passage_vectors,
                           part.sentence_vectors, part.tokens)
                texts += _passage_index_texts(articles[i].text, part.sentences, part.passages)
                plan.rows[i] = None  # written: released
            lexical.add(texts)
        entries = [{"id": a.id, "hash": digest, "serial": serial, "passages": n_passages, "sentences": n_sentences}
                   for a, digest, serial, (n_passages, n_sentences)
                   in zip(articles, plan.hashes, plan.serials, plan.counts)]
        store = held.in_place() if states is not None else make_vector_store(kind, dim, previous=held,
                                                                             location=location)
        manifest = new_manifest(encoder.name, dim, dataclasses.asdict(params), entries,
                                dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), vector_store=store.kind)
        manifest.update(
            sentence_vectors=mode, token_states=want, embed_recipe=_recipe(), copies=copies.RECIPE,
            token_vectors=dict(tokens.spec, tokens=writer.tokens) if tokens is not None else None,
            counts={"articles": len(articles), "passages": writer.passages, "sentences": writer.sentences},
            next_serial=plan.next_serial, examples=examples or [],
        )
        acronyms = Acronyms.learn(text for a in articles for text in (a.title, a.text))
        report.passages, report.sentences = writer.passages, writer.sentences
        signed = np.concatenate(signatures)
        terms = lexical.terms() if getattr(store, "searches_text", False) else None
        # Milvus keeps each passage under its key (store.data), so that builds can keep its rows.
        serials = np.array(plan.serials, np.int64) if store.kind == "milvus" else None
        bm25 = lexical.finish()
        manifest["bm25_avgdl"] = bm25.avgdl  # what a served index scores BM25 with (store/slices.py)
        per_passage = None if states is None else np.repeat(states, [n for n, _ in plan.counts])
        writer.finish(articles, manifest, store, bm25, acronyms, (signed, copies.groups(signed)), terms, serials,
                      per_passage)
    return done


def _held_store(index_dir: Path) -> tuple[str, str | None] | None:
    """``(kind, location)`` of the live index's vector store when it is not the local default
    (a Milvus collection), else None."""
    try:
        gen = current_generation(index_dir)
        if read_manifest(gen).get("vector_store") != "milvus":
            return None
        from ..store.vectors.milvus import MilvusVectorStore

        return "milvus", MilvusVectorStore.recorded_location(gen)
    except (IndexMissingError, IndexCorruptError, IndexIncompatibleError, ValueError):
        return None


def _row_states(articles: list[Article], plan: _Plan, prev: IndexData | None,
                wanted: tuple[str, str | None] | None) -> np.ndarray | None:
    """Per article, what a build into the live Milvus collection does with its passages
    (``RowState``), or None when the build writes a new collection: the first build into Milvus,
    one that moves there, or one over an index whose Milvus rows are not keyed by passage."""
    if prev is None or not prev.keyed or prev.passage_vectors.kind != "milvus" or not _same_store(prev, wanted):
        return None
    held = set(prev.serials().tolist())
    states = np.full(len(articles), RowState.NEW, np.int8)
    for i, (article, serial, rows) in enumerate(zip(articles, plan.serials, plan.rows)):
        if serial in held and isinstance(rows, int):
            before = prev.articles[rows]
            same = (before.source, before.published[:10]) == (article.source, article.published[:10])
            states[i] = RowState.KEPT if same else RowState.CHANGED
    return states


def _signatures(group: list[int], articles: list[Article], rows: list, held: np.ndarray | None) -> np.ndarray:
    """The MinHash signatures of a group of articles: a reused article's from the previous index
    (``held``, when it was signed the same way), the others' computed."""
    out = np.zeros((len(group), copies.NUM_PERM), np.uint32)
    fresh = []
    for k, i in enumerate(group):
        if held is not None and isinstance(rows[i], int):
            out[k] = held[rows[i]]
        else:
            fresh.append(k)
    if fresh:
        out[fresh] = copies.signatures([articles[group[k]].text for k in fresh])
    return out


def _same_store(prev: IndexData, wanted: tuple[str, str | None] | None) -> bool:
    """True if the live index's passage vectors are where ``wanted`` (``store_kind``) asks for them."""
    if wanted is None:
        return True
    kind, location = wanted
    held = prev.passage_vectors
    if kind != held.kind:
        return False
    if location is None:
        return True
    from ..store.vectors.milvus import MilvusLocation

    asked = MilvusLocation.parse(location)
    return (held.location.uri, held.location.collection) == (asked.uri, asked.collection)


def _recipe() -> int:
    """The embedding recipe this build follows (rows.EMBED_RECIPE; 2 with embed.SINGLE_PASS off)."""
    return EMBED_RECIPE if embed.SINGLE_PASS else 2


def _job(i: int, article: Article, rows: ArticleRows, units: list[tuple[int, int, int, int]] | None) -> Job:
    """What article ``i`` embeds: its ``units`` (windows) if given, else its passages."""
    if units is not None:
        return Job(i, *unit_texts(article, rows, units), sentence_texts(article, rows), [u[:2] for u in units])
    return Job(i, *passage_texts(article, rows), sentence_texts(article, rows))


def _texts(rows: ArticleRows, mode: str, units: list | None) -> int:
    """How many texts an article to embed puts through the model (before any sentence that
    truncation cut short in every passage)."""
    if units is not None:
        return len(units)
    return len(rows.passages) + (len(rows.sentences) if mode == SEPARATE else 0)


# Articles per group at most, however few of them are embedded: reused articles' rows and vectors
# are read from the previous index a group at a time too.
GROUP_ARTICLES = 256


def _groups(rows: list[ArticleRows | int], mode: str, units: dict[int, list | None]):
    """Runs of consecutive articles, each ending once its articles to embed hold ``GROUP_TEXTS``
    texts (embed.py) or it holds ``GROUP_ARTICLES`` articles."""
    group: list[int] = []
    size = 0
    for i, part in enumerate(rows):
        group.append(i)
        size += 0 if isinstance(part, int) else _texts(part, mode, units[i])
        if size >= embed.GROUP_TEXTS or len(group) >= GROUP_ARTICLES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _passage_index_texts(text: str, sentences: np.ndarray, passages: np.ndarray) -> list[str]:
    """Each passage of one article (rows numbered within it) as BM25 indexes it: its heading, then
    its text (``rows.embed_text``)."""
    starts, ends = sentences["start"].tolist(), sentences["end"].tolist()
    return [
        embed_text(text[hstart:hend] if hstart >= 0 else "", text[starts[first] : ends[last - 1]])
        for first, last, hstart, hend in zip(
            passages["first"].tolist(), passages["last"].tolist(),
            passages["heading_start"].tolist(), passages["heading_end"].tolist(),
        )
    ]


@dataclass
class _Plan:
    """Per article: its rows chunked afresh, to embed, or its position in the previous index, whose
    rows and vectors it reuses."""

    rows: list[ArticleRows | int | None]
    hashes: list[str]
    serials: list[int]  # per article, its version's number: kept while its content hash is (store.data)
    counts: list[tuple[int, int]]  # per article: passages, sentences
    added: list[str]
    changed: list[str]
    unchanged: list[str]
    removed: list[str]
    next_serial: int = 0  # never given yet (a removed article's number is not given again)


def _plan(articles: list[Article], prev: IndexData | None, params: ChunkParams) -> _Plan:
    prev_entries = {a["id"]: a for a in prev.manifest["articles"]} if prev else {}
    plan = _Plan([], [], [], [], [], [], [], sorted(set(prev_entries) - {a.id for a in articles}))
    serial = int(prev.manifest.get("next_serial", 0)) if prev else 0
    for article in articles:
        digest = content_hash(article, params)
        plan.hashes.append(digest)
        held = prev_entries.get(article.id)
        if held is not None and held["hash"] == digest and "serial" in held:
            plan.serials.append(int(held["serial"]))
        else:
            plan.serials.append(serial)
            serial += 1
        if held is not None and held["hash"] == digest:
            pos = prev.article_position(article.id)
            plan.rows.append(pos)
            plan.counts.append((len(prev.article_passages(pos)), len(prev.article_sentences(pos))))
            plan.unchanged.append(article.id)
            continue
        part = chunk(article, params)
        plan.rows.append(part)
        plan.counts.append((len(part.passages), len(part.sentences)))
        (plan.changed if held is not None else plan.added).append(article.id)
    plan.next_serial = serial
    return plan
