"""``IndexData``: everything a loaded index holds, in memory, with named rows.

Sentences, paragraphs and passages are numpy record arrays with named int64 fields (``SENTENCE``,
``PARAGRAPH``, ``PASSAGE``): ``data.sentences["start"][i]``, ``data.passages[p]["first"]``. They
are saved as plain (n, k) int64 arrays (``columns``) and read back as records (``rows``), a view
either way, so the files are what they always were. A passage's id in the vector store is its row
number here, or, where the manifest says ``"passage_ids": "keys"`` (a Milvus store, which keeps
rows across builds), its key: its article's serial (a number each version of an article gets
once, kept while its content hash is) times 65,536 plus its place in the article
(``passage_keys``, ``store_ids``, ``rows_of``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..records import Article
from ..retrieval.acronyms import Acronyms
from .lexical import LexicalIndex
from .token_states import TokenStore
from .vectors import VectorStore

SENTENCE = np.dtype([("article", np.int64), ("start", np.int64), ("end", np.int64), ("paragraph", np.int64)])
"""A sentence: its article's position, its span ``[start, end)`` of the article text, and the
(index-wide) number of the paragraph it stands in."""
PARAGRAPH = np.dtype([("article", np.int64), ("start", np.int64), ("end", np.int64)])
"""A paragraph: its article's position and its span of the article text."""
PASSAGE = np.dtype([
    ("article", np.int64), ("first", np.int64), ("last", np.int64),
    ("heading_start", np.int64), ("heading_end", np.int64),
])
"""A passage: its article's position, sentences ``first`` to ``last - 1``, and the span of the
heading of its section (-1, -1 when it has none)."""


def rows(array: np.ndarray, dtype: np.dtype) -> np.ndarray:
    """An (n, k) int64 array as n records of ``dtype`` (a view where it can be)."""
    array = np.ascontiguousarray(array, dtype=np.int64).reshape(-1, len(dtype.names))
    return array.view(dtype).reshape(-1)


def columns(records: np.ndarray) -> np.ndarray:
    """Records as the (n, k) int64 array they are saved as."""
    return np.ascontiguousarray(records).view(np.int64).reshape(len(records), len(records.dtype.names))


