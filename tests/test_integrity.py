"""Checksums of an index's files (store/integrity.py): memory-mapped arrays are checked a block at
a time, the first time a row in the block is read, and a damaged block is found before its rows
are used, whichever way they are read."""

from __future__ import annotations

import numpy as np
import pytest

from qa_bot.errors import IndexCorruptError
from qa_bot.store import integrity
from qa_bot.store.integrity import CheckedRows, lazy_blocks, record_files, verify_files


@pytest.fixture
def mapped(tmp_path, monkeypatch):
    """A 1,000 x 16 float16 array saved as a MAPPED file, with 256-byte blocks (8 rows each)."""
    monkeypatch.setattr(integrity, "BLOCK", 256)
    array = np.arange(16_000, dtype=np.float16).reshape(1000, 16) / 16_000
    np.save(tmp_path / "sentence_vectors.npy", array)
    files = record_files(tmp_path)
    return tmp_path, array, files


def open_checked(directory, files):
    array = np.load(directory / "sentence_vectors.npy", mmap_mode="r")
    return CheckedRows(array, directory / "sentence_vectors.npy", *lazy_blocks(files["sentence_vectors.npy"]),
                       dtype=np.float32)


def damage(path, offset):
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0x01
    path.write_bytes(bytes(raw))


def test_rows_read_back_as_asked_in_the_type_asked(mapped):
    directory, array, files = mapped
    rows = open_checked(directory, files)
    assert len(rows) == 1000 and rows.shape == (1000, 16) and rows.dtype == np.float32
    np.testing.assert_array_equal(rows[5], array[5].astype(np.float32))
    np.testing.assert_array_equal(rows[10:20], array[10:20].astype(np.float32))
    np.testing.assert_array_equal(rows[np.array([999, 0, -1])], array[[999, 0, -1]].astype(np.float32))
    np.testing.assert_array_equal(np.asarray(rows), array.astype(np.float32))
    assert rows[10:20].dtype == np.float32


def test_int8_rows_come_back_times_their_scales(tmp_path, monkeypatch):
    monkeypatch.setattr(integrity, "BLOCK", 256)
    codes = np.random.default_rng(0).integers(-127, 128, size=(100, 16)).astype(np.int8)
    scales = np.linspace(0.001, 0.01, 100, dtype=np.float32)
    np.save(tmp_path / "sentence_vectors.npy", codes)
    files = record_files(tmp_path)
    rows = CheckedRows(np.load(tmp_path / "sentence_vectors.npy", mmap_mode="r"), tmp_path / "sentence_vectors.npy",
                       *lazy_blocks(files["sentence_vectors.npy"]), dtype=np.float32, scales=scales)
    whole = codes.astype(np.float32) * scales[:, None]
    np.testing.assert_array_equal(rows[7], whole[7])
    np.testing.assert_array_equal(rows[10:20], whole[10:20])
    np.testing.assert_array_equal(rows[np.array([99, 0, -1])], whole[[99, 0, -1]])
    np.testing.assert_array_equal(np.asarray(rows), whole)
    assert rows[3:5].dtype == np.float32


def test_a_damaged_block_fails_when_first_read_and_the_others_still_read(mapped):
    directory, array, files = mapped
    path = directory / "sentence_vectors.npy"
    header = np.load(path, mmap_mode="r").offset
    damage(path, header + 500 * 32)  # row 500 (32 bytes a row)
    verify_files(directory, {"files": files})  # the size is right: loading does not hash it
    rows = open_checked(directory, files)
    np.testing.assert_array_equal(rows[:100], array[:100].astype(np.float32))
    for read in (lambda: rows[500], lambda: rows[490:510], lambda: rows[np.array([3, 500])], lambda: np.asarray(rows)):
        with pytest.raises(IndexCorruptError, match="sentence_vectors.npy is truncated or altered.*qa-bot build"):
            read()


def test_a_file_checked_whole_fails_at_load_and_a_short_mapped_one_too(mapped):
    directory, _, _ = mapped
    (directory / "small.json").write_text("[1, 2, 3]")
    files = record_files(directory)
    assert "sha256" in files["small.json"] and "blocks" in files["sentence_vectors.npy"]
    (directory / "small.json").write_text("[1, 2, 4]")
    with pytest.raises(IndexCorruptError, match="small.json is truncated or altered"):
        verify_files(directory, {"files": files})
    (directory / "small.json").write_text("[1, 2, 3]")
    path = directory / "sentence_vectors.npy"
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(IndexCorruptError, match="sentence_vectors.npy is truncated or altered"):
        verify_files(directory, {"files": files})
