"""Index builds, incremental updates, the on-disk format and its failure modes (qa_bot.store.files, builder)."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
import shutil
import threading
from pathlib import Path

import faiss
import numpy as np
import pytest
from conftest import SMALL_ARTICLES, FakeEncoder, SpanFakeEncoder, make_corpus

import qa_bot
from qa_bot.bot import QABot
from qa_bot.corpus.files import load_corpus
from qa_bot.corpus.ingest import Overrides, add_sources
from qa_bot.errors import (
    BuildInProgressError,
    CorpusError,
    IndexCorruptError,
    IndexIncompatibleError,
    IndexMissingError,
)
from qa_bot.indexing.build import build_index, content_hash
from qa_bot.indexing.chunking import ChunkParams, chunk_text
from qa_bot.indexing.rows import embed_text
from qa_bot.store.data import PARAGRAPH, PASSAGE, SENTENCE
from qa_bot.store.files import load_index
from qa_bot.store.generations import build_lock, current_generation
from qa_bot.store.integrity import BLOCK, MAPPED, record_files
from qa_bot.store.manifest import FORMAT_VERSION
from qa_bot.store.quantised import quantise

BLA = "pakistan-what-is-baloch-liberation-army"
FLOOD = "riverton-floods"


@pytest.fixture
def built(small_corpus, tmp_path, fake_encoder):
    """A corpus with its index built; the encoder's counters are reset afterwards."""
    index_dir = tmp_path / "index"
    report = build_index(small_corpus, index_dir, fake_encoder)
    fake_encoder.reset()
    return small_corpus, index_dir, report


def generation(index_dir: Path) -> str:
    return (index_dir / "CURRENT").read_text(encoding="utf-8").strip()


def snapshot(index_dir: Path) -> dict[str, bytes]:
    """Every file of the live generation, by relative path."""
    gen = current_generation(index_dir)
    return {p.relative_to(gen).as_posix(): p.read_bytes() for p in sorted(gen.rglob("*")) if p.is_file()}


