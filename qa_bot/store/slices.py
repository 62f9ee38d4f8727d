"""An index cut into packets, one per article plus one index-wide, and a few packets put back
together as a small ``IndexData`` that answers exactly as the whole index would.

This is what lets an engine that holds the index (Milvus, ``store/served.py``) serve questions
on a machine without the index directory: per question the engine finds the passages and
returns the packets of their articles, and the answerer runs on the slice those make.

An **article packet** holds everything the answerer reads of one version of an article, and
nothing that depends on the rest of the index, so that it stays valid while other articles come
and go: its serial (store.data) and metadata and text, its sentences, paragraphs and passages
(positions local to the article), its sentence vectors (int8 and a scale per row), its sentences'
token states, and the serials of the articles that copy it. The **summary packet** holds what is
index-wide: the manifest, the acronyms, the BM25 vocabulary with each term's document frequency
and the mean passage length, the token vocabulary's frequencies and projection, the corpus's word
counts (spelling), each article's serial, metadata (without its text), first passage and packet
size, and the section headings that are questions (the chat's examples).

BM25, whose weights change with every article added, is scored from each candidate passage's
terms (which the engine returns with it) and the summary's statistics, with bm25s's arithmetic,
so a passage scores to the bit as in the whole index (``SlicedLexical``).

A packet is a JSON header and the bytes of its arrays (``_packet``; text as UTF-8 JSON in a uint8
array), nothing a reader could be made to execute.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..records import Article
from ..retrieval.acronyms import Acronyms
from .data import PARAGRAPH, PASSAGE, PLACES, SENTENCE, IndexData, columns, rows
from .lexical import LexicalIndex
from .manifest import REBUILD
from .quantised import quantise
from .token_states import Projection, TokenStore, adapter_for

_ARTICLE = ("id", "title", "text", "source", "url", "published", "author", "license")
K1, B = 1.5, 0.75  # bm25s's defaults, which the local index uses (store/lexical.py)


# ---------------------------------------------------------------------------------------- packing


def pack_summary(data: IndexData, parts: np.ndarray | None = None, generation: str = "") -> bytes:
    """The index-wide packet of ``data`` (generation ``generation``); ``parts``, if given, says in
    how many rows an engine holds each article's packet (so that it fetches them by key)."""
    from ..retrieval.spelling import words

    avgdl = data.manifest.get("bm25_avgdl")
    if avgdl is None:
        raise IndexCorruptError(f"the index{'' if data.path is None else ' in ' + str(data.path)} does not record "
                                f"its mean passage length (it was built before 2026-12-07); {REBUILD}")
    vocab, df = data.lexical.vocabulary()
    counts: Counter[str] = Counter()
    for a in data.articles:
        counts.update(words(a.text))
    manifest = {k: v for k, v in data.manifest.items() if k != "files"} | {"generation": generation}
    serials = data.serials()
    first = np.searchsorted(data.passages["article"], np.arange(len(data.articles)), side="left")
    arrays = {
        "manifest": _json(manifest), "acronyms": _json(data.acronyms.forms), "vocabulary": _json(vocab),
        "df": df.astype(np.int64), "counts": np.array([len(data.passages), len(data.sentences)], np.int64),
        "avgdl": np.array([avgdl], np.float64), "words": _json(counts), "headings": _json(data.question_headings()),
        "catalogue": _json([{k: getattr(a, k) for k in _ARTICLE if k != "text"} for a in data.articles]),
        "serials": serials, "first_passages": first.astype(np.int64), "groups": group_hashes(data),
    }
    if parts is not None:
        arrays["parts"] = np.asarray(parts, np.int64)
    if data.tokens is not None:
        arrays["token_df"] = data.tokens.df.astype(np.int64)
        if data.tokens.projection is not None:
            arrays["token_basis"] = data.tokens.projection.to_array()
    return _packet(arrays)


