"""Writing an index generation as a build produces it (``GenerationWriter``): vectors and token
states streamed to their ``.npy`` files an article at a time, then the rows, BM25, the vector
store, the articles and the manifest, and the generation made live. What the files are and how
they are read: ``store.files``.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np

from ..records import Article
from ..retrieval.acronyms import Acronyms
from .data import PARAGRAPH, PASSAGE, PLACES, SENTENCE, columns, passage_key
from .generations import publish, staging_dir
from .integrity import record_files
from .lexical import LexicalIndex
from .manifest import MANIFEST
from .quantised import quantise
from .token_states import PackedTokens, Projection, TokenStore
from .vectors import VectorStore

_ARTICLE_FIELDS = ("id", "title", "source", "url", "published", "author", "license", "text")


class _NpyStream:
    """An ``.npy`` file written a block of rows at a time. Its header, which holds the row count, is
    written last, into the room kept for it at the start of the file (the layout ``np.load`` reads:
    numpy's format 1.0, a header padded to a multiple of 64 bytes, then the rows)."""

    ROOM = 128  # the header of any array of up to 2 dimensions written here

    def __init__(self, path: Path, dtype, row_shape: tuple[int, ...]) -> None:
        self.path, self.dtype, self.row_shape = path, np.dtype(dtype), tuple(row_shape)
        self.rows = 0
        self._file = open(path, "wb")  # noqa: SIM115 (closed by close())
        self._file.write(b"\0" * self.ROOM)

    def append(self, rows: np.ndarray) -> None:
        rows = np.ascontiguousarray(rows, dtype=self.dtype)
        if rows.shape[1:] != self.row_shape:
            raise ValueError(f"{self.path.name}: rows of shape {rows.shape[1:]}, expected {self.row_shape}")
        self._file.write(rows.data)
        self.rows += len(rows)

    def close(self) -> None:
        if self._file.closed:
            return
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {
            "descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False,
            "shape": (self.rows, *self.row_shape),
        })
        if header.tell() != self.ROOM:
            raise RuntimeError(f"{self.path.name}: an .npy header of {header.tell()} bytes does not fit")
        self._file.seek(0)
        self._file.write(header.getvalue())
        self._file.close()

    def discard(self) -> None:
        """Close the file as it is (it is about to be deleted)."""
        with contextlib.suppress(OSError):  # a full disk refuses the buffered rest: the file goes anyway
            self._file.close()

    def blocks(self, rows_per_block: int = 1 << 15):
        """After ``close``: a callable giving the rows again, a block at a time, read (not mapped)
        from the file, so a reader holds one block of them at once."""
        row_bytes = self.dtype.itemsize * int(np.prod(self.row_shape, dtype=np.int64))

        def read():
            for lo in range(0, self.rows, rows_per_block):
                count = min(rows_per_block, self.rows - lo)
                flat = np.fromfile(self.path, self.dtype, count * row_bytes // self.dtype.itemsize,
                                   offset=self.ROOM + lo * row_bytes)
                yield flat.reshape(count, *self.row_shape)

        return read


