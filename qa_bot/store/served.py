"""An index served from Milvus alone: what a build publishes there beside the passage vectors,
and a reader that answers from it on a machine without the index directory
(``QABot.load("milvus://HOST:PORT/NAME")``).

A generation whose passages are in collection ``C`` (``vectors/milvus.py``) also writes ``C_data``:
the packets of ``store/slices.py``, the index-wide summary under article -1 and one per article,
each cut into VARCHAR parts of base64. When both are complete, the alias ``NAME`` (the name the
location gives) is pointed at ``C``: readers open the alias, so they move to a new generation at
once and never see half of one. A question then costs two round trips, three when a quoted
article has copies: the hybrid search of ``C`` (``MilvusVectorStore.hybrid``), then the packets
of the articles it found from ``C_data`` (and of their copies).

Milvus wants a vector field in every collection: ``C_data`` has a two-dimensional one that
nothing searches.
"""

from __future__ import annotations

import base64
from pathlib import Path

import numpy as np

from ..errors import IndexCorruptError, IndexIncompatibleError, IndexMissingError, StoreUnavailableError
from .data import IndexData
from .manifest import REBUILD
from .slices import Summary, pack_article, pack_summary
from .vectors.milvus import MilvusLocation, MilvusVectorStore, client

PART = 48_000  # packet bytes per row: 64,000 characters of base64, under Milvus's 65,535-byte VARCHAR
PARTS = 1 << 8  # parts an article may take (a packet up to 12 MB)
SUMMARY = -1  # the article number of the index-wide packet's rows
COMPLETE = "qa_bot.packets"  # set, to the packet format, once every packet is written
PACKET_FORMAT = "3"
GET_ROWS = 256  # rows a fetch asks for: at most 16 MB an answer


def data_collection(passages: str) -> str:
    return f"{passages}_data"


def publish(data: IndexData) -> None:
    """Write the packets of ``data`` (an index whose passages are in Milvus) beside its passage
    collection, unless they are there already, then point the location's alias at it."""
    store = data.passage_vectors
    if not isinstance(store, MilvusVectorStore) or store.collection is None:
        raise ValueError("only an index whose passages are in Milvus is published there")
    if not data.keyed:
        raise IndexIncompatibleError(f"the index in {data.path} keeps its Milvus passages by row, as builds before "
                                     f"2026-12-07 did; rebuild it with 'qa-bot build --store ...' to publish it")
    milvus = client(store.location.uri)
    name = data_collection(store.collection)
    if _packet_format(milvus, name) != PACKET_FORMAT:
        if milvus.has_collection(name):
            milvus.drop_collection(name)
        _create(milvus, name, store.location.lite)
        try:
            rows: list[dict] = []
            parts = np.zeros(len(data.articles), np.int64)
            serials = data.serials()
            for pos in range(len(data.articles)):
                packet = _rows(int(serials[pos]), pack_article(data, pos))
                parts[pos] = len(packet)
                rows += packet
                if len(rows) >= 64:  # ~4 MB a call
                    milvus.insert(name, rows)
                    rows = []
            milvus.insert(name, rows + _rows(SUMMARY, pack_summary(data, parts)))
            milvus.flush(name)
            milvus.alter_collection_properties(name, properties={COMPLETE: PACKET_FORMAT})
        except BaseException:
            milvus.drop_collection(name)
            raise
    alias, live = store.location.collection, ServedIndex.live(store.location)
    if live == store.collection:
        return
    if live:
        milvus.alter_alias(store.collection, alias)
    else:
        milvus.create_alias(store.collection, alias)


def discard(passages: str, uri: str) -> None:
    """Drop the packets written beside collection ``passages`` (its generation is removed)."""
    milvus = client(uri)
    if milvus.has_collection(data_collection(passages)):
        milvus.drop_collection(data_collection(passages))


