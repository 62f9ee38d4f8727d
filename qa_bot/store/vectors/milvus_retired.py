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
    try:
        record = json.loads((Path(directory) / FILE).read_text(encoding="utf-8"))
        with contextlib.suppress(OSError, ValueError, KeyError):
            if json.loads((index_dir / live / FILE).read_text(encoding="utf-8"))["collection"] == record["collection"]:
                raise _Shared  # the live generation writes into the same collection (in place): it stays
        milvus = client(record["uri"])
        for alias in milvus.list_aliases(record["collection"]).get("aliases", []):
            milvus.drop_alias(alias)
        kept.append({"uri": record["uri"], "collection": record["collection"], "retired_by": live})
    except _Shared:
        pass
    except Exception:  # noqa: BLE001 (no record: a FAISS generation; or a collection already gone)
        pass
    temporary = ledger.with_suffix(".tmp")
    temporary.write_text(json.dumps(kept, indent=1), encoding="utf-8")
    os.replace(temporary, ledger)


class _Shared(Exception):
    """A removed generation's collection is the live one's."""
