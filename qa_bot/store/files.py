"""The on-disk index: a directory of fixed-name files plus a JSON manifest, no pickles.

Layout of ``index/``::

    CURRENT               name of the live generation (replaced atomically)
    gen-<stamp>/          one complete index:
        manifest.json     format version, package version, model, dimension, chunking,
                          per-article content hashes, build time, size and sha256 of each file
        articles.json     article metadata and body text (quotes are sliced from it)
        acronyms.json     the acronyms the articles define ({"BLA": "Baloch Liberation Army"})
        sentences.npy     int64 rows (article, start, end, paragraph)
        paragraphs.npy    int64 rows (article, start, end)
        passages.npy      int64 rows (article, first sentence, last sentence + 1, heading start, heading end)
        sentence_vectors.npy  float32, L2-normalised
        token_*.npy       each sentence's token states for MaxSim (see tokens.py): vectors int8,
                          scales float32, ids int32, bounds int64 rows (start, end) per sentence,
                          df int64 per vocabulary id, basis float32 (the projection, if any);
                          absent when the encoder gives no token states
        passages.faiss    FAISS inner-product index of L2-normalised passage vectors
        bm25/             bm25s arrays (.npy, loaded with allow_pickle=False) and JSON

A build writes a new generation beside the live one and only then points CURRENT at it, so a
failed or killed build leaves the previous index as it was.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from .. import __version__
from ..retrieval.acronyms import Acronyms
from ..errors import BuildInProgressError, IndexCorruptError, IndexIncompatibleError, IndexMissingError
from .lexical import LexicalIndex
from ..records import Article
from .token_states import Projection, TokenStore, adapter_for

FORMAT = "qa-bot-index"
FORMAT_VERSION = 1
CURRENT = "CURRENT"
MANIFEST = "manifest.json"
_GEN_RE = re.compile(r"^gen-[A-Za-z0-9-]+$")
REBUILD = "run 'qa-bot build' to rebuild it"


@dataclass
class IndexData:
    """Everything a loaded index holds, in memory."""

    manifest: dict[str, Any]
    articles: list[Article]
    sentences: np.ndarray  # (n, 4) int64: article, start, end, paragraph
    paragraphs: np.ndarray  # (m, 3) int64: article, start, end
    passages: np.ndarray  # (p, 5) int64: article, first, last, heading start, heading end
    sentence_vectors: np.ndarray  # (n, d) float32
    passage_index: faiss.Index
    lexical: LexicalIndex
    path: Path | None = None
    tokens: TokenStore | None = None  # sentence token states for MaxSim, if the encoder gave them
    acronyms: Acronyms = field(default_factory=Acronyms)
    _article_pos: dict[str, int] = field(default_factory=dict, repr=False)

    @property
    def model(self) -> str:
        return self.manifest["model"]["name"]

    @property
    def dimension(self) -> int:
        return int(self.manifest["model"]["dimension"])

    def article_position(self, article_id: str) -> int | None:
        if not self._article_pos:
            self._article_pos = {a.id: i for i, a in enumerate(self.articles)}
        return self._article_pos.get(article_id)

    def sentence_text(self, i: int) -> str:
        a, start, end, _ = self.sentences[i]
        return self.articles[a].text[start:end]

    def heading(self, p: int) -> str:
        a, _, _, hstart, hend = self.passages[p]
        return self.articles[a].text[hstart:hend] if hstart >= 0 else ""

    def passage_span(self, p: int) -> tuple[int, int]:
        _, first, last, _, _ = self.passages[p]
        return int(self.sentences[first, 1]), int(self.sentences[last - 1, 2])

    def passage_text(self, p: int) -> str:
        start, end = self.passage_span(p)
        return self.articles[self.passages[p, 0]].text[start:end]

    def passage_vectors(self) -> np.ndarray:
        return self.passage_index.reconstruct_n(0, self.passage_index.ntotal)


def embed_text(heading: str, text: str) -> str:
    """What is embedded and BM25-indexed for a passage: its section heading, then its text."""
    return f"{heading}\n{text}" if heading else text


# ---------------------------------------------------------------------------- generations


def current_generation(index_dir: Path) -> Path:
    """The directory of the live generation; IndexMissingError if there is none."""
    index_dir = Path(index_dir)
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(
            f"no index in {str(index_dir)!r}: run 'qa-bot build --index {index_dir}' first"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{pointer}: unreadable ({exc}); {REBUILD}") from None
    if not _GEN_RE.match(name) or not (index_dir / name).is_dir():
        raise IndexCorruptError(f"{pointer}: points at {name!r}, which is not an index generation; {REBUILD}")
    return index_dir / name


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``index_dir`` for the length of a build."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildInProgressError(
                f"another 'qa-bot build' is writing {str(index_dir)!r}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def write_generation(index_dir: Path, name: str, data: IndexData) -> Path:
    """Write ``data`` as generation ``name`` and make it live. Call under build_lock."""
    staging = index_dir / f".build-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        articles = [
            {k: getattr(a, k) for k in ("id", "title", "source", "url", "published", "author", "text")}
            for a in data.articles
        ]
        (staging / "articles.json").write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
        (staging / "acronyms.json").write_text(json.dumps(data.acronyms.forms, ensure_ascii=False, indent=0),
                                               encoding="utf-8")
        for fname, array in (
            ("sentences.npy", data.sentences),
            ("paragraphs.npy", data.paragraphs),
            ("passages.npy", data.passages),
            ("sentence_vectors.npy", data.sentence_vectors),
        ):
            np.save(staging / fname, array, allow_pickle=False)
        if data.tokens is not None:
            t = data.tokens
            arrays = {"vectors": t.vectors, "scales": t.scales, "ids": t.ids, "bounds": t.bounds, "df": t.df}
            if t.projection is not None:
                arrays["basis"] = t.projection.to_array()
            for key, array in arrays.items():
                np.save(staging / f"token_{key}.npy", array, allow_pickle=False)
        faiss.write_index(data.passage_index, str(staging / "passages.faiss"))
        data.lexical.save(staging / "bm25")
        files = {}
        for path in sorted(p for p in staging.rglob("*") if p.is_file()):
            rel = path.relative_to(staging).as_posix()
            files[rel] = {"bytes": path.stat().st_size, "sha256": _sha256(path)}
        manifest = dict(data.manifest, files=files)
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        for path in staging.rglob("*"):
            if path.is_file():
                with open(path, "rb") as handle:
                    os.fsync(handle.fileno())
        final = index_dir / name
        os.replace(staging, final)
        _fsync_dir(index_dir)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    pointer_tmp = index_dir / f".{CURRENT}.tmp"
    with open(pointer_tmp, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    return final


def remove_stale(index_dir: Path, keep: str) -> None:
    """Delete every generation but ``keep`` and any half-written staging directory. Under lock."""
    for path in index_dir.iterdir():
        if path.name != keep and path.is_dir() and (path.name.startswith(".build-") or _GEN_RE.match(path.name)):
            shutil.rmtree(path, ignore_errors=True)


# ---------------------------------------------------------------------------- loading


def read_manifest(gen_dir: Path) -> dict[str, Any]:
    path = gen_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexCorruptError(f"{path} is missing; {REBUILD}") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} is not a readable manifest ({exc}); {REBUILD}") from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise IndexCorruptError(f"{path} is not a qa-bot index manifest; {REBUILD}")
    version = manifest.get("format_version")
    if version == FORMAT_VERSION:
        _check_manifest_shape(path, manifest)
    if version != FORMAT_VERSION:
        newer = isinstance(version, int) and version > FORMAT_VERSION
        raise IndexIncompatibleError(
            f"{path}: index format {version} is {'newer' if newer else 'older'} than this qa-bot "
            f"supports ({FORMAT_VERSION}); {REBUILD}" + (" or upgrade qa-bot" if newer else "")
        )
    return manifest


def _check_manifest_shape(path: Path, manifest: dict[str, Any]) -> None:
    """The manifest is the one file without a checksum: check every field that loading uses."""
    model = manifest.get("model")
    articles = manifest.get("articles")
    ok = (
        isinstance(model, dict)
        and isinstance(model.get("name"), str)
        and isinstance(model.get("dimension"), int)
        and model["dimension"] > 0
        and isinstance(manifest.get("files"), dict)
        and all(isinstance(v, dict) for v in manifest["files"].values())
        and isinstance(manifest.get("chunking"), dict)
        and isinstance(articles, list)
        and all(isinstance(a, dict) and isinstance(a.get("id"), str) and isinstance(a.get("hash"), str) for a in articles)
    )
    if not ok:
        raise IndexCorruptError(f"{path} is missing fields or has fields of the wrong type; {REBUILD}")


def _verify_files(gen_dir: Path, manifest: dict[str, Any]) -> None:
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorruptError(f"{gen_dir / MANIFEST} lists no files; {REBUILD}")
    for rel, meta in files.items():
        path = gen_dir / rel
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing; {REBUILD}")
        if path.stat().st_size != meta.get("bytes") or _sha256(path) != meta.get("sha256"):
            raise IndexCorruptError(f"{path} is truncated or altered (checksum mismatch); {REBUILD}")


def _load_array(path: Path, dtype: type, columns: int | None) -> np.ndarray:
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is not a readable array ({exc}); {REBUILD}") from None
    if array.dtype != dtype or (columns is not None and (array.ndim != 2 or array.shape[1] != columns)):
        raise IndexCorruptError(f"{path} has shape {array.shape} and type {array.dtype}; {REBUILD}")
    return array


def load_index(index_dir: Path) -> IndexData:
    """Load the live generation of ``index_dir``, checking every file against the manifest."""
    gen_dir = current_generation(Path(index_dir))
    manifest = read_manifest(gen_dir)
    _verify_files(gen_dir, manifest)
    try:
        raw = json.loads((gen_dir / "articles.json").read_text(encoding="utf-8"))
        articles = [Article(**a) for a in raw]
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"{gen_dir / 'articles.json'} is unreadable ({exc}); {REBUILD}") from None
    dim = int(manifest["model"]["dimension"])
    sentences = _load_array(gen_dir / "sentences.npy", np.int64, 4)
    paragraphs = _load_array(gen_dir / "paragraphs.npy", np.int64, 3)
    passages = _load_array(gen_dir / "passages.npy", np.int64, 5)
    vectors = _load_array(gen_dir / "sentence_vectors.npy", np.float32, dim)
    try:
        passage_index = faiss.read_index(str(gen_dir / "passages.faiss"))
    except RuntimeError as exc:
        raise IndexCorruptError(f"{gen_dir / 'passages.faiss'} is not a FAISS index ({exc}); {REBUILD}") from None
    if passage_index.ntotal != len(passages) or passage_index.d != dim or len(vectors) != len(sentences):
        raise IndexCorruptError(f"{gen_dir}: files disagree on the number of passages or sentences; {REBUILD}")
    try:
        lexical = LexicalIndex.load(gen_dir / "bm25", len(passages))
    except Exception as exc:  # bm25s raises several kinds on a damaged directory
        raise IndexCorruptError(f"{gen_dir / 'bm25'} is unreadable ({exc}); {REBUILD}") from None
    tokens = _load_tokens(gen_dir, manifest, len(sentences)) if manifest.get("token_vectors") else None
    return IndexData(manifest, articles, sentences, paragraphs, passages, vectors, passage_index, lexical, gen_dir,
                     tokens=tokens, acronyms=_load_acronyms(gen_dir, manifest, articles))


def _load_acronyms(gen_dir: Path, manifest: dict[str, Any], articles: list[Article]) -> Acronyms:
    if "acronyms.json" not in manifest["files"]:  # an index from before acronyms were kept
        return Acronyms.learn(text for a in articles for text in (a.title, a.text))
    path = gen_dir / "acronyms.json"
    try:
        forms = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise IndexCorruptError(f"{path} is unreadable ({exc}); {REBUILD}") from None
    if not isinstance(forms, dict) or not all(isinstance(k, str) and isinstance(v, str) and v.split()
                                              for k, v in forms.items()):
        raise IndexCorruptError(f"{path} is not a map of acronyms to long forms; {REBUILD}")
    return Acronyms(forms)


def _load_tokens(gen_dir: Path, manifest: dict[str, Any], n_sentences: int) -> TokenStore:
    meta = manifest["token_vectors"]
    if not isinstance(meta, dict) or not isinstance(meta.get("dimension"), int):
        raise IndexCorruptError(f"{gen_dir / MANIFEST}: 'token_vectors' is malformed; {REBUILD}")
    dim = meta["dimension"]
    # The int8 vectors are the bulk of an index: mapped, not read, so only the rows a question
    # touches are paged in.
    path = gen_dir / "token_vectors.npy"
    try:
        vectors = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is not a readable array ({exc}); {REBUILD}") from None
    scales = _load_array(gen_dir / "token_scales.npy", np.float32, None)
    ids = _load_array(gen_dir / "token_ids.npy", np.int32, None)
    bounds = _load_array(gen_dir / "token_bounds.npy", np.int64, 2)
    df = _load_array(gen_dir / "token_df.npy", np.int64, None)
    projection = None
    if meta.get("basis"):
        basis = _load_array(gen_dir / "token_basis.npy", np.float32, dim + 1)
        projection = Projection.from_array(basis)
        if projection.key != meta["basis"] or basis.shape[0] != int(manifest["model"]["dimension"]):
            raise IndexCorruptError(f"{gen_dir / 'token_basis.npy'} is not the projection the manifest names; {REBUILD}")
    total = len(scales)
    ok = (
        vectors.dtype == np.int8 and vectors.shape == (total, dim) and ids.shape == (total,)
        and scales.ndim == 1 and df.ndim == 1 and (not n_sentences or int(bounds[0, 0]) == 0)
        and len(bounds) == n_sentences and (not n_sentences or int(bounds[-1, 1]) == total)
        and bool(np.all(bounds[:, 0] <= bounds[:, 1])) and bool(np.all(bounds[1:, 0] == bounds[:-1, 1]))
        and (not total or (int(ids.min()) >= 0 and int(ids.max()) < len(df)))
    )
    if not ok:
        raise IndexCorruptError(f"{gen_dir}: the token_*.npy files disagree with each other; {REBUILD}")
    return TokenStore(vectors, scales, ids, bounds, df, projection, adapter_for(projection))


def new_manifest(model: str, dimension: int, chunking: dict[str, Any], articles: list[dict[str, Any]], built_at: str) -> dict[str, Any]:
    return {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "qa_bot_version": __version__,
        "model": {"name": model, "dimension": dimension},
        "chunking": chunking,
        "built_at": built_at,
        "articles": articles,
    }