def vectors_by_article(data) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(passage vectors, sentence vectors) of each article id."""
    passage_vectors = data.all_passage_vectors()
    return {
        article.id: (
            passage_vectors[data.passages["article"] == pos],
            data.sentence_vectors[data.sentences["article"] == pos],
        )
        for pos, article in enumerate(data.articles)
    }


def section_heading(text: str, offset: int) -> str:
    """The text of the last Markdown heading line before ``offset`` ("" if none)."""
    headings = re.findall(r"^#{1,6}[ \t]+(.*?)[ \t#]*$", text[:offset], flags=re.MULTILINE)
    return headings[-1] if headings else ""


def texts_of(article_text: str, params: ChunkParams = ChunkParams()) -> int:
    """How many texts (passages + sentences) one article body embeds."""
    chunks = chunk_text(article_text, params)
    return len(chunks.passages) + len(chunks.sentences)


# ---------------------------------------------------------------------------- round trip


def test_build_then_load_round_trip(small_corpus, tmp_path, fake_encoder):
    index_dir = tmp_path / "index"
    progress = []
    report = build_index(
        small_corpus, index_dir, fake_encoder, progress=lambda d, t: progress.append((d, t)), batch_size=7
    )
    data = load_index(index_dir)

    corpus_articles = load_corpus(small_corpus).articles
    assert data.articles == corpus_articles
    assert sorted(report.added) == sorted(SMALL_ARTICLES) and not report.changed and not report.unchanged
    assert report.full_rebuild_reason is None
    assert report.generation == generation(index_dir) == data.path.name
    assert (report.articles, report.passages, report.sentences) == (4, len(data.passages), len(data.sentences))
    assert report.embedded_texts == fake_encoder.encoded == len(data.passages) + len(data.sentences)
    assert progress[-1] == (fake_encoder.encoded, fake_encoder.encoded)
    assert [d for d, _ in progress] == sorted({d for d, _ in progress}), "progress only goes up"

    # Arrays: what chunk_text gives per article, stacked with global numbering.
    assert data.sentences.dtype == SENTENCE and data.passages.dtype == PASSAGE and data.paragraphs.dtype == PARAGRAPH
    assert data.sentence_vectors.dtype == np.float32
    n_sent = n_para = 0
    for pos, article in enumerate(data.articles):
        chunks = chunk_text(article.text)
        rows = data.sentences[data.sentences["article"] == pos]
        assert list(zip(rows["start"].tolist(), rows["end"].tolist())) == [(a, b) for a, b, _ in chunks.sentences]
        assert rows["paragraph"].tolist() == [p + n_para for _, _, p in chunks.sentences]
        prow = data.passages[data.passages["article"] == pos]
        assert [r[1:] for r in prow.tolist()] == [
            (first + n_sent, last + n_sent, hs, he) for first, last, hs, he in chunks.passages
        ]
        grow = data.paragraphs[data.paragraphs["article"] == pos]
        assert [r[1:] for r in grow.tolist()] == chunks.paragraphs
        n_sent += len(chunks.sentences)
        n_para += len(chunks.paragraphs)

    # Vectors are the encoder's vectors of heading + sentence text and of heading + passage text.
    expected_sentences = fake_encoder.encode([
        embed_text(section_heading(data.articles[a].text, start), data.sentence_text(i))
        for i, (a, start, _, _) in enumerate(data.sentences.tolist())
    ])
    # Sentence vectors are stored as int8 with a scale per row: each component within half a step.
    codes, scales = quantise(expected_sentences)
    assert np.array_equal(data.sentence_vectors, codes * scales[:, None])
    assert np.all(np.abs(data.sentence_vectors - expected_sentences) <= scales[:, None] / 2 + 1e-7)
    expected_passages = fake_encoder.encode(
        [embed_text(data.heading(p), data.passage_text(p)) for p in range(len(data.passages))]
    )
    # Passage vectors are held to 8 bits a component (store/vectors/faiss.py).
    assert data.passage_vectors.precision < 5e-3
    np.testing.assert_allclose(data.all_passage_vectors(), expected_passages, atol=data.passage_vectors.precision)
    bla_passages = np.flatnonzero(data.passages["article"] == data.article_position(BLA))
    assert data.heading(int(bla_passages[1])) == "What does the BLA want?"


def test_manifest_fields(built):
    corpus, index_dir, _ = built
    data = load_index(index_dir)
    manifest = json.loads((data.path / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["format"] == "qa-bot-index"
    assert manifest["format_version"] == FORMAT_VERSION
    assert manifest["qa_bot_version"] == qa_bot.__version__
    assert manifest["model"] == {"name": "fake-hash-64", "dimension": 64}
    assert manifest["chunking"] == dataclasses.asdict(ChunkParams())
    assert manifest["vector_store"] == "faiss"
    assert manifest["built_at"].endswith("+00:00")
    articles = {a.id: a for a in load_corpus(corpus).articles}
    assert [e["id"] for e in manifest["articles"]] == sorted(articles)
    for entry in manifest["articles"]:
        assert entry["hash"] == content_hash(articles[entry["id"]], ChunkParams())
        chunks = chunk_text(articles[entry["id"]].text)
        assert (entry["passages"], entry["sentences"]) == (len(chunks.passages), len(chunks.sentences))
    files = manifest["files"]
    on_disk = {p.relative_to(data.path).as_posix() for p in data.path.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(files) == on_disk
    assert {
        "articles.json", "sentences.npy", "paragraphs.npy", "passages.npy", "sentence_vectors.npy", "passages.faiss",
    } <= on_disk
    assert any(name.startswith("bm25/") for name in files)
    for name, meta in files.items():
        content = (data.path / name).read_bytes()
        if name in MAPPED:  # checked a block at a time as rows are read (store/integrity.py)
            blocks = [content[i : i + BLOCK] for i in range(0, len(content), BLOCK)]
            assert meta == {"bytes": len(content), "block": BLOCK,
                            "blocks": "".join(hashlib.sha256(b).hexdigest() for b in blocks)}
        else:
            assert meta == {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}


def test_index_holds_no_pickles(built):
    _, index_dir, _ = built
    gen = current_generation(index_dir)
    arrays = sorted(gen.rglob("*.npy"))
    assert len(arrays) >= 5  # ours plus bm25s's
    for path in arrays:
        np.load(path, allow_pickle=False)  # raises ValueError on an object array
    assert not [p for p in gen.rglob("*") if p.suffix in {".pkl", ".pickle", ".joblib"}]
    for path in gen.rglob("*"):
        if path.is_file() and path.suffix not in {".npy", ".faiss"}:
            json.loads(path.read_text(encoding="utf-8"))  # everything else is JSON


def test_an_index_written_before_the_vector_store_seam_loads_and_answers_the_same(built, fake_encoder):
    """Indexes built before qa-bot had a vector-store seam hold a bare FAISS IndexFlatIP (its row
    numbers are the passage ids) and a manifest without "vector_store": they load, answer as a new
    index does, and a rebuild with nothing changed keeps them."""
    corpus, index_dir, _ = built
    questions = ["What does the BLA want?", "Who won the chess title?", "How many homes were flooded?"]
    new = QABot(load_index(index_dir), fake_encoder)
    want = [a.to_dict() for a in new.ask_batch(questions)]
    gen = current_generation(index_dir)
    bare = faiss.IndexFlatIP(64)
    bare.add(new.data.all_passage_vectors())
    faiss.write_index(bare, str(gen / "passages.faiss"))
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    del manifest["vector_store"]
    (gen / "manifest.json").unlink()
    manifest["files"] = record_files(gen)
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")

    old = QABot(load_index(index_dir), fake_encoder)
    assert [a.to_dict() for a in old.ask_batch(questions)] == want
    report = build_index(corpus, index_dir, fake_encoder)
    assert report.embedded_texts == 0 and report.full_rebuild_reason is None


# ---------------------------------------------------------------------------- incremental builds


def test_rebuild_with_nothing_changed_embeds_nothing(built, fake_encoder):
    corpus, index_dir, first = built
    before = load_index(index_dir)
    report = build_index(corpus, index_dir, fake_encoder)
    assert fake_encoder.encoded == 0 and report.embedded_texts == 0
    assert sorted(report.unchanged) == sorted(SMALL_ARTICLES)
    assert not report.changed_anything and report.full_rebuild_reason is None
    after = load_index(index_dir)
    for name in ("sentences", "paragraphs", "passages", "sentence_vectors"):
        np.testing.assert_array_equal(getattr(after, name), getattr(before, name))
    np.testing.assert_array_equal(after.all_passage_vectors(), before.all_passage_vectors())
    assert after.manifest["articles"] == before.manifest["articles"]
    # The old generation is cleaned away.
    assert [p.name for p in index_dir.iterdir() if p.name.startswith("gen-")] == [report.generation]


def test_editing_one_article_re_embeds_only_it(built, tmp_path, fake_encoder):
    corpus, index_dir, _ = built
    before = vectors_by_article(load_index(index_dir))
    title, body = SMALL_ARTICLES[FLOOD]
    new_body = body.replace("two bridges collapsed", "three bridges collapsed. Schools stayed closed")
    make_corpus(tmp_path, {FLOOD: (title, new_body)})
    report = build_index(corpus, index_dir, fake_encoder)
    assert report.changed == [FLOOD] and not report.added and not report.removed
    assert sorted(report.unchanged) == sorted(set(SMALL_ARTICLES) - {FLOOD})
    assert fake_encoder.encoded == report.embedded_texts == texts_of(new_body)
    data = load_index(index_dir)
    after = vectors_by_article(data)
    step = 2 * data.passage_vectors.precision  # where the edit widened the quantiser's ranges
    for article_id in set(SMALL_ARTICLES) - {FLOOD}:
        np.testing.assert_allclose(after[article_id][0], before[article_id][0], atol=step + 1e-7)
        np.testing.assert_array_equal(after[article_id][1], before[article_id][1])
    assert "Schools stayed closed." in [data.sentence_text(i) for i in range(len(data.sentences))]
    # Reused rows still point at the right text: each passage vector is its text's vector.
    np.testing.assert_allclose(
        data.all_passage_vectors(),
        fake_encoder.encode([embed_text(data.heading(p), data.passage_text(p)) for p in range(len(data.passages))]),
        atol=step,
    )


def test_adding_one_article_embeds_only_it(built, tmp_path, fake_encoder):
    corpus, index_dir, _ = built
    body = "A new bakery opened on Mill Street.\n\n## Who runs it?\n\nTwo sisters run it. They bake at dawn."
    make_corpus(tmp_path, {"mill-street-bakery": ("Bakery opens", body)})
    report = build_index(corpus, index_dir, fake_encoder)
    assert report.added == ["mill-street-bakery"] and not report.changed and not report.removed
    assert fake_encoder.encoded == report.embedded_texts == texts_of(body)
    data = load_index(index_dir)
    assert data.article_position("mill-street-bakery") is not None
    assert len(data.articles) == 5


def test_deleting_one_article_removes_it(built, fake_encoder):
    corpus, index_dir, _ = built
    before_data = load_index(index_dir)
    before = vectors_by_article(before_data)
    (corpus / f"{BLA}.md").unlink()
    report = build_index(corpus, index_dir, fake_encoder)
    assert report.removed == [BLA] and not report.added and not report.changed
    assert fake_encoder.encoded == 0
    data = load_index(index_dir)
    assert data.article_position(BLA) is None
    assert [a.id for a in data.articles] == sorted(set(SMALL_ARTICLES) - {BLA})
    assert len(data.passages) == len(before_data.passages) - before[BLA][0].shape[0]
    assert all("Baloch" not in data.passage_text(p) for p in range(len(data.passages)))
    assert data.lexical.search(["baloch"], 10)[0].size == 0
    after = vectors_by_article(data)
    for article_id in after:
        np.testing.assert_array_equal(after[article_id][0], before[article_id][0])
        np.testing.assert_array_equal(after[article_id][1], before[article_id][1])
    # Offsets of the remaining articles still slice their own text.
    for i in range(len(data.sentences)):
        assert data.sentence_text(i) and data.sentence_text(i) == data.sentence_text(i).strip()


def test_changed_chunk_params_rebuild_everything(built, fake_encoder):
    corpus, index_dir, _ = built
    params = ChunkParams(max_sentences=2, overlap=1)
    report = build_index(corpus, index_dir, fake_encoder, params=params)
    assert report.full_rebuild_reason == "chunking parameters changed"
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    assert fake_encoder.encoded == report.passages + report.sentences
    assert load_index(index_dir).manifest["chunking"] == dataclasses.asdict(params)


def test_changed_model_rebuilds_everything(built):
    corpus, index_dir, _ = built
    other = FakeEncoder(name="other-model")
    report = build_index(corpus, index_dir, other)
    assert "'fake-hash-64'" in report.full_rebuild_reason and "'other-model'" in report.full_rebuild_reason
    assert other.encoded == report.passages + report.sentences
    assert load_index(index_dir).model == "other-model"


def test_same_model_name_other_dimension_rebuilds_everything(built):
    corpus, index_dir, _ = built
    resized = FakeEncoder(dim=32)  # same name, other dimension (e.g. a model directory replaced)
    report = build_index(corpus, index_dir, resized)
    assert report.full_rebuild_reason
    data = load_index(index_dir)
    assert data.dimension == 32 and data.sentence_vectors.shape[1] == 32


def test_previous_corrupt_index_is_rebuilt(built, fake_encoder):
    corpus, index_dir, _ = built
    (current_generation(index_dir) / "passages.faiss").write_bytes(b"garbage")
    report = build_index(corpus, index_dir, fake_encoder)
    assert report.full_rebuild_reason.startswith("previous index unusable")
    assert fake_encoder.encoded == report.passages + report.sentences
    load_index(index_dir)


def test_adding_an_article_without_sentences(built, tmp_path, fake_encoder):
    corpus, index_dir, _ = built
    make_corpus(tmp_path, {"heading-only": ("Heading only", "## Coming soon")})
    report = build_index(corpus, index_dir, fake_encoder)
    assert report.added == ["heading-only"]
    assert load_index(index_dir).article_position("heading-only") is not None


# ---------------------------------------------------------------------------- failed builds


@pytest.mark.parametrize(
    "filename, content",
    [
        ("bad-front-matter.md", "---\nid: [unclosed\ntitle: x\n---\n\nBody text.\n"),
        ("no-front-matter.md", "Just a body without any front matter.\n"),
        ("latin1.md", "---\nid: latin1\ntitle: Caf\xe9\n---\n\nCaf\xe9 society.\n".encode("latin-1")),
    ],
)
def test_unreadable_corpus_file_leaves_the_index_alone(built, fake_encoder, filename, content):
    corpus, index_dir, _ = built
    live, files = generation(index_dir), snapshot(index_dir)
    path = corpus / filename
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    with pytest.raises(CorpusError) as info:
        build_index(corpus, index_dir, fake_encoder)
    assert str(path) in str(info.value)
    assert "left as it was" in str(info.value)
    assert fake_encoder.encoded == 0
    assert generation(index_dir) == live and snapshot(index_dir) == files
    assert len(load_index(index_dir).articles) == len(SMALL_ARTICLES)


def test_non_utf8_error_says_how_to_fix(built, fake_encoder):
    corpus, index_dir, _ = built
    (corpus / "latin1.md").write_bytes(b"---\nid: latin1\ntitle: Caf\xe9\n---\n\nCaf\xe9.\n")
    with pytest.raises(CorpusError, match=r"latin1\.md: not valid UTF-8 \(byte \d+\); re-save it as UTF-8"):
        build_index(corpus, index_dir, fake_encoder)


def test_missing_or_empty_corpus(tmp_path, fake_encoder):
    with pytest.raises(CorpusError, match="does not exist"):
        build_index(tmp_path / "nowhere", tmp_path / "index", fake_encoder)
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match="has no articles"):
        build_index(tmp_path / "empty", tmp_path / "index", fake_encoder)
    assert not (tmp_path / "index" / "CURRENT").exists()


class FailingEncoder(FakeEncoder):
    """Encodes the first ``good_batches`` batches, then raises like a model running out of memory."""

    def __init__(self, good_batches: int = 1, **kwargs) -> None:
        super().__init__(**kwargs)
        self.good_batches = good_batches

    def _before_batch(self, batch) -> None:
        if self.batches >= self.good_batches:
            raise RuntimeError("simulated failure in the middle of embedding")


def test_build_failing_part_way_keeps_the_previous_index(built, tmp_path):
    corpus, index_dir, _ = built
    live, files = generation(index_dir), snapshot(index_dir)
    title, body = SMALL_ARTICLES[FLOOD]
    make_corpus(tmp_path, {FLOOD: (title, body + "\n\nA late update arrived.")})
    encoder = FailingEncoder(good_batches=1)
    with pytest.raises(RuntimeError, match="simulated failure"):
        build_index(corpus, index_dir, encoder, batch_size=3)
    assert encoder.encoded == 3, "it failed after the first batch, not before"
    assert generation(index_dir) == live and snapshot(index_dir) == files
    assert not list(index_dir.glob(".build-*"))
    assert load_index(index_dir).path.name == live
    # The lock was released: the next build works.
    assert build_index(corpus, index_dir, FakeEncoder()).changed == [FLOOD]


def test_build_failing_while_writing_removes_its_staging_directory(built, fake_encoder, monkeypatch):
    corpus, index_dir, _ = built
    live, files = generation(index_dir), snapshot(index_dir)
    (corpus / f"{BLA}.md").unlink()

    def broken_save(self, directory):
        Path(directory).mkdir()
        (Path(directory) / "half-written.npy").write_bytes(b"\x93NUMPY")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("qa_bot.store.lexical.LexicalIndex.save", broken_save)
    with pytest.raises(OSError, match="No space left"):
        build_index(corpus, index_dir, fake_encoder)
    assert not list(index_dir.glob(".build-*"))
    assert sorted(p.name for p in index_dir.iterdir() if p.name.startswith("gen-")) == [live]
    assert generation(index_dir) == live and snapshot(index_dir) == files


def test_leftovers_of_a_killed_build_are_removed_by_the_next(built, fake_encoder):
    corpus, index_dir, _ = built
    (index_dir / ".build-gen-20000101T000000-deadbeef").mkdir()
    (index_dir / ".build-gen-20000101T000000-deadbeef" / "articles.json").write_text("[")
    (index_dir / "gen-20000101T000000-cafebabe").mkdir()
    report = build_index(corpus, index_dir, fake_encoder)
    assert sorted(p.name for p in index_dir.iterdir() if p.is_dir()) == [report.generation]


def test_concurrent_build_is_refused(built, fake_encoder):
    corpus, index_dir, _ = built
    live = generation(index_dir)
    with build_lock(index_dir), pytest.raises(BuildInProgressError, match="another 'qa-bot build' is writing"):
        build_index(corpus, index_dir, fake_encoder)
    assert generation(index_dir) == live
    build_index(corpus, index_dir, fake_encoder)  # the lock is free again


def test_concurrent_build_from_another_thread_is_refused(built, fake_encoder):
    corpus, index_dir, _ = built
    inside, release = threading.Event(), threading.Event()

    class SlowEncoder(FakeEncoder):
        def _before_batch(self, batch):
            inside.set()
            release.wait(10)

    errors, reports = [], []
    title, body = SMALL_ARTICLES[FLOOD]
    make_corpus(corpus.parent, {FLOOD: (title, body + "\n\nNew paragraph.")})
    thread = threading.Thread(target=lambda: reports.append(build_index(corpus, index_dir, SlowEncoder())))
    thread.start()
    try:
        assert inside.wait(10)
        try:
            build_index(corpus, index_dir, fake_encoder)
        except BuildInProgressError as exc:
            errors.append(exc)
    finally:
        release.set()
        thread.join(10)
    assert len(errors) == 1 and "wait for it to finish" in str(errors[0])
    assert fake_encoder.encoded == 0
    assert len(reports) == 1 and reports[0].changed == [FLOOD], "the first build finished normally"
    assert generation(index_dir) == reports[0].generation


# ---------------------------------------------------------------------------- damaged indexes


def assert_names(exc: Exception, path: Path) -> None:
    message = str(exc)
    assert str(path) in message, message
    assert "qa-bot build" in message, message


def test_no_index_at_all(tmp_path):
    with pytest.raises(IndexMissingError) as info:
        load_index(tmp_path / "index")
    assert "qa-bot build" in str(info.value) and str(tmp_path / "index") in str(info.value)


def test_truncated_faiss_file(built):
    _, index_dir, _ = built
    path = current_generation(index_dir) / "passages.faiss"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, path)


def test_garbage_manifest(built):
    _, index_dir, _ = built
    path = current_generation(index_dir) / "manifest.json"
    path.write_bytes(b"\x00\xffnot json{")
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, path)


def test_manifest_of_something_else(built):
    _, index_dir, _ = built
    path = current_generation(index_dir) / "manifest.json"
    path.write_text(json.dumps({"format": "other-tool", "format_version": 1}))
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, path)


@pytest.mark.parametrize(
    "edit",
    [
        lambda m: m.pop("model"),
        lambda m: m.update(model=None),
        lambda m: m.update(files={"articles.json": "not a mapping"}),
    ],
    ids=["no-model", "null-model", "bad-file-entry"],
)
def test_manifest_with_missing_fields(built, edit):
    _, index_dir, _ = built
    path = current_generation(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    edit(manifest)
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, path)


def test_flipped_bytes_in_sentences(built):
    _, index_dir, _ = built
    path = current_generation(index_dir) / "sentences.npy"
    content = bytearray(path.read_bytes())
    for i in range(len(content) - 16, len(content)):
        content[i] ^= 0xFF
    path.write_bytes(bytes(content))
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, path)
    assert "checksum" in str(info.value)


@pytest.mark.parametrize("name", ["articles.json", "sentence_vectors.npy", "passages.npy"])
def test_deleted_index_file(built, name):
    _, index_dir, _ = built
    path = current_generation(index_dir) / name
    path.unlink()
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, path)
    assert "missing" in str(info.value)


def test_deleted_generation_that_current_points_at(built):
    _, index_dir, _ = built
    shutil.rmtree(current_generation(index_dir))
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, index_dir / "CURRENT")


@pytest.mark.parametrize("pointer", ["../../etc", "", "gen-x/../..", "\xff"])
def test_current_pointing_outside(built, pointer):
    _, index_dir, _ = built
    (index_dir / "CURRENT").write_text(pointer + "\n", encoding="utf-8")
    with pytest.raises(IndexCorruptError) as info:
        load_index(index_dir)
    assert_names(info.value, index_dir / "CURRENT")


def test_missing_current_is_missing_index(built):
    _, index_dir, _ = built
    (index_dir / "CURRENT").unlink()
    with pytest.raises(IndexMissingError, match="qa-bot build"):
        load_index(index_dir)


@pytest.mark.parametrize("version, word", [(999, "newer"), (0, "older")])
def test_other_format_version(built, version, word):
    _, index_dir, _ = built
    path = current_generation(index_dir) / "manifest.json"
    manifest = json.loads(path.read_text(encoding="utf-8"))
    manifest["format_version"] = version
    path.write_text(json.dumps(manifest), encoding="utf-8")
    with pytest.raises(IndexIncompatibleError) as info:
        load_index(index_dir)
    message = str(info.value)
    assert word in message and "qa-bot build" in message and str(path) in message
    if word == "newer":
        assert "upgrade qa-bot" in message


# ---------------------------------------------------------------------------- model mismatch


def test_bot_refuses_an_encoder_of_another_model(built):
    _, index_dir, _ = built
    data = load_index(index_dir)
    with pytest.raises(IndexIncompatibleError) as info:
        QABot(data, FakeEncoder(name="another-model"))
    message = str(info.value)
    assert "'fake-hash-64'" in message and "'another-model'" in message
    assert "qa-bot build --model another-model" in message and "rebuild" in message


def test_bot_refuses_an_encoder_of_another_dimension_on_first_question(built):
    _, index_dir, _ = built
    bot = QABot(load_index(index_dir), FakeEncoder(dim=32))  # construction stays cheap: no check yet
    with pytest.raises(IndexIncompatibleError) as info:
        bot.ask("What does the BLA want?")
    message = str(info.value)
    assert "32-dimensional" in message and "64-dimensional" in message and "qa-bot build" in message
    with pytest.raises(IndexIncompatibleError):
        bot.search("What does the BLA want?")


# ---------------------------------------------------------------------------- late chunking


# A news story: many short paragraphs, more sentences than one passage holds.
STORY = ("Port strike ends after nine days", """\
Dock workers in Harwick voted on Monday to end a strike that had closed the port for nine days.

