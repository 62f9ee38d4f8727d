"""What files an index generation holds, and reading them into ``IndexData`` (no pickles); a
build writes them with ``store.writer.GenerationWriter``.

Layout of ``index/``::

    CURRENT               name of the live generation (replaced atomically, see generations.py)
    gen-<stamp>/          one complete index:
        manifest.json     format version, package version, model, dimension, chunking,
                          per-article content hashes, build time, size and sha256 of each file
        articles.json     article metadata and body text (quotes are sliced from it)
        acronyms.json     the acronyms the articles define ({"BLA": "Baloch Liberation Army"})
        copy_signatures.npy  uint32 rows, each article body's MinHash signature (indexing/copies.py)
        copies.npy        int64 per article, its group of copies (the position of the group's first article)
        sentences.npy     int64 rows (article, start, end, paragraph)
        paragraphs.npy    int64 rows (article, start, end)
        passages.npy      int64 rows (article, first sentence, last sentence + 1, heading start, heading end)
        sentence_vectors.npy  int8, L2-normalised, one float32 scale per row in
                          sentence_scales.npy (float16 or float32 without scales in indexes
                          written before; all load, as float32 rows), memory-mapped
        token_*.npy       each sentence's token states for MaxSim (see token_states.py): vectors
                          int8, scales float32, ids uint16 (int32 for a vocabulary over
                          65,536, and before 2026-12-02), bounds int64 rows (start, end) per
                          sentence, df int64 per vocabulary id, basis float32 (the projection, if
                          any); absent when the encoder gives no token states
        passages.faiss    the passage vector store (vectors/faiss.py): L2-normalised passage
                          vectors by passage id (the row number in passages.npy); or milvus.json,
                          the Milvus collection that holds them (vectors/milvus.py)
        bm25/             bm25s arrays (.npy, loaded with allow_pickle=False) and JSON

Every array is loaded with ``allow_pickle=False`` and checked against the manifest's checksums
(``integrity``: the memory-mapped ones block by block as their rows are first read); any mismatch
is an ``IndexCorruptError`` that says to rebuild.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..records import Article
from ..retrieval.acronyms import Acronyms
from .data import PARAGRAPH, PASSAGE, SENTENCE, IndexData, passage_key, rows
from .generations import current_generation
from .integrity import CheckedRows, lazy_blocks, verify_files
from .lexical import LexicalIndex
from .manifest import MANIFEST, REBUILD, read_manifest
from .token_states import Projection, TokenStore, adapter_for
from .vectors import load_vector_store


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
    vectors = _load_sentence_vectors(gen_dir, manifest, dim)
    kind = manifest.get("vector_store", "faiss")  # indexes from before the store was recorded hold FAISS
    try:
        store = load_vector_store(kind, gen_dir, dim)
    except ValueError as exc:
        raise IndexCorruptError(f"{gen_dir}: the {kind} passage vectors are unreadable ({exc}); {REBUILD}") from None
    # A store kept in place (Milvus, keyed by passage) may hold other builds' rows for a moment.
    keyed = manifest.get("passage_ids") == "keys"
    if (len(store) < len(passages) if keyed else len(store) != len(passages)) or len(vectors) != len(sentences):
        raise IndexCorruptError(f"{gen_dir}: files disagree on the number of passages or sentences; {REBUILD}")
    recorded = store.recorded() if hasattr(store, "recorded") else {}
    if recorded and (recorded.get("model"), recorded.get("dimension")) != (manifest["model"]["name"], dim):
        raise IndexCorruptError(
            f"{gen_dir}: its {kind} collection holds vectors of model {recorded.get('model')!r} "
            f"({recorded.get('dimension')} dimensions), the index {manifest['model']['name']!r} ({dim}); {REBUILD}"
        )
    if not (_holds_keys(store, manifest, passages) if keyed else store.holds_rows(len(passages))):
        raise IndexCorruptError(f"{gen_dir}: the passage vectors are not stored under the passages' ids; {REBUILD}")
    try:
        lexical = LexicalIndex.load(gen_dir / "bm25", len(passages))
    except Exception as exc:  # bm25s raises several kinds on a damaged directory
        raise IndexCorruptError(f"{gen_dir / 'bm25'} is unreadable ({exc}); {REBUILD}") from None
    tokens = _load_tokens(gen_dir, manifest, len(sentences)) if manifest.get("token_vectors") else None
    signatures, copies = _load_copies(gen_dir, manifest, len(articles))
    return IndexData(manifest, articles, sentences, paragraphs, passages, vectors, store, lexical, gen_dir,
                     tokens=tokens, acronyms=_load_acronyms(gen_dir, manifest, articles),
                     signatures=signatures, copies=copies)


def _holds_keys(store, manifest: dict[str, Any], passages: np.ndarray) -> bool:
    """True if a store keyed by passage (store.data) holds the first and the last passage's vectors
    (and at least as many as there are passages: checked by the caller)."""
    if not len(passages):
        return True
    serials = np.array([int(a.get("serial", -1)) for a in manifest["articles"]], np.int64)
    last = int(passages["article"][-1])
    ends = [passage_key(serials[0], 0), passage_key(serials[last], len(passages) - 1 - int(np.searchsorted(
        passages["article"], last)))]
    try:
        store.vectors(np.array(ends, np.int64))
    except KeyError:
        return False
    return True


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


def _load_sentence_vectors(gen_dir: Path, manifest: dict[str, Any], dim: int):
    if "sentence_scales.npy" not in manifest["files"]:  # float16 or float32 (before 2026-12-02)
        return _load_mapped(gen_dir, manifest, "sentence_vectors.npy", (np.float16, np.float32), dim, np.float32)
    scales = _load_array(gen_dir / "sentence_scales.npy", np.float32, None)
    vectors = _load_mapped(gen_dir, manifest, "sentence_vectors.npy", np.int8, dim, np.float32, scales=scales)
    if scales.ndim != 1 or len(scales) != len(vectors):
        raise IndexCorruptError(f"{gen_dir}: sentence_scales.npy does not match sentence_vectors.npy; {REBUILD}")
    return vectors


def _load_mapped(gen_dir: Path, manifest: dict[str, Any], name: str, dtype, columns: int, out_dtype,
                 scales: np.ndarray | None = None):
    """A large array, memory-mapped so that only the rows a question reads are paged in, each block
    checked against its digest when first read (``integrity.CheckedRows``); rows come back as
    ``out_dtype`` (or as stored), times their ``scales`` if given. In an index from before block
    digests the file was checked whole at load."""
    path = gen_dir / name
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise IndexCorruptError(f"{path} is not a readable array ({exc}); {REBUILD}") from None
    allowed = dtype if isinstance(dtype, tuple) else (dtype,)
    if array.dtype not in allowed or array.ndim != 2 or array.shape[1] != columns:
        raise IndexCorruptError(f"{path} has shape {array.shape} and type {array.dtype}; {REBUILD}")
    blocks = lazy_blocks(manifest["files"].get(name, {}))
    if blocks is None:  # checked whole by verify_files
        whole = np.asarray(array, dtype=out_dtype) if out_dtype is not None else array
        return whole * scales[:, None] if scales is not None else whole
    return CheckedRows(array, path, *blocks, dtype=out_dtype, scales=scales)


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


def _load_copies(gen_dir: Path, manifest: dict[str, Any], n_articles: int):
    """(signatures, groups) of the articles' copies, or (None, None) in an index from before them."""
    if "copies.npy" not in manifest["files"]:
        return None, None
    signatures = _load_array(gen_dir / "copy_signatures.npy", np.uint32, None)
    groups = _load_array(gen_dir / "copies.npy", np.int64, None)
    positions = np.arange(n_articles)
    if (signatures.ndim != 2 or len(signatures) != n_articles or groups.shape != (n_articles,)
            or bool(np.any(groups < 0)) or bool(np.any(groups > positions)) or bool(np.any(groups[groups] != groups))):
        raise IndexCorruptError(f"{gen_dir}: copy_signatures.npy and copies.npy disagree with the articles; {REBUILD}")
    return signatures, groups


def _load_tokens(gen_dir: Path, manifest: dict[str, Any], n_sentences: int) -> TokenStore:
    meta = manifest["token_vectors"]
    if not isinstance(meta, dict) or not isinstance(meta.get("dimension"), int):
        raise IndexCorruptError(f"{gen_dir / MANIFEST}: 'token_vectors' is malformed; {REBUILD}")
    dim = meta["dimension"]
    vectors = _load_mapped(gen_dir, manifest, "token_vectors.npy", np.int8, dim, None)
    scales = _load_array(gen_dir / "token_scales.npy", np.float32, None)
    ids = _load_array(gen_dir / "token_ids.npy", (np.uint16, np.int32), None)
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