class GenerationWriter:
    """Writes a new generation as a build produces it, one article's rows at a time, then makes it live.

    The vectors and token states go to disk as they come; what stays in memory until ``finish``
    is small (the int64 rows, each sentence's number of tokens, each vocabulary id's document
    frequency). A build therefore never holds the whole index: its memory does not grow with the
    corpus beyond those rows, BM25's term ids (``lexical.LexicalBuilder``) and the passage vector
    store (docs/performance.md). Use it as a context manager: leaving
    it without ``finish`` (an error, an interrupt) deletes the half-written generation and leaves
    the live one as it was. Call under build_lock.
    """

    def __init__(self, index_dir: Path, name: str, dimension: int, *, token_dimension: int | None = None,
                 projection: Projection | None = None) -> None:
        self.index_dir, self.name, self.dimension = Path(index_dir), name, dimension
        self.staging = staging_dir(self.index_dir, name)
        self._projection = projection
        self._sentence_vectors = _NpyStream(self.staging / "sentence_vectors.npy", np.int8, (dimension,))
        self._sentence_scales: list[np.ndarray] = []
        # The passage vectors wait here until the vector store takes them (deleted before the
        # files are listed in the manifest).
        self._passage_vectors = _NpyStream(self.staging / "passage_vectors.tmp.npy", np.float32, (dimension,))
        self._token_vectors = self._token_scales = self._token_ids = None
        if token_dimension is not None:
            self._token_vectors = _NpyStream(self.staging / "token_vectors.npy", np.int8, (token_dimension,))
            self._token_scales = _NpyStream(self.staging / "token_scales.npy", np.float32, ())
            # int32 as they come, narrowed at the end where the vocabulary allows
            self._token_ids = _NpyStream(self.staging / "token_ids.tmp.npy", np.int32, ())
        self._rows: dict[str, list[np.ndarray]] = {"sentences": [], "paragraphs": [], "passages": []}
        self._token_counts: list[np.ndarray] = []  # per article, its sentences' numbers of tokens
        self._token_df = np.zeros(0, np.int64)  # per vocabulary id, the sentences holding it so far
        self._top_token_id = -1
        self.articles = self.sentences = self.paragraphs = self.passages = self.tokens = 0

    def __enter__(self) -> GenerationWriter:
        return self

    def __exit__(self, kind, exc, tb) -> None:
        if kind is not None:
            for stream in self._streams():
                stream.discard()
            shutil.rmtree(self.staging, ignore_errors=True)

    def add(self, sentences: np.ndarray, paragraphs: np.ndarray, passages: np.ndarray,
            passage_vectors: np.ndarray, sentence_vectors: np.ndarray, tokens: PackedTokens | None) -> None:
        """Append the next article: its rows numbered within it (article 0, sentences and paragraphs
        from 0, as ``indexing.rows`` makes them), its vectors and, if the index keeps them, its
        token states. The rows are renumbered index-wide here."""
        s = sentences.copy()
        s["article"] = self.articles
        s["paragraph"] += self.paragraphs
        g = paragraphs.copy()
        g["article"] = self.articles
        p = passages.copy()
        p["article"] = self.articles
        p["first"] += self.sentences
        p["last"] += self.sentences
        for key, part in (("sentences", s), ("paragraphs", g), ("passages", p)):
            self._rows[key].append(part)
        self._passage_vectors.append(passage_vectors)
        # int8 and a scale per row on disk: a quarter of the bytes, answers as with float32
        # (docs/decisions/compact-index.md).
        codes, scales = quantise(np.asarray(sentence_vectors, dtype=np.float32).reshape(-1, self.dimension))
        self._sentence_vectors.append(codes)
        self._sentence_scales.append(scales)
        if self._token_vectors is not None:
            if tokens is None or len(tokens.counts) != len(sentences):
                raise ValueError("an index that keeps token states needs them for every sentence")
            self._token_vectors.append(tokens.vectors)
            self._token_scales.append(tokens.scales)
            self._token_ids.append(tokens.ids)
            self._token_counts.append(tokens.counts)
            if len(tokens.ids):
                df = TokenStore.document_frequency(tokens.ids, tokens.counts)
                if len(df) > len(self._token_df):
                    self._token_df = np.r_[self._token_df, np.zeros(len(df) - len(self._token_df), np.int64)]
                self._token_df[: len(df)] += df
                self._top_token_id = max(self._top_token_id, int(tokens.ids.max()))
            self.tokens += len(tokens.ids)
        self.articles += 1
        self.sentences += len(sentences)
        self.paragraphs += len(paragraphs)
        self.passages += len(passages)

    def rows(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Every article's rows so far, numbered index-wide: (sentences, paragraphs, passages)."""
        return (_joined(self._rows["sentences"], SENTENCE), _joined(self._rows["paragraphs"], PARAGRAPH),
                _joined(self._rows["passages"], PASSAGE))

    def finish(self, articles: list[Article], manifest: dict[str, Any], store: VectorStore,
               lexical: LexicalIndex, acronyms: Acronyms, copies: tuple[np.ndarray, np.ndarray],
               terms=None, serials: np.ndarray | None = None, states: np.ndarray | None = None) -> Path:
        """Write what is left (rows, token tables, the vector store, BM25, articles, acronyms, the
        copies as ``(signatures, groups)`` and the manifest with every file's checksum) and make the
        generation live. ``terms`` (``LexicalBuilder.terms``) gives the passages' BM25 terms to a store
        that searches text itself. With ``serials`` (each article's, store.data) the store holds the
        passages under their keys, each with its article's serial, and the manifest says so. With
        ``states`` (a ``RowState`` per passage) the store is one that keeps rows across builds,
        updated in place (``MilvusVectorStore.update``)."""
        if len(articles) != self.articles or any(len(a) != self.articles for a in copies):
            raise ValueError(f"{len(articles)} articles and copies of {[len(a) for a in copies]} "
                             f"for the rows of {self.articles}")
        staging = self.staging
        self._close_streams()
        sentences, paragraphs, passages = self.rows()
        for fname, records in zip(("sentences.npy", "paragraphs.npy", "passages.npy"),
                                  (sentences, paragraphs, passages)):
            np.save(staging / fname, columns(records), allow_pickle=False)
        article_of = passages["article"].copy()
        ids = np.arange(self.passages, dtype=np.int64)
        if serials is not None:
            place = ids - np.searchsorted(article_of, article_of, side="left")
            if len(place) and int(place.max()) >= PLACES:
                raise ValueError(f"an article has more than {PLACES - 1:,} passages; a store keyed by passage "
                                 "cannot hold it")
            ids = passage_key(serials[article_of], place)
            manifest = dict(manifest, passage_ids="keys")
        fields = None if terms is None else _passage_fields(articles, article_of, terms, ids, serials)
        self._rows = {k: [] for k in self._rows}
        del sentences, paragraphs, passages
        np.save(staging / "sentence_scales.npy", _joined(self._sentence_scales, np.float32), allow_pickle=False)
        if self._token_ids is not None:
            self._narrow_token_ids()
            counts = _joined(self._token_counts, np.int64)
            arrays = {"bounds": TokenStore.bounds_of(counts), "df": self._token_df}
            if self._projection is not None:
                arrays["basis"] = self._projection.to_array()
            for key, array in arrays.items():
                np.save(staging / f"token_{key}.npy", array, allow_pickle=False)
        try:
            self._finish_files(articles, manifest, store, lexical, acronyms, copies, fields, ids, states)
        except BaseException:
            # A store that keeps its vectors outside the generation (a Milvus collection) drops
            # what this build wrote there; the live generation's store is another, untouched.
            discard = getattr(store, "discard", None)
            if discard is not None:
                discard()
            raise
        return publish(self.index_dir, staging, self.name)

    def _finish_files(self, articles: list[Article], manifest: dict[str, Any], store: VectorStore,
                      lexical: LexicalIndex, acronyms: Acronyms, copies: tuple[np.ndarray, np.ndarray],
                      fields, ids: np.ndarray, states: np.ndarray | None) -> None:
        staging = self.staging
        if states is not None:
            store.update(ids, self._passage_vectors.blocks(), fields, states)
        else:
            store.build(ids, self._passage_vectors.blocks(), fields)
        self._passage_vectors.path.unlink()
        record = getattr(store, "record", None)
        if record is not None:  # a store outside the generation (Milvus) records what it belongs to
            record({"model": manifest["model"]["name"], "dimension": manifest["model"]["dimension"],
                    "generation": self.name, "format_version": manifest["format_version"]})
        store.save(staging)
        lexical.save(staging / "bm25")
        with open(staging / "articles.json", "w", encoding="utf-8") as out:  # written as it is encoded
            json.dump([{k: getattr(a, k) for k in _ARTICLE_FIELDS} for a in articles], out, ensure_ascii=False)
        (staging / "acronyms.json").write_text(json.dumps(acronyms.forms, ensure_ascii=False, indent=0),
                                               encoding="utf-8")
        np.save(staging / "copy_signatures.npy", np.asarray(copies[0], np.uint32), allow_pickle=False)
        np.save(staging / "copies.npy", np.asarray(copies[1], np.int64), allow_pickle=False)
        manifest = dict(manifest, files=record_files(staging))
        (staging / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False), encoding="utf-8")

    def _streams(self) -> list[_NpyStream]:
        return [s for s in (self._sentence_vectors, self._passage_vectors, self._token_vectors, self._token_scales,
                            self._token_ids) if s is not None]

    def _close_streams(self) -> None:
        for stream in self._streams():
            stream.close()

    def _narrow_token_ids(self) -> None:
        """token_ids.npy: the vocabulary ids as uint16 where the vocabulary allows (the default
        model's has 30,522), else as written (int32), copied a block at a time."""
        written = self._token_ids
        final = self.staging / "token_ids.npy"
        if self._top_token_id >= 1 << 16:
            written.path.rename(final)
            return
        narrow = _NpyStream(final, np.uint16, ())
        for block in written.blocks(1 << 20)():
            narrow.append(block)
        narrow.close()
        written.path.unlink()


def _passage_fields(articles: list[Article], article_of: np.ndarray, terms, ids: np.ndarray,
                    serials: np.ndarray | None):
    """``Fields`` of the passages (store/vectors/base.py), by their ids in the store (``ids``, by
    row): their BM25 terms, article (its serial, if given, else its position), outlet, day."""
    order = np.argsort(ids, kind="stable")

    def fields(asked: np.ndarray) -> dict[str, list]:
        rows = order[np.searchsorted(ids, asked, sorter=order)]
        positions = article_of[rows].tolist()
        return {"text": terms(rows), "article": positions if serials is None else serials[positions].tolist(),
                "source": [articles[a].source for a in positions],
                "day": [articles[a].published[:10] for a in positions]}

    return fields


def _joined(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts) if parts else np.empty(0, dtype)