def pack_article(data: IndexData, pos: int) -> bytes:
    """The packet of the article at ``pos``."""
    article = data.articles[pos]
    serials = data.serials()
    sent, para, pas = data.article_sentences(pos), data.article_paragraphs(pos), data.article_passages(pos)
    sentences = columns(data.sentences[sent.start : sent.stop]).copy()
    sentences[:, 0] = 0
    sentences[:, 3] -= para.start
    paragraphs = columns(data.paragraphs[para.start : para.stop]).copy()
    paragraphs[:, 0] = 0
    passages = columns(data.passages[pas.start : pas.stop]).copy()
    passages[:, 0] = 0
    passages[:, 1:3] -= sent.start
    vectors, scales = quantise(np.asarray(data.sentence_vectors[sent.start : sent.stop], np.float32))
    arrays = {
        "article": _json({k: getattr(article, k) for k in _ARTICLE}), "serial": serials[pos : pos + 1],
        "sentences": sentences, "paragraphs": paragraphs, "passages": passages,
        "sentence_vectors": vectors, "sentence_scales": scales,
        "copies": np.array(sorted(serials[[pos, *data.copies_of(pos)]].tolist()), np.int64),
    }
    if data.tokens is not None:
        spans = data.tokens.bounds[sent.start : sent.stop]
        a, b = (int(spans[0, 0]), int(spans[-1, 1])) if len(spans) else (0, 0)
        arrays |= {"token_vectors": np.asarray(data.tokens.vectors[a:b]), "token_scales": data.tokens.scales[a:b],
                   "token_ids": data.tokens.ids[a:b].astype(np.int32),
                   "token_counts": (spans[:, 1] - spans[:, 0]).astype(np.int64)}
    return _packet(arrays)


# ---------------------------------------------------------------------------------------- reading