@dataclass
class IndexData:
    """Everything a loaded index holds, in memory."""

    manifest: dict[str, Any]
    articles: list[Article]
    sentences: np.ndarray  # SENTENCE records
    paragraphs: np.ndarray  # PARAGRAPH records
    passages: np.ndarray  # PASSAGE records
    sentence_vectors: np.ndarray  # (n, d) float32 rows, L2-normalised (mapped: integrity.CheckedRows)
    passage_vectors: VectorStore  # one vector per passage, its id the passage's row number
    lexical: LexicalIndex
    path: Path | None = None
    tokens: TokenStore | None = None  # sentence token states for MaxSim, if the encoder gave them
    acronyms: Acronyms = field(default_factory=Acronyms)
    # Per article: its body's MinHash signature and its group of copies (indexing.copies), the
    # position of the group's first article; None in an index written before copies were kept.
    signatures: np.ndarray | None = None
    copies: np.ndarray | None = None
    _article_pos: dict[str, int] = field(default_factory=dict, repr=False)
    _members: dict[int, list[int]] | None = field(default=None, repr=False)
    _keys: np.ndarray | None = field(default=None, repr=False)
    _serials: np.ndarray | None = field(default=None, repr=False)
    _key_order: np.ndarray | None = field(default=None, repr=False)

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

    def copies_of(self, pos: int) -> list[int]:
        """The positions of the other articles in the group of copies of the article at ``pos``."""
        if self.copies is None:
            return []
        if self._members is None:
            sizes = np.bincount(self.copies, minlength=len(self.copies))
            members: dict[int, list[int]] = {}
            for i, group in enumerate(self.copies.tolist()):
                if sizes[group] > 1:
                    members.setdefault(group, []).append(i)
            self._members = members
        return [i for i in self._members.get(int(self.copies[pos]), ()) if i != pos]

    def article_of_sentence(self, i: int) -> Article:
        return self.articles[int(self.sentences["article"][i])]

    def article_of_passage(self, p: int) -> Article:
        return self.articles[int(self.passages["article"][p])]

    def article_sentences(self, pos: int) -> range:
        """The sentence ids of the article at position ``pos`` (rows are in article order)."""
        return _run(self.sentences["article"], pos)

    def article_passages(self, pos: int) -> range:
        """The passage ids of the article at position ``pos``."""
        return _run(self.passages["article"], pos)

    def article_paragraphs(self, pos: int) -> range:
        """The paragraph ids of the article at position ``pos``."""
        return _run(self.paragraphs["article"], pos)

    def sentence_text(self, i: int) -> str:
        s = self.sentences[i]
        return self.articles[int(s["article"])].text[int(s["start"]) : int(s["end"])]

    def passage_sentences(self, p: int) -> range:
        """The sentence ids of passage ``p``."""
        row = self.passages[p]
        return range(int(row["first"]), int(row["last"]))

    def heading(self, p: int) -> str:
        row = self.passages[p]
        start, end = int(row["heading_start"]), int(row["heading_end"])
        return self.articles[int(row["article"])].text[start:end] if start >= 0 else ""

    def question_headings(self) -> list[str]:
        """The section headings that are questions, in index order, each once."""
        return list(dict.fromkeys(h for p in range(len(self.passages)) if (h := self.heading(p)).endswith("?")))

    def passage_span(self, p: int) -> tuple[int, int]:
        row = self.passages[p]
        return int(self.sentences["start"][row["first"]]), int(self.sentences["end"][row["last"] - 1])

    def passage_text(self, p: int) -> str:
        start, end = self.passage_span(p)
        return self.article_of_passage(p).text[start:end]

    def paragraph_position(self, paragraph: int) -> tuple[int, int]:
        """``(k, n)``: paragraph ``paragraph`` (index-wide) is the k-th, from 1, of its article's n."""
        run = self.article_paragraphs(int(self.paragraphs["article"][paragraph]))
        return paragraph - run.start + 1, len(run)

    def all_passage_vectors(self) -> np.ndarray:
        """Every passage's vector, in passage order."""
        return self.passage_vectors.vectors(self.store_ids(np.arange(len(self.passages), dtype=np.int64)))

    @property
    def keyed(self) -> bool:
        """True if the vector store holds the passages under their keys, not their row numbers."""
        return self.manifest.get("passage_ids") == "keys"

    def serials(self) -> np.ndarray:
        """Each article's serial (see the module; -1 in an index written before serials)."""
        if self._serials is None:
            self._serials = np.array([int(a.get("serial", -1)) for a in self.manifest["articles"]], np.int64)
        return self._serials

    def passage_keys(self) -> np.ndarray:
        """Each passage's key: its article's serial times 65,536 plus its place in the article."""
        if self._keys is None:
            article = self.passages["article"]
            place = np.arange(len(article)) - np.searchsorted(article, article, side="left")
            self._keys = passage_key(self.serials()[article], place)
        return self._keys

    def store_ids(self, rows: np.ndarray) -> np.ndarray:
        """The vector store's ids of passage rows."""
        rows = np.asarray(rows, np.int64)
        return self.passage_keys()[rows] if self.keyed else rows

    def rows_of(self, ids: np.ndarray) -> np.ndarray:
        """The passage rows of vector-store ids (KeyError for an id of no passage)."""
        rows, known = self.find_rows(ids)
        if not known.all():
            raise KeyError(int(np.asarray(ids)[~known][0]))
        return rows

    def find_rows(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The passage rows of vector-store ids, and which ids are of a passage of this index (a
        store kept in place may hold a newer or an older build's too, for a moment)."""
        ids = np.asarray(ids, np.int64)
        if not self.keyed:
            return ids, (ids >= 0) & (ids < len(self.passages))
        keys = self.passage_keys()
        if not len(keys) or not len(ids):
            return np.zeros(len(ids), np.int64), np.zeros(len(ids), bool)
        if self._key_order is None:
            self._key_order = np.argsort(keys, kind="stable")
        rows = self._key_order[np.minimum(np.searchsorted(keys, ids, sorter=self._key_order), len(keys) - 1)]
        return rows, keys[rows] == ids


PLACES = 1 << 16  # passages an article may have under keys


def passage_key(serial: np.ndarray | int, place: np.ndarray | int) -> np.ndarray:
    """The key of the passage at ``place`` in the article version ``serial``."""
    return np.asarray(serial, np.int64) * PLACES + np.asarray(place, np.int64)


def _run(articles: np.ndarray, pos: int) -> range:
    """The rows of article ``pos`` in a column of article positions (ascending: an index is
    written an article at a time, in order)."""
    return range(int(np.searchsorted(articles, pos, side="left")), int(np.searchsorted(articles, pos, side="right")))
