"""Collections that outlive their generation: a removed generation's Milvus collections are
retired, kept until the next build that removes a generation (chats serving the index from
Milvus alone may still be reading them, store/served.py), and dropped then.

The index directory lists them in ``milvus-retired.json``: each collection, its location and the
generation that was live when it was retired.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from ..generations import live_name
from .milvus import FILE, client, drop

RETIRED = "milvus-retired.json"  # in the index directory


def discard(directory: Path) -> None:
    """Retire the collections a generation directory records (it is being removed): they are kept
    until the next build retires another, because chats serving the index from Milvus alone
    (store/served.py) may still be reading them, and dropped then. Collections that an earlier
    build retired are dropped now. An alias still naming a retired collection (the index moved off
    Milvus) is dropped at once, so no new reader opens it."""
    index_dir = Path(directory).parent
    live = live_name(index_dir)
    ledger = index_dir / RETIRED
    try:
        entries = json.loads(ledger.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        entries = []
    kept = []
    for entry in entries if isinstance(entries, list) else []:
        if entry.get("retired_by") == live:
            kept.append(entry)
            continue
        with contextlib.suppress(Exception):  # a collection already gone, or a server away: nothing to undo
            drop(client(entry["uri"]), entry["collection"])
    record, held = _record(Path(directory)), _record(index_dir / live) if live else None
    # No record: a FAISS generation. The live generation's own collection (written in place) stays.
    if record is not None and (held is None or held["collection"] != record["collection"]):
        with contextlib.suppress(Exception):  # a collection already gone, or a server away: nothing to retire
            milvus = client(record["uri"])
            for alias in milvus.list_aliases(record["collection"]).get("aliases", []):
                milvus.drop_alias(alias)
            kept.append({"uri": record["uri"], "collection": record["collection"], "retired_by": live})
    temporary = ledger.with_suffix(".tmp")
    temporary.write_text(json.dumps(kept, indent=1), encoding="utf-8")
    os.replace(temporary, ledger)


def _record(gen_dir: Path) -> dict | None:
    """The Milvus record (``milvus.json``) of a generation directory, or None."""
    try:
        record = json.loads((gen_dir / FILE).read_text(encoding="utf-8"))
        return record if isinstance(record, dict) and "uri" in record and "collection" in record else None
    except (OSError, ValueError):
        return None
