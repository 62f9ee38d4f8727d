"""The integrity of a generation's files: their sizes and sha256 digests, recorded in the manifest
when a build writes them and checked before their bytes are used.

A file read whole when the index is opened is checked whole, then (``verify_files``; the files are
hashed on both cores, hashlib releasing the GIL). A file that is memory-mapped instead
(``MAPPED``: the token states and sentence vectors, the bulk of a large index) is recorded as the
sha256 of each ``BLOCK`` bytes, and ``CheckedRows`` checks a block the first time a row in it is
read: opening an index costs the same whatever the size of those files, a question checks only the
blocks its candidate sentences stand in (once each), and no byte is used unchecked. A mismatch is
an ``IndexCorruptError`` that says to rebuild, at load or at the question that reads the block.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import IndexCorruptError
from .manifest import MANIFEST, REBUILD

MAPPED = ("token_vectors.npy", "sentence_vectors.npy")
"""Files the loader memory-maps: checked block by block as they are read."""
BLOCK = 1 << 17  # 128 KiB: a question's first read checks at most a few MB


def record_files(directory: Path) -> dict[str, dict[str, Any]]:
    """The size and sha256 of every file under ``directory``, by relative path (for the manifest);
    a ``MAPPED`` file gets the sha256 of each ``BLOCK`` instead, as one hex string."""
    files = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file()):
        rel = path.relative_to(directory).as_posix()
        entry: dict[str, Any] = {"bytes": path.stat().st_size}
        if rel in MAPPED:
            entry["block"] = BLOCK
            entry["blocks"] = "".join(_block_digests(path))
        else:
            entry["sha256"] = _sha256(path)
        files[rel] = entry
    return files


def verify_files(gen_dir: Path, manifest: dict[str, Any]) -> None:
    """Check every file's size, and the sha256 of each file not checked block by block
    (``lazy_blocks`` gives those); raises IndexCorruptError naming the first file that differs."""
    files = manifest.get("files")
    if not isinstance(files, dict) or not files:
        raise IndexCorruptError(f"{gen_dir / MANIFEST} lists no files; {REBUILD}")
    whole = []
    for rel, meta in files.items():
        path = gen_dir / rel
        if not path.is_file():
            raise IndexCorruptError(f"{path} is missing; {REBUILD}")
        if path.stat().st_size != meta.get("bytes"):
            raise _altered(path)
        if lazy_blocks(meta) is None:
            whole.append((path, meta.get("sha256")))
    with ThreadPoolExecutor(max_workers=min(2, os.cpu_count() or 1)) as pool:
        digests = list(pool.map(_sha256, [path for path, _ in whole]))
    for (path, want), got in zip(whole, digests):
        if got != want:
            raise _altered(path)


def lazy_blocks(meta: dict[str, Any]) -> tuple[int, list[str]] | None:
    """``(block size, digests)`` of a file recorded block by block, or None."""
    block, blocks = meta.get("block"), meta.get("blocks")
    if not isinstance(block, int) or block <= 0 or not isinstance(blocks, str) or len(blocks) % 64:
        return None
    return block, [blocks[i : i + 64] for i in range(0, len(blocks), 64)]


class CheckedRows:
    """A memory-mapped ``.npy`` array whose rows are checked against their blocks' digests the first
    time they are read (``rows[key]`` with an int, a slice or an array of row numbers; ``len``,
    ``shape``, ``dtype``). Rows come back as ``dtype`` (e.g. float16 on disk, float32 out), times
    their row's ``scales`` if given (int8 rows, ``quantised.quantise``)."""

    def __init__(self, array: np.memmap, path: Path, block: int, digests: list[str], dtype=None,
                 scales: np.ndarray | None = None) -> None:
        self._array, self._path, self._block, self._digests = array, path, block, digests
        self._scales = scales
        self.dtype = np.dtype(dtype) if dtype is not None else array.dtype
        self.shape = array.shape
        self.ndim = array.ndim
        self._row_bytes = array.itemsize * int(np.prod(array.shape[1:], dtype=np.int64))
        self._offset = int(array.offset)
        if len(digests) != -(-os.path.getsize(path) // block):
            raise IndexCorruptError(f"{path}: the manifest records the wrong number of blocks; {REBUILD}")
        self._checked = np.zeros(len(digests), dtype=bool)
        # Held open, as the mapping is: a build may delete this generation's directory while a
        # running app still answers from it (store/generations.py).
        self._file = open(path, "rb")  # noqa: SIM115 (lives as long as the array)

    def __len__(self) -> int:
        return int(self.shape[0])

    def __getitem__(self, key) -> np.ndarray:
        if isinstance(key, slice):
            start, stop, step = key.indices(len(self))
            self._check_span(start, stop) if step == 1 else self._check_rows(np.arange(start, stop, step))
        elif isinstance(key, (int, np.integer)):
            self._check_span(int(key) % len(self), int(key) % len(self) + 1)
        else:
            self._check_rows(np.asarray(key, dtype=np.int64).reshape(-1))
        rows = np.asarray(self._array[key], dtype=self.dtype)
        return rows if self._scales is None else rows * self._scales[key][..., None]

    def _check_span(self, start: int, stop: int) -> None:
        """Check the blocks of rows ``start..stop-1`` (a run: cheap when they are checked already)."""
        if stop <= start:
            return
        lo = (self._offset + start * self._row_bytes) // self._block
        hi = (self._offset + stop * self._row_bytes - 1) // self._block
        if not self._checked[0] or not self._checked[lo : hi + 1].all():
            self._check_rows(np.arange(start, stop))

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        self._check_rows(np.arange(len(self)))
        whole = np.asarray(self._array, dtype=self.dtype)
        whole = whole if self._scales is None else whole * self._scales[:, None]
        return whole.astype(dtype, copy=False) if dtype is not None else whole

    def _check_rows(self, rows: np.ndarray) -> None:
        if not len(rows):
            return
        rows = np.where(rows < 0, rows + len(self), rows)
        first = (self._offset + rows * self._row_bytes) // self._block
        last = (self._offset + (rows + 1) * self._row_bytes - 1) // self._block
        between = [np.arange(a + 1, b) for a, b in zip(first, last) if b - a > 1]  # rows longer than a block
        wanted = np.unique(np.concatenate([first, last, [0], *between]))  # block 0 holds the header
        todo = wanted[~self._checked[wanted]]
        if not len(todo):
            return
        for b in todo.tolist():
            data = os.pread(self._file.fileno(), self._block, b * self._block)
            if hashlib.sha256(data).hexdigest() != self._digests[b]:
                raise _altered(self._path)
            self._checked[b] = True


def _altered(path: Path) -> IndexCorruptError:
    return IndexCorruptError(f"{path} is truncated or altered (checksum mismatch); {REBUILD}")


def _block_digests(path: Path) -> list[str]:
    with open(path, "rb") as handle:
        return [hashlib.sha256(block).hexdigest() for block in iter(lambda: handle.read(BLOCK), b"")]


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