@dataclass
class Summary:
    """The index-wide packet, read."""

    manifest: dict[str, Any]
    acronyms: Acronyms
    vocabulary: dict[str, int]
    df: np.ndarray
    passages: int
    sentences: int
    avgdl: float
    words: Counter
    headings: list[str]
    catalogue: list[Article]  # every article's metadata, its text left empty, in index order
    serials: np.ndarray  # per article of the catalogue
    first_passages: np.ndarray  # per article of the catalogue, its first passage's row
    groups: np.ndarray  # per article of the catalogue, a hash of its copies' serials (group_hashes)
    parts: np.ndarray | None = None  # per article of the catalogue, the rows its packet takes in the engine
    token_df: np.ndarray | None = None
    projection: Projection | None = None
    adapter: np.ndarray | None = field(default=None, repr=False)
    position: dict[int, int] = field(default_factory=dict, repr=False)  # serial -> place in the catalogue

    def __post_init__(self) -> None:
        self.position = {int(s): i for i, s in enumerate(self.serials.tolist())}

    @classmethod
    def unpack(cls, packet: bytes) -> Summary:
        a = _arrays(packet, "the index summary")
        try:
            projection = Projection.from_array(a["token_basis"]) if "token_basis" in a else None
            vocabulary = _unjson(a["vocabulary"])
            return cls(
                manifest=_unjson(a["manifest"]), acronyms=Acronyms(_unjson(a["acronyms"])),
                vocabulary={t: i for i, t in enumerate(vocabulary)}, df=a["df"],
                passages=int(a["counts"][0]), sentences=int(a["counts"][1]), avgdl=float(a["avgdl"][0]),
                words=Counter(_unjson(a["words"])), headings=_unjson(a["headings"]),
                catalogue=[Article(text="", **m) for m in _unjson(a["catalogue"])],
                serials=a["serials"], first_passages=a["first_passages"], groups=a["groups"],
                parts=a.get("parts"),
                token_df=a.get("token_df"), projection=projection, adapter=adapter_for(projection),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorruptError(f"the index summary is malformed ({exc}); {REBUILD}") from None

    def lexical(self, terms: dict[int, str] | None = None, size: int = 0) -> SlicedLexical:
        return SlicedLexical(self, terms or {}, size)

    def shell(self) -> IndexData:
        """An ``IndexData`` with the index-wide parts only (no sentence, no passage): what reads
        questions (acronyms, dimension, model, BM25 vocabulary) and lists the articles (the
        catalogue: their text is empty)."""
        data = assemble(self, {})[0]
        data.articles = list(self.catalogue)
        return data


class SlicedLexical(LexicalIndex):
    """BM25 over some passages of a slice, with the whole index's statistics: each passage scores
    as it does in the whole index (``LexicalIndex``), its term weights computed as bm25s computes
    them (float32 IDF, float64 term-frequency part, float32 weight) from its terms."""

    def __init__(self, summary: Summary, terms: dict[int, str], size: int) -> None:
        # (no bm25s retriever: the weights come from each passage's terms)
        self._vocab, self._df, self.n_docs = summary.vocabulary, summary.df, summary.passages
        self.avgdl = summary.avgdl
        self._size = size
        postings: dict[int, tuple[list[int], list[float]]] = {}
        for p, text in terms.items():
            ids, weights = self._weights(text.split(" "))
            for t, w in zip(ids, weights.tolist()):
                entry = postings.setdefault(t, ([], []))
                entry[0].append(p)
                entry[1].append(w)
        self._postings = {t: (np.array(ps, np.int64), np.array(ws, np.float32)) for t, (ps, ws) in postings.items()}

    def _weights(self, terms: list[str]) -> tuple[list[int], np.ndarray]:
        counts = Counter(self._vocab[t] for t in terms if t in self._vocab)
        ids = list(counts)
        tf = np.array([counts[t] for t in ids], dtype=np.float32)
        idf = np.array([_idf(int(self._df[t]), self.n_docs) for t in ids], dtype=np.float32)
        tfc = tf / (K1 * ((1 - B) + B * len(terms) / np.float64(self.avgdl)) + tf)
        return ids, (idf * tfc).astype(np.float32)

    def _scores(self, terms: list[str], mask: np.ndarray | None) -> np.ndarray:
        # As bm25s adds them: float32, term by term in the question's order.
        scores = np.zeros(self._size, dtype=np.float32)
        for term in terms:
            t = self._vocab.get(term)
            if t is not None and t in self._postings:
                ps, ws = self._postings[t]
                np.add.at(scores, ps, ws)
        return scores if mask is None else scores * mask


def group_hashes(data: IndexData) -> np.ndarray:
    """Per article, a hash of the serials of its group of copies (itself included): an article
    whose hash changes between builds needs its packet written again."""
    serials = data.serials()
    out = np.zeros(len(data.articles), np.int64)
    for pos in range(len(data.articles)):
        members = sorted(serials[[pos, *data.copies_of(pos)]].tolist())
        digest = hashlib.blake2b(json.dumps(members).encode(), digest_size=8).digest()
        out[pos] = int.from_bytes(digest, "little") >> 1
    return out


def _idf(df: int, n: int) -> float:
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


@dataclass
class Slice:
    """A few articles of an index as an ``IndexData``, and where its passages stand in the whole."""

    data: IndexData
    serials: np.ndarray  # per article of the slice, its serial
    starts: np.ndarray  # per article of the slice, its first passage in the slice
    first_rows: np.ndarray  # per article of the slice, its first passage's row in the whole index (-1: unknown)
    _article: dict[int, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        self._article = {int(s): i for i, s in enumerate(self.serials.tolist())}

    def local(self, keys: np.ndarray) -> np.ndarray:
        """The slice's ids of passage keys (store.data; each must be in the slice)."""
        keys = np.asarray(keys, np.int64)
        art = np.array([self._article[int(k)] for k in (keys // PLACES).tolist()], np.int64)
        return self.starts[art] + keys % PLACES if len(keys) else np.empty(0, np.int64)

    def holds(self, keys: np.ndarray) -> np.ndarray:
        """Which passage keys the slice holds (a mask)."""
        return np.array([int(k) in self._article for k in (np.asarray(keys, np.int64) // PLACES).tolist()], bool)

    def whole(self, passages: np.ndarray) -> np.ndarray:
        """The whole index's rows of slice passage ids (-1 for an article newer than the summary)."""
        passages = np.asarray(passages, np.int64)
        art = self.data.passages["article"][passages]
        first = self.first_rows[art]
        return np.where(first >= 0, first + passages - self.starts[art], -1)


def member_serials(packets) -> list[int]:
    """The serials of every article the packets name as copies of theirs (themselves included)."""
    found: set[int] = set()
    for packet in packets:
        found.update(_arrays(packet, "an article")["copies"].tolist())
    return sorted(found)


def assemble(summary: Summary, packets: dict[int, bytes], terms: dict[int, str] | None = None
             ) -> tuple[IndexData, Slice]:
    """The slice made of article ``packets`` (by serial), in the whole index's order (articles
    newer than the summary last). ``terms``: the BM25 terms of passages (by key) to score."""
    order = sorted(packets, key=lambda s: (summary.position.get(s, len(summary.serials)), s))
    parts = [_arrays(packets[serial], f"article {serial}") for serial in order]
    local = {serial: i for i, serial in enumerate(order)}
    articles, sentences, paragraphs, passages, vectors, copies, starts = [], [], [], [], [], [], []
    tokens: dict[str, list[np.ndarray]] = {"vectors": [], "scales": [], "ids": [], "counts": []}
    n_sent = n_para = n_pas = 0
    dim = int(summary.manifest["model"]["dimension"])
    for i, (serial, a) in enumerate(zip(order, parts)):
        try:
            articles.append(Article(**_unjson(a["article"])))
            s, g, p = a["sentences"].copy(), a["paragraphs"].copy(), a["passages"].copy()
            s[:, 0], g[:, 0], p[:, 0] = i, i, i
            s[:, 3] += n_para
            p[:, 1:3] += n_sent
            sentences.append(s)
            paragraphs.append(g)
            passages.append(p)
            vectors.append(a["sentence_vectors"].astype(np.float32) * a["sentence_scales"][:, None])
            held = [local[m] for m in a["copies"].tolist() if m in local]
            copies.append(min(held) if held else i)
            if summary.token_df is not None:
                for key in tokens:
                    tokens[key].append(a[f"token_{key}"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise IndexCorruptError(f"the packet of article {serial} is malformed ({exc}); {REBUILD}") from None
        starts.append(n_pas)
        n_sent += len(s)
        n_para += len(g)
        n_pas += len(p)
    token_store = None
    if summary.token_df is not None:
        width = summary.projection.basis.shape[1] if summary.projection is not None else dim
        counts = _cat(tokens["counts"], np.int64)
        token_store = TokenStore(
            _stack(tokens["vectors"], width, np.int8), _cat(tokens["scales"], np.float32),
            _cat(tokens["ids"], np.int32), TokenStore.bounds_of(counts), summary.token_df, summary.projection,
            summary.adapter, total=summary.sentences,
        )
    serials = np.array(order, np.int64)
    starts_arr = np.array(starts, np.int64)
    at = [summary.position.get(serial) for serial in order]
    first_rows = np.array([-1 if x is None else int(summary.first_passages[x]) for x in at], np.int64)
    piece_terms = {}
    if terms and order:
        art = {serial: i for i, serial in enumerate(order)}
        piece_terms = {int(starts_arr[art[k // PLACES]] + k % PLACES): text for k, text in terms.items()
                       if k // PLACES in art}
    data = IndexData(
        manifest=summary.manifest, articles=articles, sentences=rows(_stack(sentences, 4), SENTENCE),
        paragraphs=rows(_stack(paragraphs, 3), PARAGRAPH), passages=rows(_stack(passages, 5), PASSAGE),
        sentence_vectors=_stack(vectors, dim, np.float32), passage_vectors=None,  # type: ignore[arg-type]
        lexical=summary.lexical(piece_terms, n_pas), tokens=token_store, acronyms=summary.acronyms,
        copies=np.array(copies, np.int64) if order else None,
    )
    return data, Slice(data, serials, starts_arr, first_rows)


# ---------------------------------------------------------------------------------------- helpers


def _json(value: Any) -> np.ndarray:
    return np.frombuffer(json.dumps(value, ensure_ascii=False).encode("utf-8"), dtype=np.uint8)


def _unjson(array: np.ndarray) -> Any:
    return json.loads(array.tobytes().decode("utf-8"))


def _packet(arrays: dict[str, np.ndarray]) -> bytes:
    """The arrays as one packet: a 4-byte header length, a JSON header (each array's name, type,
    shape and offset), then the arrays' bytes, read back without copying (``_arrays``): an ``.npz``
    cost about a millisecond a packet to open, most of a served question's assembly."""
    header, offset, blobs = {}, 0, []
    for name, array in arrays.items():
        array = np.ascontiguousarray(array)
        header[name] = [array.dtype.str, list(array.shape), offset]
        padded = -array.nbytes % 8  # each array starts 8-byte aligned
        blobs.append(array.tobytes() + bytes(padded))
        offset += array.nbytes + padded
    head = json.dumps(header).encode("utf-8")
    return len(head).to_bytes(4, "little") + head + b"".join(blobs)


def _arrays(packet: bytes, what: str) -> dict[str, np.ndarray]:
    try:
        size = int.from_bytes(packet[:4], "little")
        header = json.loads(packet[4 : 4 + size].decode("utf-8"))
        body = memoryview(packet)[4 + size :]
        out = {}
        for name, (kind, shape, offset) in header.items():
            dtype = np.dtype(kind)
            if dtype.hasobject:
                raise ValueError(f"{name} holds objects")
            count = int(np.prod(shape, dtype=np.int64))
            out[name] = np.frombuffer(body, dtype=dtype, count=count, offset=offset).reshape(shape)
        return out
    except (ValueError, TypeError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"the packet of {what} is unreadable ({exc}); {REBUILD}") from None


def _stack(parts: list[np.ndarray], width: int, dtype=np.int64) -> np.ndarray:
    return np.vstack(parts).astype(dtype, copy=False) if parts else np.empty((0, width), dtype)


def _cat(parts: list[np.ndarray], dtype) -> np.ndarray:
    return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)
