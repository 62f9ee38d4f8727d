"""The Milvus vector store: passage vectors in a Milvus collection, on a server or cluster
(``milvus://HOST:PORT/COLLECTION``) or in Milvus Lite (``milvus-lite://PATH``), through the same
pymilvus calls.

Beside each vector the collection keeps the passage's BM25 terms (the index's own tokens, joined
by spaces and split again by Milvus's standard tokenizer, so both BM25s count the same terms), which a
Milvus BM25 function turns into a sparse vector, and its article, outlet and published day as
scalar fields. A question is then one ``hybrid_search``: a dense request per reading of the
question and a BM25 request, fused by Milvus's ``RRFRanker`` (k = 60, as the local fusion), under a
filter expression over the outlet and day fields (``filter_expression``), one round trip.

A first build (or one with another model) writes a new collection, named after the location's
collection and a random suffix, and records it in the generation's ``milvus.json``; later builds
write into it in place (``in_place``, ``update``: the rows of what changed, under passage keys,
store.data), a failed one deleting the rows it wrote. A removed generation's collection that is
not the live one is retired and dropped a build later (``milvus_retired``: chats reading from
Milvus alone may still be on it). Vectors are stored as float32 exactly (FLAT inner-product index
in Milvus Lite; AUTOINDEX on a server) under their ids, read with Strong consistency, so a search
sees every vector written before it.

pymilvus is an extra (``pip install 'qa-bot[milvus]'``), imported here and in ``store/served.py``
only, and only when a Milvus store is used.
"""

from __future__ import annotations

import json
import logging
import os
import re
import secrets
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import StoreUnavailableError
from .base import Blocks, Fields, RowState, as_blocks, check_rows

FILE = "milvus.json"
TEXT_BYTES = 65_535  # Milvus's longest VARCHAR
INSTALL = "pip install 'qa-bot[milvus]'"
BATCH = 2_000  # rows per insert or read (a gRPC message stays far below its 64 MB limit)
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,200}$")
DEFAULT_COLLECTION = "qa_bot_passages"


@dataclass(frozen=True)
class MilvusLocation:
    """Where the vectors live: ``uri`` as pymilvus takes it (a Milvus Lite file path, or
    ``http://HOST:PORT``) and the collection name that generations are named after."""

    uri: str
    collection: str
    lite: bool

    @classmethod
    def parse(cls, spec: str) -> MilvusLocation:
        """``milvus-lite://PATH`` or ``milvus://HOST:PORT/COLLECTION`` (ValueError naming the form otherwise)."""
        if spec.startswith("milvus-lite://"):
            path = spec[len("milvus-lite://"):]
            if not path:
                raise ValueError(f"{spec!r} names no file: write milvus-lite://PATH, e.g. milvus-lite://./index.db")
            return cls(str(Path(path).expanduser().resolve()), DEFAULT_COLLECTION, True)
        m = re.fullmatch(r"milvus://([^/:]+)(?::(\d+))?(?:/([^/]*))?", spec)
        if m is None:
            raise ValueError(f"{spec!r} is not a Milvus location: write milvus://HOST:PORT/COLLECTION "
                             "or milvus-lite://PATH")
        collection = m.group(3) or DEFAULT_COLLECTION
        if not _NAME.match(collection):
            raise ValueError(f"{collection!r} is not a Milvus collection name: letters, digits and underscores, "
                             "not starting with a digit")
        return cls(f"http://{m.group(1)}:{m.group(2) or 19530}", collection, False)

    @property
    def spec(self) -> str:
        """The location as ``parse`` reads it."""
        if self.lite:
            return f"milvus-lite://{self.uri}"
        return f"milvus://{self.uri.removeprefix('http://')}/{self.collection}"


_CLIENTS: dict[str, Any] = {}


