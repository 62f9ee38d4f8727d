"""An index cut into packets, one per article plus one index-wide, and a few packets put back
together as a small ``IndexData`` that answers exactly as the whole index would.

This is what lets an engine that holds the index (Milvus, ``store/served.py``) serve questions
on a machine without the index directory: per question the engine finds the passages and
returns the packets of their articles, and the answerer runs on the slice those make.

An **article packet** holds everything the answerer reads of one article: its metadata and text,
its sentences, paragraphs and passages (positions local to the article), its sentence vectors
(int8 and a scale per row), its sentences' token states, each passage's BM25 term weights (the
bm25s index's own float32 entries, so a slice scores BM25 to the bit), and the positions of the
articles that copy it. The **summary packet** holds what is index-wide: the manifest, the
acronyms, the BM25 vocabulary with each term's document frequency, the token vocabulary's
frequencies and projection, the corpus's word counts (spelling), each article's metadata
without its text, and the section headings that are questions (the chat's examples).

A packet is a JSON header and the bytes of its arrays (``_npz``; text as UTF-8 JSON in a uint8
array), nothing a reader could be made to execute.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from ..records import Article
from ..retrieval.acronyms import Acronyms
from .data import PARAGRAPH, PASSAGE, SENTENCE, IndexData, columns, rows
from .lexical import LexicalIndex
from .manifest import REBUILD
from .quantised import quantise
from .token_states import Projection, TokenStore, adapter_for

_ARTICLE = ("id", "title", "text", "source", "url", "published", "author")


# ---------------------------------------------------------------------------------------- packing


def pack_summary(data: IndexData, parts: np.ndarray | None = None) -> bytes:
    """The index-wide packet of ``data``; ``parts``, if given, says in how many rows an engine
    holds each article's packet (so that it fetches them by key)."""
    from ..retrieval.spelling import words

    vocab, df = data.lexical.vocabulary()
    counts: Counter[str] = Counter()
    for a in data.articles:
        counts.update(words(a.text))
    headings = list(dict.fromkeys(h for p in range(len(data.passages)) if (h := data.heading(p)).endswith("?")))
    manifest = {k: v for k, v in data.manifest.items() if k != "files"}
    arrays = {
        "manifest": _json(manifest), "acronyms": _json(data.acronyms.forms), "vocabulary": _json(vocab),
        "df": df.astype(np.int64), "counts": np.array([len(data.passages), len(data.sentences)], np.int64),
        "words": _json(counts), "headings": _json(headings),
        "catalogue": _json([{k: getattr(a, k) for k in _ARTICLE if k != "text"} for a in data.articles]),
    }
    if parts is not None:
        arrays["parts"] = np.asarray(parts, np.int64)
    if data.tokens is not None:
        arrays["token_df"] = data.tokens.df.astype(np.int64)
        if data.tokens.projection is not None:
            arrays["token_basis"] = data.tokens.projection.to_array()
    return _packet(arrays)