The union said 83 percent of its members backed the new contract. Ships waiting offshore began to dock within hours.

The agreement raises wages by 6 percent this year and 4 percent next year. It also limits night shifts to three a week.

"This is a fair deal for the people who keep this port running," union leader Maria Okafor told reporters.

The port authority said it would take a week to clear the backlog of containers. Retailers had warned of empty shelves before the holidays.

Economists estimated that the strike cost the regional economy about 40 million dollars a day. Fuel deliveries were not affected.

The last strike at Harwick, in 2011, lasted three weeks.""")


@pytest.fixture
def news_corpus(tmp_path):
    return make_corpus(tmp_path, {**SMALL_ARTICLES, "harwick-port-strike": STORY})


def test_a_build_reads_every_sentence_once_and_pools_passages_and_sentences(news_corpus, tmp_path):
    """Forward passes are windows cut like passages but without their overlap (indexing/rows.py
    ``windows``): each sentence is read once, in its window; a passage that is a window keeps the
    window's vector, one that straddles two is the length-weighted mean of its sentences' vectors."""
    encoder = SpanFakeEncoder()
    index_dir = tmp_path / "index"
    progress = []
    report = build_index(news_corpus, index_dir, encoder, progress=lambda d, t: progress.append((d, t)))
    data = load_index(index_dir)

    assert data.manifest["sentence_vectors"] == "late"
    windows = encoder.texts
    assert report.embedded_texts == encoder.encoded == len(windows) < len(data.passages)
    assert progress[-1] == (len(windows), len(windows))
    assert encoder.spans == len(data.sentences), "each sentence pooled once"
    for i in range(len(data.sentences)):
        assert sum(data.sentence_text(i) in text for text in windows) == 1, "each sentence read in one window"
        # The fake pools a span to the vector of its own text (without the heading).
        # (within int8 storage's half step, about 1e-3, on top of the pooling's rounding)
        np.testing.assert_allclose(data.sentence_vectors[i], encoder.vector(data.sentence_text(i)), atol=3e-3)
    vectors = data.all_passage_vectors()
    kept = 0
    for p, (_, first, last, _, _) in enumerate(data.passages.tolist()):
        text = embed_text(data.heading(p), data.passage_text(p))
        if text in windows:
            kept += 1
            np.testing.assert_allclose(vectors[p], encoder.vector(text), atol=data.passage_vectors.precision)
        else:
            lengths = data.sentences["end"][first:last] - data.sentences["start"][first:last]
            pooled = lengths @ np.asarray(data.sentence_vectors[first:last], dtype=np.float64)
            np.testing.assert_allclose(vectors[p], pooled / np.linalg.norm(pooled),
                                       atol=2e-3 + data.passage_vectors.precision)
    assert 0 < kept < len(data.passages), "some passages are windows, some straddle two"

    encoder.reset()
    again = build_index(news_corpus, index_dir, encoder)
    assert encoder.encoded == again.embedded_texts == 0 and not again.changed_anything


class WindowRecorder(SpanFakeEncoder):
    """Records the texts of the forward passes whose spans are pooled (the windows)."""

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self.windows: list[str] = []

    def encode_with_span_tokens(self, texts, spans, **kw):
        self.windows += texts
        return super().encode_with_span_tokens(texts, spans, **kw)


def test_a_sentence_that_truncation_cut_in_its_window_is_embedded_alone(news_corpus, tmp_path):
    encoder = WindowRecorder(window=150)
    report = build_index(news_corpus, tmp_path / "index", encoder)
    data = load_index(tmp_path / "index")
    starts = data.sentences["start"]

    def own(i: int) -> str:
        """Sentence i as embedded on its own: under its section's heading."""
        return embed_text(section_heading(data.article_of_sentence(i).text, starts[i]), data.sentence_text(i))

    windows = encoder.windows
    ends = {}
    for i in range(len(data.sentences)):
        (window,) = [w for w in windows if data.sentence_text(i) in w]
        ends[i] = window.index(data.sentence_text(i)) + len(data.sentence_text(i))
    cut = [i for i, end in ends.items() if end > 150]
    assert cut, "the window must cut some sentence"
    assert report.embedded_texts == encoder.encoded == len(windows) + len(cut)
    assert sorted(encoder.texts[len(windows):]) == sorted(own(i) for i in cut)
    for i in range(len(data.sentences)):
        assert np.linalg.norm(data.sentence_vectors[i]) == pytest.approx(1.0, abs=1e-2)  # stored as int8
    for i in cut:
        np.testing.assert_allclose(data.sentence_vectors[i], encoder.vector(own(i)), atol=3e-3)  # int8


