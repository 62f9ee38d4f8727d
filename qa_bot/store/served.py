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
from dataclasses import replace
from pathlib import Path

import numpy as np

from ..errors import IndexCorruptError, IndexIncompatibleError, IndexMissingError, StoreUnavailableError
from .data import IndexData, passage_key
from .manifest import REBUILD
from .slices import Summary, group_hashes, pack_article, pack_summary
from .vectors.milvus import MilvusLocation, MilvusVectorStore, client

PART = 48_000  # packet bytes per row: 64,000 characters of base64, under Milvus's 65,535-byte VARCHAR
PARTS = 1 << 8  # parts an article may take (a packet up to 12 MB)
SUMMARY_IDS = 1 << 62  # the ids of summary version v's rows start at SUMMARY_IDS + v * PARTS
SUMMARY_VERSION = "qa_bot.summary"  # the data collection's current summary version (its rows: article -1 - v)
COMPLETE = "qa_bot.packets"  # set, to the packet format, once every packet is written
PACKET_FORMAT = "3"
GET_ROWS = 256  # rows a fetch asks for: at most 16 MB an answer


def data_collection(passages: str) -> str:
    return f"{passages}_data"


def publish(data: IndexData) -> None:
    """Write the packets of ``data`` (an index whose passages are in Milvus) beside its passage
    collection and point the location's alias at it.

    Into a new collection every packet is written. Into one a previous generation published (an
    in-place build) only the packets of articles that are new, or whose metadata or copies changed,
    are written; a new summary is written and made current; then the packets and passages of the
    article versions that are gone are deleted. Publishing a generation again does nothing."""
    store = data.passage_vectors
    if not isinstance(store, MilvusVectorStore) or store.collection is None:
        raise ValueError("only an index whose passages are in Milvus is published there")
    if not data.keyed:
        raise IndexIncompatibleError(f"the index in {data.path} keeps its Milvus passages by row, as builds before "
                                     f"2026-12-07 did; rebuild it with 'qa-bot build --store ...' to publish it")
    milvus = client(store.location.uri)
    name = data_collection(store.collection)
    generation = data.path.name if data.path is not None else ""
    if _packet_format(milvus, name) != PACKET_FORMAT:
        if milvus.has_collection(name):
            milvus.drop_collection(name)
        _create(milvus, name, store.location.lite)
        try:
            _write_packets(milvus, name, data, range(len(data.articles)), None, 0)
            milvus.alter_collection_properties(name, properties={COMPLETE: PACKET_FORMAT})
        except BaseException:
            milvus.drop_collection(name)
            raise
    else:
        milvus.load_collection(name)  # written by another process, it is held released until loaded
        version = _summary_version(milvus, name)
        previous = _read_summary(milvus, name, version, store.location.uri)
        if previous.manifest.get("generation") != generation:
            _update_packets(milvus, name, data, previous, version, store)
    alias, live = store.location.collection, ServedIndex.live(store.location)
    if live == store.collection:
        return
    if live:
        milvus.alter_alias(store.collection, alias)
    else:
        milvus.create_alias(store.collection, alias)


def _write_packets(milvus, name: str, data: IndexData, positions, previous: Summary | None, version: int) -> None:
    """Write the packets of the articles at ``positions`` (replacing any of the same serial) and,
    as summary ``version``, the summary (sizes of the others from ``previous``); make it current."""
    serials = data.serials()
    parts = np.zeros(len(data.articles), np.int64)
    if previous is not None:
        for pos, serial in enumerate(serials.tolist()):
            at = previous.position.get(serial)
            if at is not None and previous.parts is not None:
                parts[pos] = previous.parts[at]
    rows: list[dict] = []
    positions = list(positions)
    again = [int(serials[pos]) for pos in positions if previous is not None and int(serials[pos]) in previous.position]
    for lo in range(0, len(again), 1_000):  # written again: their parts may be fewer now
        milvus.delete(name, filter=f"article in {again[lo : lo + 1_000]}")
    for pos in positions:
        serial = int(serials[pos])
        packet = _rows(serial, pack_article(data, pos))
        parts[pos] = len(packet)
        rows += packet
        if len(rows) >= 64:  # ~4 MB a call
            milvus.insert(name, rows)
            rows = []
    summary = pack_summary(data, parts, generation=data.path.name if data.path is not None else "")
    milvus.insert(name, rows + _rows(-1 - version, summary, first_id=SUMMARY_IDS + version * PARTS))
    milvus.flush(name)
    milvus.alter_collection_properties(name, properties={SUMMARY_VERSION: str(version)})


