"""Index generations on disk: a ``CURRENT`` pointer, a build lock, and atomic publication.

An index directory holds one or more complete generations (``gen-<stamp>/``) and a ``CURRENT`` file
naming the live one. A build writes a new generation into a staging directory beside the live one,
renames it into place and only then replaces ``CURRENT`` (each step fsynced), so a failed or killed
build leaves the previous index as it was, and a reader sees the old generation or the new one,
never half of one.
"""

from __future__ import annotations

import datetime as dt
import fcntl
import os
import re
import secrets
import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import BuildInProgressError, IndexCorruptError, IndexMissingError
from .manifest import REBUILD

CURRENT = "CURRENT"
_GEN_RE = re.compile(r"^gen-[A-Za-z0-9-]+$")


def new_generation_name() -> str:
    """A fresh generation name: its UTC build time and a random suffix."""
    return f"gen-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(4)}"


def live_name(index_dir: Path) -> str:
    """The name ``CURRENT`` holds ("" when it is missing or unreadable); no check that it exists."""
    try:
        return (Path(index_dir) / CURRENT).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return ""


def current_generation(index_dir: Path) -> Path:
    """The directory of the live generation; IndexMissingError if there is none."""
    index_dir = Path(index_dir)
    pointer = index_dir / CURRENT
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        raise IndexMissingError(
            f"no index in {str(index_dir)!r}: run 'qa-bot build --index {index_dir}' first"
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise IndexCorruptError(f"{pointer}: unreadable ({exc}); {REBUILD}") from None
    if not _GEN_RE.match(name) or not (index_dir / name).is_dir():
        raise IndexCorruptError(f"{pointer}: points at {name!r}, which is not an index generation; {REBUILD}")
    return index_dir / name


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``index_dir`` for the length of a build."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / ".lock", "w") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildInProgressError(
                f"another 'qa-bot build' is writing {str(index_dir)!r}; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def staging_dir(index_dir: Path, name: str) -> Path:
    """An empty directory to write generation ``name`` into before it is published."""
    staging = index_dir / f".build-{name}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def publish(index_dir: Path, staging: Path, name: str) -> Path:
    """Make the complete generation in ``staging`` live as ``name``. Call under build_lock."""
    for path in staging.rglob("*"):
        if path.is_file():
            with open(path, "rb") as handle:
                os.fsync(handle.fileno())
    final = index_dir / name
    os.replace(staging, final)
    _fsync_dir(index_dir)
    pointer_tmp = index_dir / f".{CURRENT}.tmp"
    with open(pointer_tmp, "w", encoding="utf-8") as handle:
        handle.write(name + "\n")
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(pointer_tmp, index_dir / CURRENT)
    _fsync_dir(index_dir)
    return final


def remove_stale(index_dir: Path, keep: str, release: Callable[[Path], None] | None = None) -> None:
    """Delete every generation but ``keep`` and any half-written staging directory, calling
    ``release`` on each first (a store's data outside the directory: a Milvus collection). Under lock."""
    for path in index_dir.iterdir():
        if path.name != keep and path.is_dir() and (path.name.startswith(".build-") or _GEN_RE.match(path.name)):
            if release is not None:
                release(path)
            shutil.rmtree(path, ignore_errors=True)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