def test_switching_between_late_and_separate_sentence_vectors_rebuilds_everything(small_corpus, tmp_path):
    index_dir = tmp_path / "index"
    build_index(small_corpus, index_dir, FakeEncoder())
    assert load_index(index_dir).manifest["sentence_vectors"] == "separate"

    late = SpanFakeEncoder()  # same model name, but it pools sentences from passages
    report = build_index(small_corpus, index_dir, late)
    assert "sentence vectors" in report.full_rebuild_reason
    assert sorted(report.added) == sorted(SMALL_ARTICLES)
    assert load_index(index_dir).manifest["sentence_vectors"] == "late"

    separate = FakeEncoder()
    report = build_index(small_corpus, index_dir, separate)
    assert "sentence vectors" in report.full_rebuild_reason
    data = load_index(index_dir)
    assert separate.encoded == len(data.passages) + len(data.sentences)


def test_files_in_capitals_are_about_the_corpus_and_its_questions_are_the_chat_s_examples(tmp_path):
    """corpus/ATTRIBUTION.md is no article; corpus/QUESTIONS.md gives the chat's example
    questions, kept in the index, and an edit of it alone writes a new generation, embedding nothing."""
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    (corpus / "ATTRIBUTION.md").write_text("# Where the articles come from\n\nTest Gazette.\n", encoding="utf-8")
    (corpus / "QUESTIONS.md").write_text("# Examples\n\n- Who won the chess title?\n- What does the BLA want?\n"
                                         "not a question line\n- Who won the chess title?\n", encoding="utf-8")
    first = build_index(corpus, tmp_path / "index", FakeEncoder())
    assert first.articles == len(SMALL_ARTICLES) and load_corpus(corpus).errors == []
    bot = QABot.load(tmp_path / "index", encoder=FakeEncoder())
    assert bot.examples()[:2] == ["Who won the chess title?", "What does the BLA want?"]
    assert len(bot.examples()) == len(set(bot.examples())), "a heading that is also an example is offered once"
    (corpus / "QUESTIONS.md").write_text("- How did the city respond?\n", encoding="utf-8")
    encoder = FakeEncoder()
    again = build_index(corpus, tmp_path / "index", encoder)
    assert again.generation != first.generation and encoder.encoded == 0
    assert QABot.load(tmp_path / "index", encoder=FakeEncoder()).examples()[0] == "How did the city respond?"
    (tmp_path / "x.txt").write_text("Shuttle on show\n\nThe shuttle goes on show in May.\n", encoding="utf-8")
    report = add_sources(tmp_path / "other", [str(tmp_path / "x.txt")], Overrides(id="NASA-2015"))
    assert not report.added and "an id in capitals names a file about the corpus" in report.errors[0].problem