class ServedIndex:
    """The generation a Milvus location's alias names: its summary, its passages (searched), its
    article packets (fetched). Opened by ``QABot.load("milvus://…")``."""

    def __init__(self, location: MilvusLocation, collection: str, summary: Summary) -> None:
        self.location, self.collection, self.summary = location, collection, summary
        self.store = MilvusVectorStore(int(summary.manifest["model"]["dimension"]), location, collection)
        self.round_trips = 0  # Milvus calls made for questions
        self.fetched = 0  # bytes of article packets fetched (benchmarks/milvus.py reads it)

    @classmethod
    def open(cls, spec: str) -> ServedIndex:
        """The generation a location's alias names (``milvus://HOST:PORT/NAME``, ``milvus-lite://PATH``)."""
        location = MilvusLocation.parse(spec)
        collection = cls.live(location)
        if not collection:
            raise IndexMissingError(
                f"no index is published at {spec}: build one there with 'qa-bot build --store {spec}'")
        return cls.open_collection(location, collection)

    @classmethod
    def open_collection(cls, location: MilvusLocation, collection: str) -> ServedIndex:
        """The generation whose passages are in ``collection``."""
        milvus = client(location.uri)
        data = data_collection(collection)
        where = f"{location.uri} ({collection})"
        held = _packet_format(milvus, data)
        if held != PACKET_FORMAT:
            raise IndexIncompatibleError(
                f"{where}: " + (f"collection {data!r} is missing or incomplete" if held is None else
                                f"the index was published in packet format {held}, this version reads {PACKET_FORMAT}")
                + "; run 'qa-bot build --store …' again on the machine that builds it to publish it again")
        for name in (collection, data):
            milvus.load_collection(name)
        rows = milvus.query(data, filter=f"article == {SUMMARY}", output_fields=["article", "part", "packet"],
                            limit=PARTS)
        if not rows:
            raise IndexCorruptError(f"{where}: the index summary is missing from {data!r}; {REBUILD}")
        summary = Summary.unpack(_joined(rows)[SUMMARY])
        served = cls(location, collection, summary)
        recorded = served.store.recorded()
        model = summary.manifest["model"]
        if recorded and (recorded.get("model"), recorded.get("dimension")) != (model["name"], model["dimension"]):
            raise IndexCorruptError(f"{where}: the passages hold vectors of model {recorded.get('model')!r}, the "
                                    f"summary says {model['name']!r}; {REBUILD}")
        return served

    @staticmethod
    def live(location: MilvusLocation) -> str:
        """The collection the location's alias names ("" when there is none)."""
        milvus = client(location.uri)
        try:
            if location.collection not in milvus.list_aliases().get("aliases", []):
                return ""
            return milvus.describe_alias(location.collection).get("collection_name", "")
        except Exception as exc:  # noqa: BLE001 (pymilvus raises MilvusException for every failure)
            raise StoreUnavailableError(f"cannot read the index Milvus at {location.uri} serves ({exc}); check "
                                        "that it is running and the token in QA_BOT_MILVUS_TOKEN") from None

    def hybrid(self, readings: np.ndarray, terms: str, depth: int, k: int, expression: str, rrf_k: int = 60):
        self.round_trips += 1
        return self.store.hybrid(readings, terms, depth, k, expression, rrf_k)

    def packets(self, serials: list[int]) -> dict[int, bytes]:
        """The packets of the article versions ``serials``, got by their rows' keys (one round trip
        per ``GET_ROWS`` rows; articles the summary does not list yet, by a query)."""
        milvus = client(self.location.uri)
        wanted = sorted(set(serials))
        summary = self.summary
        listed = [s for s in wanted if s in summary.position and summary.parts is not None]
        keys = [(s + 1) * PARTS + i for s in listed for i in range(int(summary.parts[summary.position[s]]))]
        rows: list[dict] = []
        for lo in range(0, len(keys), GET_ROWS):
            self.round_trips += 1
            rows += milvus.get(data_collection(self.collection), ids=keys[lo : lo + GET_ROWS],
                               output_fields=["article", "part", "packet"])
        newer = [s for s in wanted if s not in set(listed)]
        if newer:
            self.round_trips += 1
            rows += milvus.query(data_collection(self.collection), filter=f"article in {newer}",
                                 output_fields=["article", "part", "packet"], limit=16_384)
        found = _joined(rows)
        self.fetched += sum(len(packet) for packet in found.values())
        return found


def publish_generation(index_dir: Path) -> None:
    """``publish`` the live generation of ``index_dir`` (its store must be Milvus)."""
    from .files import load_index

    publish(load_index(index_dir))


def _packet_format(milvus, name: str) -> str | None:
    """The packet format a data collection was completed in (None: missing, or not complete)."""
    if not milvus.has_collection(name):
        return None
    return (milvus.describe_collection(name).get("properties") or {}).get(COMPLETE)


def _create(milvus, name: str, lite: bool) -> None:
    from pymilvus import DataType

    schema = milvus.create_schema(auto_id=False)
    schema.add_field("id", DataType.INT64, is_primary=True)
    schema.add_field("article", DataType.INT64)
    schema.add_field("part", DataType.INT64)
    schema.add_field("packet", DataType.VARCHAR, max_length=65_535)
    schema.add_field("unused", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field
    index = milvus.prepare_index_params()
    index.add_index("unused", index_type="FLAT" if lite else "AUTOINDEX", metric_type="L2")
    if not lite:  # Milvus Lite has no scalar indexes
        index.add_index("article", index_type="INVERTED")
    milvus.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")


def _rows(article: int, packet: bytes) -> list[dict]:
    text = base64.b64encode(packet).decode("ascii")
    step = PART * 4 // 3
    parts = [text[i : i + step] for i in range(0, len(text), step)] or [""]
    if len(parts) > PARTS:
        raise ValueError(f"article {article} is too large to publish ({len(packet):,} bytes packed)")
    base = (article + 1) * PARTS  # the summary's rows take ids 0 to PARTS - 1
    return [{"id": base + i, "article": article, "part": i, "packet": part, "unused": [0.0, 0.0]}
            for i, part in enumerate(parts)]


def _joined(rows: list[dict]) -> dict[int, bytes]:
    """Each article's packet from its parts; an article whose parts are not all there (deleted by a
    build while it was read) is left out."""
    by_article: dict[int, list[tuple[int, str]]] = {}
    for row in rows:
        by_article.setdefault(int(row["article"]), []).append((int(row["part"]), row["packet"]))
    out = {}
    for article, parts in by_article.items():
        parts.sort()
        if [p for p, _ in parts] == list(range(len(parts))):
            out[article] = base64.b64decode("".join(text for _, text in parts))
    return out


__all__ = ["ServedIndex", "discard", "publish", "publish_generation"]