class _LiteTimestampNoise(logging.Filter):
    """Milvus Lite has no AllocTimestamp call; pymilvus's query iterator asks for it, falls back to
    a client-side timestamp (as it says in a warning) and the in-process gRPC server logs the
    refusal as an error with a traceback. That one record is dropped; every other stays."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.getMessage().startswith("Exception calling application: Method not implemented")
                    and record.exc_info is not None and "AllocTimestamp" in "".join(
                        traceback.format_exception(*record.exc_info)))


def client(uri: str):
    """One pymilvus client per location in a process (Milvus Lite serves one file to one client)."""
    if uri not in _CLIENTS:
        try:
            from pymilvus import MilvusClient
        except ImportError:
            raise ImportError(f"the Milvus store needs pymilvus: {INSTALL}") from None
        lite = not uri.startswith("http")
        if lite:
            logging.getLogger("grpc._server").addFilter(_LiteTimestampNoise())
        try:
            _CLIENTS[uri] = MilvusClient(uri=uri, token=os.environ.get("QA_BOT_MILVUS_TOKEN", ""))
        except Exception as exc:  # pymilvus and Milvus Lite raise several kinds
            if lite:  # pymilvus says only "Open local milvus failed"; Milvus Lite logs why
                raise StoreUnavailableError(
                    f"cannot open the Milvus Lite file {uri}: it is open in another process (Milvus Lite serves "
                    "one process at a time) or damaged; stop the process using it (a running chat or build) or "
                    "use a Milvus server, then try again"
                ) from None
            raise StoreUnavailableError(
                f"cannot use Milvus at {uri} ({exc}): check the address, that the server is running and, "
                "if it asks for one, the token in QA_BOT_MILVUS_TOKEN"
            ) from None
    return _CLIENTS[uri]


class MilvusVectorStore:
    """Passage vectors in one Milvus collection (``VectorStore``)."""

    kind = "milvus"
    searches_text = True  # it takes ``Fields`` at build and answers ``hybrid`` (retrieval.hybrid)

    def __init__(self, dimension: int, location: MilvusLocation, collection: str | None = None) -> None:
        self._dimension = int(dimension)
        self.location = location
        self.collection = collection  # None until the first build
        self._count = 0 if collection is None else None
        self._in_place = False  # a build writes into ``collection`` (``update``) rather than a new one
        self._written: list[np.ndarray] = []  # the new rows an in-place build wrote (deleted if it fails)

    def in_place(self) -> MilvusVectorStore:
        """A store writing into this one's collection: a build that keeps the rows it does not
        change (``update``), instead of writing every row into a new collection (``build``)."""
        store = MilvusVectorStore(self._dimension, self.location, self.collection)
        store._in_place = True
        return store

    def update(self, ids: np.ndarray, vectors: np.ndarray | Blocks, fields: Fields | None,
               states: np.ndarray) -> None:
        """Write the rows whose state is ``NEW`` or ``CHANGED`` (``base.RowState``) into the collection
        held, each replacing any row of its id; ``KEPT`` rows are left as they are, and their vectors,
        which are not read, may be anything. Run on an ``in_place`` store; a failure removes the new
        rows written."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        states = np.asarray(states).reshape(-1)
        if not self._in_place or self.collection is None or len(states) != len(ids):
            raise ValueError("update needs an in_place store and a state per id")
        try:
            self._write(ids, vectors, fields, states)
        except BaseException:
            self.discard()
            raise
        self._count = None

    # ------------------------------------------------------------------ contents

    @property
    def dimension(self) -> int:
        return self._dimension

    @property
    def precision(self) -> float:
        return 0.0  # float32 vectors, stored as given

    def __len__(self) -> int:
        if self.collection is None:
            return 0
        if self._count is None:
            rows = self._client.query(self.collection, filter="", output_fields=["count(*)"])
            self._count = int(rows[0]["count(*)"])
        return self._count

    @property
    def _client(self):
        return client(self.location.uri)

    def build(self, ids: np.ndarray, vectors: np.ndarray | Blocks, fields: Fields | None = None) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if len(np.unique(ids)) != len(ids):
            raise ValueError("ids must be unique")
        old, self.collection = self.collection, self._create()
        try:
            added = self._write(ids, vectors, fields)
        except BaseException:
            self.discard()
            self.collection = old
            raise
        self._count = added
        if old is not None:
            self._client.drop_collection(old)

    def append(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        ids, vectors = check_rows(ids, vectors, self._dimension)
        if self.collection is None:
            self.build(ids, vectors)
            return
        held = self._held(ids)
        if len(held):
            raise ValueError(f"ids already held: {held[:5].tolist()}{' …' if len(held) > 5 else ''}")
        self._insert(ids, vectors)
        self._seal()
        self._count = None

    def delete(self, ids: np.ndarray) -> None:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if self.collection is None or not len(ids):
            return
        for lo in range(0, len(ids), BATCH):
            self._client.delete(self.collection, ids=ids[lo : lo + BATCH].tolist())
        self._seal()
        self._count = None

    def ids(self) -> np.ndarray:
        if self.collection is None:
            return np.empty(0, np.int64)
        found: list[int] = []
        batches = self._client.query_iterator(self.collection, batch_size=BATCH, filter="", output_fields=["id"])
        try:
            while batch := batches.next():
                found += [row["id"] for row in batch]
        finally:
            batches.close()
        return np.sort(np.array(found, dtype=np.int64))

    def holds_rows(self, n: int) -> bool:
        """Two counts, not a scan of every id (which took a minute at 200,000 passages in Milvus
        Lite): as many rows as ``n``, all of them with an id from 0 to ``n - 1``."""
        if self.collection is None:
            return n == 0
        inside = self._client.query(self.collection, filter=f"id >= 0 and id < {int(n)}", output_fields=["count(*)"])
        return len(self) == n and int(inside[0]["count(*)"]) == n

    def vectors(self, ids: np.ndarray) -> np.ndarray:
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids):
            return np.empty((0, self._dimension), dtype=np.float32)
        by_id: dict[int, list[float]] = {}
        if self.collection is not None:
            unique = np.unique(ids)
            for lo in range(0, len(unique), BATCH):
                for row in self._client.get(self.collection, ids=unique[lo : lo + BATCH].tolist(),
                                            output_fields=["dense"]):
                    by_id[int(row["id"])] = row["dense"]
        missing = [i for i in ids.tolist() if i not in by_id]
        if missing:
            raise KeyError(missing[0])
        return np.array([by_id[i] for i in ids.tolist()], dtype=np.float32).reshape(-1, self._dimension)

    def search(
        self, queries: np.ndarray, k: int, allowed: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        queries = np.ascontiguousarray(queries, dtype=np.float32).reshape(-1, self._dimension)
        scores = np.full((len(queries), k), -np.inf, dtype=np.float32)
        out = np.full((len(queries), k), -1, dtype=np.int64)
        if self.collection is None or not len(queries) or k < 1:
            return scores, out
        kept = None if allowed is None else np.unique(np.asarray(allowed, dtype=np.int64).reshape(-1))
        if kept is not None and not len(kept):
            return scores, out
        # The engine evaluates the filter: an id list here (the protocol's), scalar fields later.
        expression = "" if kept is None else f"id in [{','.join(map(str, kept.tolist()))}]"
        limit = min(k, len(self) if kept is None else len(kept), 16_384)  # Milvus's topk limit
        if limit < 1:
            return scores, out
        hits = self._client.search(self.collection, data=queries.tolist(), anns_field="dense", limit=limit,
                                   filter=expression, output_fields=[], search_params={"metric_type": "IP"})
        for row, found in enumerate(hits):
            ranked = sorted(((float(h["distance"]), int(h["id"])) for h in found), key=lambda h: (-h[0], h[1]))
            for col, (score, pid) in enumerate(ranked[:k]):
                scores[row, col], out[row, col] = score, pid
        return scores, out

    def hybrid(self, readings: np.ndarray, terms: str, depth: int, k: int, expression: str = "",
               rrf_k: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, list[str]]:
        """The ``k`` best passages for one question, fused in Milvus: (ids, RRF scores, their vectors,
        their articles, their BM25 terms joined by spaces).

        ``readings`` holds the question's vectors (one per reading), each a dense request for the
        ``depth`` nearest; ``terms`` its BM25 terms joined by spaces, a BM25 request for the
        ``depth`` best (none when empty); ``expression`` filters both."""
        from pymilvus import AnnSearchRequest, RRFRanker

        empty = (np.empty(0, np.int64), np.empty(0, np.float64), np.empty((0, self._dimension), np.float32),
                 np.empty(0, np.int64), [])
        if self.collection is None or depth < 1 or k < 1:
            return empty
        requests = [AnnSearchRequest([row.tolist()], "dense", {"metric_type": "IP"}, limit=depth, expr=expression)
                    for row in np.asarray(readings, dtype=np.float32).reshape(-1, self._dimension)]
        if terms.strip():
            requests.append(AnnSearchRequest([terms], "sparse", {"metric_type": "BM25"}, limit=depth,
                                             expr=expression))
        hits = self._client.hybrid_search(self.collection, requests, RRFRanker(rrf_k), limit=min(k, 16_384),
                                          output_fields=["dense", "article", "text"])[0]
        ranked = sorted(((float(h["distance"]), int(h["id"]), h["entity"]) for h in hits),
                        key=lambda h: (-round(h[0], 12), h[1]))  # ties to the smaller id, as rrf()
        if not ranked:
            return empty
        return (np.array([h[1] for h in ranked], np.int64), np.array([h[0] for h in ranked], np.float64),
                np.array([h[2]["dense"] for h in ranked], np.float32).reshape(-1, self._dimension),
                np.array([h[2]["article"] for h in ranked], np.int64), [h[2]["text"] for h in ranked])

    # ------------------------------------------------------------------ files

    def save(self, directory: Path) -> None:
        if self.collection is None:
            self.build(np.empty(0, np.int64), np.empty((0, self._dimension), np.float32))
        record = {"uri": self.location.uri, "collection": self.collection, "lite": self.location.lite,
                  "base": self.location.collection, "dimension": self._dimension}
        (Path(directory) / FILE).write_text(json.dumps(record, indent=1), encoding="utf-8")

    @staticmethod
    def recorded_location(directory: Path) -> str:
        """The location (``MilvusLocation.spec``) a generation's store was written to; ValueError if unreadable."""
        try:
            record = json.loads((Path(directory) / FILE).read_text(encoding="utf-8"))
            return MilvusLocation(record["uri"], record["base"], bool(record["lite"])).spec
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{FILE} is unreadable ({exc})") from None

    @classmethod
    def load(cls, directory: Path, dimension: int) -> MilvusVectorStore:
        """The store a generation recorded; ValueError if the record or its collection is missing."""
        try:
            record = json.loads((Path(directory) / FILE).read_text(encoding="utf-8"))
            location = MilvusLocation(record["uri"], record["base"], bool(record["lite"]))
            collection = record["collection"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{FILE} is unreadable ({exc})") from None
        if int(record.get("dimension", dimension)) != dimension:
            raise ValueError(f"holds {record['dimension']}-dimensional vectors, not {dimension}-dimensional ones")
        store = cls(dimension, location, collection)
        if not store._client.has_collection(collection):
            raise ValueError(f"collection {collection!r} is missing from {location.uri}")
        # A collection another process wrote (or a restarted server holds) is released: searched
        # only once loaded into memory again.
        store._client.load_collection(collection)
        return store

    def record(self, about: dict[str, Any]) -> None:
        """Write ``about`` (the index's model, dimension, generation) into the collection's
        properties, so the collection says what it holds wherever it is opened from."""
        self._client.alter_collection_properties(
            self.collection, properties={f"qa_bot.{k}": json.dumps(v) for k, v in about.items()})

    def recorded(self) -> dict[str, Any]:
        """What ``record`` wrote into the collection (empty for a collection written before)."""
        properties = self._client.describe_collection(self.collection).get("properties") or {}
        return {k[len("qa_bot."):]: json.loads(v) for k, v in properties.items() if k.startswith("qa_bot.")}

    def discard(self) -> None:
        """Undo a build that failed: drop the collection it wrote and the packets published beside
        it (``store/served.py``), or, in place, delete the new rows it wrote."""
        if self._in_place:
            self.delete(np.concatenate(self._written) if self._written else np.empty(0, np.int64))
            self._written = []
        elif self.collection is not None:
            drop(self._client, self.collection)

    # ------------------------------------------------------------------ internals

    def _create(self) -> str:
        from pymilvus import DataType, Function, FunctionType

        name = f"{self.location.collection}_{secrets.token_hex(4)}"
        schema = self._client.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("dense", DataType.FLOAT_VECTOR, dim=self._dimension)
        # The index's BM25 terms (word characters only, lower-cased, stemmed), which the standard
        # tokenizer splits where they were joined: Milvus counts the terms bm25s counts. (Milvus
        # Lite knows no white-space tokenizer.)
        schema.add_field("text", DataType.VARCHAR, max_length=TEXT_BYTES, enable_analyzer=True,
                         analyzer_params={"tokenizer": "standard"})
        schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
        schema.add_field("article", DataType.INT64)
        schema.add_field("source", DataType.VARCHAR, max_length=1024)
        schema.add_field("day", DataType.VARCHAR, max_length=16)
        schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["text"],
                                     output_field_names=["sparse"]))
        index = self._client.prepare_index_params()
        index.add_index("dense", index_type="FLAT" if self.location.lite else "AUTOINDEX", metric_type="IP")
        # bm25s's defaults (k1 1.5, b 0.75), so both rank alike
        index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                        params={"bm25_k1": 1.5, "bm25_b": 0.75})
        self._client.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        return name

    def _write(self, ids: np.ndarray, vectors: np.ndarray | Blocks, fields: Fields | None,
               states: np.ndarray | None = None) -> int:
        """Write ``vectors`` a block at a time under ``ids`` and seal them; with ``states``
        (``update``) only the rows not ``KEPT``, each replacing any row of its id. Returns the rows given."""
        done = 0
        for block in as_blocks(vectors)():
            block_ids, block = check_rows(ids[done : done + len(block)], block, self._dimension)
            if states is None:
                self._insert(block_ids, block, fields)
            else:
                part = states[done : done + len(block)]
                write = part != RowState.KEPT
                if write.any():
                    self._written.append(block_ids[part == RowState.NEW])
                    self._insert(block_ids[write], block[write], fields, upsert=True)
            done += len(block)
        if done != len(ids):
            raise ValueError(f"got {len(ids)} ids for {done} vectors")
        self._seal()
        return done

    def _insert(self, ids: np.ndarray, vectors: np.ndarray, fields: Fields | None = None, *,
                upsert: bool = False) -> None:
        for lo in range(0, len(ids), BATCH):
            chunk = ids[lo : lo + BATCH]
            given = fields(chunk) if fields is not None else {}
            n = len(chunk)
            text = [t.encode("utf-8")[:TEXT_BYTES].decode("utf-8", "ignore") for t in given.get("text", [""] * n)]
            rows = [{"id": int(i), "dense": v, "text": t, "article": int(a), "source": src[:1024], "day": day[:16]}
                    for i, v, t, a, src, day in zip(chunk.tolist(), vectors[lo : lo + BATCH].tolist(), text,
                                                    given.get("article", [-1] * n), given.get("source", [""] * n),
                                                    given.get("day", [""] * n))]
            (self._client.upsert if upsert else self._client.insert)(self.collection, rows)

    def _seal(self) -> None:
        """Seal what was written (``flush``) so that Milvus indexes it: a search over growing,
        unindexed segments took 2.4 s a question at 20,000 passages in Milvus Lite, 0.2 s sealed."""
        self._client.flush(self.collection)

    def _held(self, ids: np.ndarray) -> np.ndarray:
        found = []
        for lo in range(0, len(ids), BATCH):
            found += [int(r["id"]) for r in self._client.get(self.collection, ids=ids[lo : lo + BATCH].tolist(),
                                                              output_fields=["id"])]
        return np.sort(np.array(found, dtype=np.int64))