def _update_packets(milvus, name: str, data: IndexData, previous: Summary, version: int,
                    store: MilvusVectorStore) -> None:
    """Publish ``data`` over the generation ``previous`` describes, in place (see ``publish``)."""
    serials = data.serials().tolist()
    groups = group_hashes(data)
    changed = []
    for pos, serial in enumerate(serials):
        at = previous.position.get(serial)
        if at is None:
            changed.append(pos)
            continue
        before, now = previous.catalogue[at], data.articles[pos]
        if before != replace(now, text="") or int(previous.groups[at]) != int(groups[pos]):
            changed.append(pos)
    _write_packets(milvus, name, data, changed, previous, version + 1)
    # Readers move to the new summary at their next look (a chat: within seconds); the old one's
    # rows go now, and with them the article versions only it had.
    milvus.delete(name, filter=f"article == {-1 - version}")
    gone = sorted(set(previous.serials.tolist()) - set(serials))
    if gone:
        ends = np.r_[previous.first_passages[1:], previous.passages]
        keys = [passage_key(s, place) for s in gone
                for place in range(int(ends[previous.position[s]] - previous.first_passages[previous.position[s]]))]
        store.delete(np.array(keys, np.int64))
        for lo in range(0, len(gone), 1_000):
            milvus.delete(name, filter=f"article in {gone[lo : lo + 1_000]}")
    milvus.flush(name)


class ServedIndex:
    """The generation a Milvus location's alias names: its summary, its passages (searched), its
    article packets (fetched). Opened by ``QABot.load("milvus://…")``."""

    def __init__(self, location: MilvusLocation, collection: str, summary: Summary) -> None:
        self.location, self.collection, self.summary = location, collection, summary
        self.store = MilvusVectorStore(int(summary.manifest["model"]["dimension"]), location, collection)
        self.version = 0  # of the summary (an in-place build makes a new one current)
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
        try:
            version = _summary_version(milvus, data)
            summary = _read_summary(milvus, data, version, where)
        except IndexCorruptError:  # a build made another summary current and deleted this one meanwhile
            version = _summary_version(milvus, data)
            summary = _read_summary(milvus, data, version, where)
        served = cls(location, collection, summary)
        served.version = version
        recorded = served.store.recorded()
        model = summary.manifest["model"]
        if recorded and (recorded.get("model"), recorded.get("dimension")) != (model["name"], model["dimension"]):
            raise IndexCorruptError(f"{where}: the passages hold vectors of model {recorded.get('model')!r}, the "
                                    f"summary says {model['name']!r}; {REBUILD}")
        return served

    @staticmethod
    def pointer(location: MilvusLocation) -> str:
        """What names the served index now, ``collection#version`` ("" when nothing is published):
        it changes with every build (``app.live``)."""
        collection = ServedIndex.live(location)
        if not collection:
            return ""
        return f"{collection}#{_summary_version(client(location.uri), data_collection(collection))}"

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


def _summary_version(milvus, name: str) -> int:
    properties = milvus.describe_collection(name).get("properties") or {}
    return int(properties.get(SUMMARY_VERSION, 0))


def _read_summary(milvus, name: str, version: int, where: str) -> Summary:
    rows = milvus.query(name, filter=f"article == {-1 - version}", output_fields=["article", "part", "packet"],
                        limit=PARTS)
    packet = _joined(rows).get(-1 - version)
    if packet is None:
        raise IndexCorruptError(f"{where}: the index summary is missing from {name!r}; {REBUILD}")
    return Summary.unpack(packet)


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


def _rows(article: int, packet: bytes, first_id: int | None = None) -> list[dict]:
    """The rows of an article's packet (a summary's: ``article`` -1 - version, ids from ``first_id``)."""
    text = base64.b64encode(packet).decode("ascii")
    step = PART * 4 // 3
    parts = [text[i : i + step] for i in range(0, len(text), step)] or [""]
    if len(parts) > PARTS:
        raise ValueError(f"article {article} is too large to publish ({len(packet):,} bytes packed)")
    base = (article + 1) * PARTS if first_id is None else first_id
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


__all__ = ["ServedIndex", "publish", "publish_generation"]