def pack_article(data: IndexData, pos: int, terms: tuple[np.ndarray, np.ndarray, np.ndarray]) -> bytes:
    """The packet of the article at ``pos``; ``terms`` is ``data.lexical.passage_terms()``."""
    article = data.articles[pos]
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
    bounds, ids, weights = terms
    lo, hi = int(bounds[pas.start]), int(bounds[pas.stop])
    arrays = {
        "article": _json({k: getattr(article, k) for k in _ARTICLE}),
        "sentences": sentences, "paragraphs": paragraphs, "passages": passages,
        "first_passage": np.array([pas.start], np.int64),
        "sentence_vectors": vectors, "sentence_scales": scales,
        "term_counts": np.diff(bounds[pas.start : pas.stop + 1]).astype(np.int64),
        "term_ids": ids[lo:hi].astype(np.int32), "term_weights": weights[lo:hi].astype(np.float32),
        "copies": np.array(sorted([pos, *data.copies_of(pos)]), np.int64),
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
    words: Counter
    headings: list[str]
    catalogue: list[Article]  # every article's metadata, its text left empty
    parts: np.ndarray | None = None  # per article, the rows its packet takes in the engine
    token_df: np.ndarray | None = None
    projection: Projection | None = None
    adapter: np.ndarray | None = field(default=None, repr=False)

    @classmethod
    def unpack(cls, packet: bytes) -> Summary:
        a = _arrays(packet, "the index summary")
        try:
            projection = Projection.from_array(a["token_basis"]) if "token_basis" in a else None
            vocabulary = _unjson(a["vocabulary"])
            return cls(
                manifest=_unjson(a["manifest"]), acronyms=Acronyms(_unjson(a["acronyms"])),
                vocabulary={t: i for i, t in enumerate(vocabulary)}, df=a["df"],
                passages=int(a["counts"][0]), sentences=int(a["counts"][1]), words=Counter(_unjson(a["words"])),
                headings=_unjson(a["headings"]),
                catalogue=[Article(text="", **m) for m in _unjson(a["catalogue"])],
                parts=a.get("parts"), token_df=a.get("token_df"), projection=projection,
                adapter=adapter_for(projection),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise IndexCorruptError(f"the index summary is malformed ({exc}); {REBUILD}") from None

    def lexical(self, passages: list[tuple[np.ndarray, np.ndarray]] = ()) -> SlicedLexical:
        return SlicedLexical(self.vocabulary, self.df, self.passages, passages)

    def shell(self) -> IndexData:
        """An ``IndexData`` with the index-wide parts only (no sentence, no passage): what reads
        questions (acronyms, dimension, model, BM25 vocabulary) and lists the articles (the
        catalogue: their text is empty)."""
        data = assemble(self, {})[0]
        data.articles = list(self.catalogue)
        return data


class SlicedLexical(LexicalIndex):
    """BM25 over the passages of a slice, with the whole index's vocabulary and document
    frequencies: each passage scores as it does in the whole index (``LexicalIndex``), because
    its term weights are the whole index's."""

    def __init__(self, vocab: dict[str, int], df: np.ndarray, total: int,
                 passage_terms: list[tuple[np.ndarray, np.ndarray]]) -> None:
        # (no bm25s retriever: the scores come from the term weights of the slice's passages)
        self._vocab, self._df, self.n_docs = vocab, df, total
        self._size = len(passage_terms)
        postings: dict[int, tuple[list[int], list[float]]] = {}
        for p, (ids, weights) in enumerate(passage_terms):
            for t, w in zip(ids.tolist(), weights.tolist()):
                entry = postings.setdefault(t, ([], []))
                entry[0].append(p)
                entry[1].append(w)
        self._postings = {t: (np.array(ps, np.int64), np.array(ws, np.float32)) for t, (ps, ws) in postings.items()}

    def _scores(self, terms: list[str], mask: np.ndarray | None) -> np.ndarray:
        # As bm25s adds them: float32, term by term in the question's order.
        scores = np.zeros(self._size, dtype=np.float32)
        for term in terms:
            t = self._vocab.get(term)
            if t is not None and t in self._postings:
                ps, ws = self._postings[t]
                np.add.at(scores, ps, ws)
        return scores if mask is None else scores * mask


@dataclass
class Slice:
    """A few articles of an index as an ``IndexData``, and where its passages stand in the whole."""

    data: IndexData
    first_passages: np.ndarray  # per article of the slice, its first passage's id in the whole index
    positions: np.ndarray  # per article of the slice, its position in the whole index

    def local(self, passages: np.ndarray) -> np.ndarray:
        """The slice's ids of whole-index passage ids (each must be in the slice)."""
        passages = np.asarray(passages, np.int64)
        art = np.searchsorted(self.first_passages, passages, side="right") - 1
        starts = self._starts()
        return starts[art] + passages - self.first_passages[art]

    def whole(self, passages: np.ndarray) -> np.ndarray:
        """The whole index's ids of slice passage ids."""
        passages = np.asarray(passages, np.int64)
        art = self.data.passages["article"][passages]
        return self.first_passages[art] + passages - self._starts()[art]

    def _starts(self) -> np.ndarray:
        return np.searchsorted(self.data.passages["article"], np.arange(len(self.positions)), side="left")


def member_positions(packets) -> list[int]:
    """The positions of every article the packets name as copies of theirs (themselves included)."""
    found: set[int] = set()
    for packet in packets:
        found.update(_arrays(packet, "an article")["copies"].tolist())
    return sorted(found)


def assemble(summary: Summary, packets: dict[int, bytes]) -> tuple[IndexData, Slice]:
    """The slice made of article ``packets`` (by whole-index position), in position order."""
    order = sorted(packets)
    parts = [_arrays(packets[pos], f"article {pos}") for pos in order]
    local = {pos: i for i, pos in enumerate(order)}
    articles, sentences, paragraphs, passages, vectors, terms, copies = [], [], [], [], [], [], []
    tokens: dict[str, list[np.ndarray]] = {"vectors": [], "scales": [], "ids": [], "counts": []}
    n_sent = n_para = 0
    dim = int(summary.manifest["model"]["dimension"])
    for i, (pos, a) in enumerate(zip(order, parts)):
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
            bounds = np.r_[0, np.cumsum(a["term_counts"])]
            terms += [(a["term_ids"][x:y], a["term_weights"][x:y]) for x, y in zip(bounds[:-1], bounds[1:])]
            held = [local[m] for m in a["copies"].tolist() if m in local]
            copies.append(min(held) if held else i)
            if summary.token_df is not None:
                for key in tokens:
                    tokens[key].append(a[f"token_{key}"])
        except (KeyError, TypeError, ValueError, IndexError) as exc:
            raise IndexCorruptError(f"the packet of article {pos} is malformed ({exc}); {REBUILD}") from None
        n_sent += len(s)
        n_para += len(g)
    sentences_arr = rows(_stack(sentences, 4), SENTENCE)
    token_store = None
    if summary.token_df is not None:
        width = summary.projection.basis.shape[1] if summary.projection is not None else dim
        counts = _cat(tokens["counts"], np.int64)
        token_store = TokenStore(
            _stack(tokens["vectors"], width, np.int8), _cat(tokens["scales"], np.float32),
            _cat(tokens["ids"], np.int32), TokenStore.bounds_of(counts), summary.token_df, summary.projection,
            summary.adapter, total=summary.sentences,
        )
    data = IndexData(
        manifest=summary.manifest, articles=articles, sentences=sentences_arr,
        paragraphs=rows(_stack(paragraphs, 3), PARAGRAPH), passages=rows(_stack(passages, 5), PASSAGE),
        sentence_vectors=_stack(vectors, dim, np.float32), passage_vectors=None,  # type: ignore[arg-type]
        lexical=summary.lexical(terms), tokens=token_store, acronyms=summary.acronyms,
        copies=np.array(copies, np.int64) if order else None,
    )
    first = np.array([int(a["first_passage"][0]) for a in parts], np.int64)
    return data, Slice(data, first, np.array(order, np.int64))


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