def where_expression(where) -> str:
    """``filter_expression`` of an ``ArticleFilter`` ("" for none, or one that restricts nothing)."""
    if where is None or where.is_empty:
        return ""
    return filter_expression(None if where.sources is None else sorted(where.sources), where.published_from,
                             where.published_to)


def filter_expression(sources: list[str] | None, start: str | None, end: str | None) -> str:
    """A Milvus filter over the outlet and day fields: outlets among ``sources`` (None: any), days
    from ``start`` to ``end`` (inclusive ISO dates; a passage without a date fails either)."""
    parts = []
    if sources is not None:
        parts.append(f"source in {json.dumps(sorted(sources), ensure_ascii=False)}")
    if start or end:
        parts.append('day != ""')
    if start:
        parts.append(f"day >= {json.dumps(start)}")
    if end:
        parts.append(f"day <= {json.dumps(end)}")
    return " and ".join(parts)


def drop(milvus, collection: str) -> None:
    """Drop a generation's passage collection and its packets (``{collection}_data``, served.py)."""
    for name in (f"{collection}_data", collection):
        if milvus.has_collection(name):
            for alias in milvus.list_aliases(name).get("aliases", []):  # Milvus keeps a collection with aliases
                milvus.drop_alias(alias)
            milvus.drop_collection(name)
