"""What files an index generation holds, and reading them into ``IndexData`` (no pickles).

Layout of ``index/``::

    CURRENT               name of the live generation (replaced atomically, see generations.py)
    gen-<stamp>/          one complete index:
        manifest.json     format version, package version, model, dimension, chunking,
                          per-article content hashes, build time, size and sha256 of each file
        articles.json     article metadata and body text (quotes are sliced from it)
        acronyms.json     the acronyms the articles define ({"BLA": "Baloch Liberation Army"})
        sentences.npy     int64 rows (article, start, end, paragraph)
        paragraphs.npy    int64 rows (article, start, end)
        passages.npy      int64 rows (article, first sentence, last sentence + 1, heading start, heading end)
        sentence_vectors.npy  float16, L2-normalised (float32 in indexes written before
                          2026-12-02; both load, as float32)
        token_*.npy       each sentence's token states for MaxSim (see token_states.py): vectors
                          int8, scales float32, ids int32, bounds int64 rows (start, end) per
                          sentence, df int64 per vocabulary id, basis float32 (the projection, if
                          any); absent when the encoder gives no token states
        passages.faiss    the passage vector store (vectors/faiss.py): L2-normalised passage
                          vectors by passage id (the row number in passages.npy)
        bm25/             bm25s arrays (.npy, loaded with allow_pickle=False) and JSON

Every array is loaded with ``allow_pickle=False`` and checked against the manifest's checksums
first; any mismatch is an ``IndexCorruptError`` that says to rebuild.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..records import Article
from ..retrieval.acronyms import Acronyms
from .data import PARAGRAPH, PASSAGE, SENTENCE, IndexData, columns, rows
from .generations import current_generation, publish, staging_dir
from .lexical import LexicalIndex
from .manifest import MANIFEST, REBUILD, read_manifest, record_files, verify_files
from .token_states import Projection, TokenStore, adapter_for
from .vectors import load_vector_store

_ARTICLE_FIELDS = ("id", "title", "source", "url", "published", "author", "text")


def write_generation(index_dir: Path, name: str, data: IndexData) -> Path:
    """Write ``data`` as generation ``name`` and make it live. Call under build_lock."""
    staging = staging_dir(index_dir, name)
    try:
        articles = [{k: getattr(a, k) for k in _ARTICLE_FIELDS} for a in data.articles]
        (staging / "articles.json").write_text(json.dumps(articles, ensure_ascii=False), encoding="utf-8")
        (staging / "acronyms.json").write_text(json.dumps(data.acronyms.forms, ensure_ascii=False, indent=0),
                                               encoding="utf-8")
        for fname, array in (
            ("sentences.npy", columns(data.sentences)),
            ("paragraphs.npy", columns(data.paragraphs)),
            ("passages.npy", columns(data.passages)),
            # float16 on disk: half the bytes, cosines within 1e-3 of float32 (docs/performance.md).
            ("sentence_vectors.npy", data.sentence_vectors.astype(np.float16)),
        ):
            np.save(staging / fname, array, allow_pickle=False)
        if data.tokens is not None:
            t = data.tokens
            arrays = {"vectors": t.vectors, "scales": t.scales, "ids": t.ids, "bounds": t.bounds, "df": t.df}
            if t.projection is not None:
                arrays["basis"] = t.projection.to_array()
            for key, array in arrays.items():
                np.save(staging / f"token_{key}.npy", array, allow_pickle=False)
        data.passage_vectors.save(staging)
        data.lexical.save(staging / "bm25")
        manifest = dict(data.manifest, files=record_files(staging))
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")
        return publish(index_dir, staging, name)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def load_index(index_dir: Path) -> IndexData:
    """Load the live generation of ``index_dir``, checking every file against the manifest."""
    gen_dir = current_generation(Path(index_dir))
    manifest = read_manifest(gen_dir)
    verify_files(gen_dir, manifest)
    try:
        raw = json.loads((gen_dir / "articles.json").read_text(encoding="utf-8"))
        articles = [Article(**a) for a in raw]
    except (OSError, ValueError, TypeError) as exc:
        raise IndexCorruptError(f"{gen_dir / 'articles.json'} is unreadable ({exc}); {REBUILD}") from None
    dim = int(manifest["model"]["dimension"])
    sentences = rows(_load_array(gen_dir / "sentences.npy", np.int64, 4), SENTENCE)
    paragraphs = rows(_load_array(gen_dir / "paragraphs.npy", np.int64, 3), PARAGRAPH)
    passages = rows(_load_array(gen_dir / "passages.npy", np.int64, 5), PASSAGE)
    vectors = _load_array(gen_dir / "sentence_vectors.npy", (np.float16, np.float32), dim)
    vectors = vectors.astype(np.float32)
    kind = manifest.get("vector_store", "faiss")  # indexes from before the store was recorded hold FAISS
    try:
        store = load_vector_store(kind, gen_dir, dim)
    except ValueError as exc:
        raise IndexCorruptError(f"{gen_dir}: the {kind} passage vectors are unreadable ({exc}); {REBUILD}") from None
    if len(store) != len(passages) or len(vectors) != len(sentences):
        raise IndexCorruptError(f"{gen_dir}: files disagree on the number of passages or sentences; {REBUILD}")
    if not np.array_equal(store.ids(), np.arange(len(passages))):
        raise IndexCorruptError(f"{gen_dir}: the passage vectors are not stored under the passages' ids; {REBUILD}")
    try:
        lexical = LexicalIndex.load(gen_dir / "bm25", len(passages))
    except Exception as exc:  # bm25s raises several kinds on a damaged directory
        raise IndexCorruptError(f"{gen_dir / 'bm25'} is unreadable ({exc}); {REBUILD}") from None
    tokens = _load_tokens(gen_dir, manifest, len(sentences)) if manifest.get("token_vectors") else None
    return IndexData(manifest, articles, sentences, paragraphs, passages, vectors, store, lexical, gen_dir,
                     tokens=tokens, acronyms=_load_acronyms(gen_dir, manifest, articles))


def _load_array(path: Path, dtype: type | tuple[type, ...], columns: int | None) -> np.ndarray:
    """The array in ``path``, of ``dtype`` (or one of them) and ``columns`` columns."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is not a readable array ({exc}); {REBUILD}") from None
    allowed = dtype if isinstance(dtype, tuple) else (dtype,)
    if array.dtype not in allowed or (columns is not None and (array.ndim != 2 or array.shape[1] != columns)):
        raise IndexCorruptError(f"{path} has shape {array.shape} and type {array.dtype}; {REBUILD}")
    return array


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
            raise IndexCorruptError(
                f"{gen_dir / 'token_basis.npy'} is not the projection the manifest names; {REBUILD}"
            )
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
