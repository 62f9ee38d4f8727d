"""The index with its passage vectors in Milvus (Milvus Lite, in a file, through the same code that
talks to a Milvus server by URI): the same answers as the FAISS index, collections that follow the
generations, a failed build that leaves the live collection alone, a malformed location refused.

The vector-store contract itself runs on Milvus Lite in tests/test_vector_store.py.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SEED_FILE, SMALL_ARTICLES, FakeEncoder, make_corpus

from qa_bot.app.cli import main
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.corpus.ingest import add_sources
from qa_bot.errors import IndexCorruptError
from qa_bot.indexing.build import build_index
from qa_bot.records import Article, ArticleFilter
from qa_bot.store import lexical
from qa_bot.store.files import load_index
from qa_bot.store.generations import current_generation
from qa_bot.store.lexical import tokenize

pymilvus = pytest.importorskip("pymilvus", reason="the Milvus store is an extra: pip install 'qa-bot[milvus]'")

from qa_bot.store.vectors.milvus import client, filter_expression  # noqa: E402 (the extra is there)

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = ["What does the BLA want?", "Who won the chess title?", "How many homes were flooded?",
             "What is the capital of Mars?"]


def _collections(db: Path) -> set[str]:
    """The passage collections in ``db``, each checked to have its packets beside it (served.py)."""
    names = set(client(str(db.resolve())).list_collections())
    passages = {n for n in names if not n.endswith("_data")}
    assert names == passages | {f"{n}_data" for n in passages}, names
    return passages


def _answers(index: Path, where: ArticleFilter | None = None) -> list[tuple]:
    """What each answer says: answered or not, its quotes and where they stand, the closest passage
    (scores may differ in the third decimal: FAISS keeps vectors to 8 bits, Milvus as float32)."""
    bot = QABot.load(index, encoder=FakeEncoder())
    return [(a.answered, [(q.text, q.article.id, q.start) for q in a.quotes], a.closest and a.closest.text,
             [round(q.score, 2) for q in a.quotes]) for a in bot.ask_batch(QUESTIONS, where=where)]


def test_a_milvus_index_answers_as_the_faiss_index_does(tmp_path):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    build_index(corpus, tmp_path / "faiss", FakeEncoder())
    db = tmp_path / "vectors.db"
    report = build_index(corpus, tmp_path / "milvus", FakeEncoder(), store=f"milvus-lite://{db}")
    assert report.embedded_texts > 0
    data = load_index(tmp_path / "milvus")
    assert data.passage_vectors.kind == "milvus" and data.manifest["vector_store"] == "milvus"
    record = json.loads((current_generation(tmp_path / "milvus") / "milvus.json").read_text())
    assert _collections(db) == {record["collection"]}
    assert _answers(tmp_path / "milvus") == _answers(tmp_path / "faiss")


def test_bm25_and_the_fusion_run_in_milvus_and_filters_are_its_expressions(tmp_path):
    """One hybrid_search a question: Milvus's BM25 over the index's own terms ranks as bm25s does,
    and outlet and date filters, evaluated by Milvus over the passages' fields, answer as the
    local masks do."""
    articles = [Article(id=key, title=title, text=body, source="Test Wire" if n % 2 else "Test Gazette",
                        published=f"2026-01-{n + 10:02d}") for n, (key, (title, body)) in enumerate(SMALL_ARTICLES.items())]
    save_articles(tmp_path / "corpus", articles)
    build_index(tmp_path / "corpus", tmp_path / "faiss", FakeEncoder())
    build_index(tmp_path / "corpus", tmp_path / "milvus", FakeEncoder(), store=f"milvus-lite://{tmp_path / 'v.db'}")
    store = load_index(tmp_path / "milvus").passage_vectors
    lexical = load_index(tmp_path / "faiss").lexical
    for question in QUESTIONS:
        terms = tokenize([question])[0]
        keys, *_ = store.hybrid(np.zeros((0, store.dimension), np.float32), " ".join(terms), 10, 10)
        ids = load_index(tmp_path / "milvus").rows_of(keys)
        want, _ = lexical.search(terms, 10)
        assert ids.tolist() == want.tolist(), question
    for where in (ArticleFilter(sources=frozenset({"Test Wire"})), ArticleFilter(published_from="2026-01-11"),
                  ArticleFilter(sources=frozenset({"Test Gazette"}), published_to="2026-01-12")):
        assert _answers(tmp_path / "milvus", where) == _answers(tmp_path / "faiss", where), where.describe()
    assert filter_expression(["Dawn", 'The "Wire"'], "2026-01-01", None) == \
        'source in ["Dawn", "The \\"Wire\\""] and day != "" and day >= "2026-01-01"'


def test_a_build_updates_the_collection_in_place_and_moving_off_milvus_drops_it_a_build_later(tmp_path):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    db = tmp_path / "vectors.db"
    build_index(corpus, tmp_path / "index", FakeEncoder(), store=f"milvus-lite://{db}")
    first = _collections(db)
    edited = dict(SMALL_ARTICLES)
    key = next(iter(edited))
    edited[key] = (edited[key][0], edited[key][1] + "\n\nA paragraph added later says the river rose again.")
    make_corpus(tmp_path, edited)
    encoder = FakeEncoder()
    build_index(corpus, tmp_path / "index", encoder)  # no --store: the index keeps its store
    assert _collections(db) == first, "the same collection, updated in place (tests/test_served.py)"
    data = load_index(tmp_path / "index")
    assert data.passage_vectors.kind == "milvus" and data.passage_vectors.ids().tolist() == sorted(
        data.passage_keys().tolist()), "the old version's rows are gone"
    assert encoder.encoded < 20, "only the edited article was embedded"
    report = build_index(corpus, tmp_path / "index", FakeEncoder(), store=str(tmp_path / "index"))
    assert report.embedded_texts == 0, "moving the vectors back to FAISS reads them from Milvus"
    assert load_index(tmp_path / "index").passage_vectors.kind == "faiss"
    assert _collections(db) == first, "retired: chats on it keep answering until the next build"
    make_corpus(tmp_path, SMALL_ARTICLES)
    build_index(corpus, tmp_path / "index", FakeEncoder())
    assert _collections(db) == set()


def test_a_failed_build_leaves_the_live_collection_and_deletes_the_rows_it_wrote(tmp_path, monkeypatch):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    db = tmp_path / "vectors.db"
    build_index(corpus, tmp_path / "index", FakeEncoder(), store=f"milvus-lite://{db}")
    live = _collections(db)
    want = _answers(tmp_path / "index")

    def broken(self, directory):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lexical.LexicalIndex, "save", broken)
    edited = dict(SMALL_ARTICLES)
    key = next(iter(edited))
    edited[key] = (edited[key][0], edited[key][1] + "\n\nAn update.")
    make_corpus(tmp_path, edited)
    with pytest.raises(OSError):
        build_index(corpus, tmp_path / "index", FakeEncoder())
    assert _collections(db) == live
    data = load_index(tmp_path / "index")
    assert data.passage_vectors.ids().tolist() == sorted(data.passage_keys().tolist()), "its new rows deleted"
    assert _answers(tmp_path / "index") == want


def test_a_malformed_location_is_refused_with_the_forms_it_takes(tmp_path):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                                       "--store", "milvus://host:port:9/x"])
    assert result.exit_code == 2
    assert "milvus://HOST:PORT/COLLECTION or milvus-lite://PATH" in result.output
    assert not (tmp_path / "index").exists(), "nothing was built"


@pytest.mark.e2e
@pytest.mark.shared
def test_the_seed_and_wikinews_in_milvus_lite_give_the_faiss_first_quotes(tmp_path, shared_dir):
    """The real model over the seed and the 43 Wikinews articles: on the dev questions, the first
    quote (or the decline) is the FAISS index's, from the index directory and from Milvus alone."""
    corpus = tmp_path / "corpus"
    add_sources(corpus, [str(SEED_FILE)])
    add_sources(corpus, [str(shared_dir / "data" / "gum_wikinews.jsonl")])
    QABot.build(corpus, tmp_path / "faiss")
    spec = f"milvus-lite://{tmp_path / 'vectors.db'}"
    QABot.build(corpus, tmp_path / "milvus", store=spec)
    questions = [json.loads(line)["q"] for line in
                 (shared_dir / "data" / "dev_questions.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    faiss_bot, milvus_bot = QABot.load(tmp_path / "faiss"), QABot.load(tmp_path / "milvus")
    assert milvus_bot.data.passage_vectors.kind == "milvus"

    def first(bot):
        return [(a.answered, a.quotes[0].text if a.quotes else None, a.quotes[0].article.id if a.quotes else None)
                for a in bot.ask_batch(questions)]

    want = first(faiss_bot)
    assert first(milvus_bot) == want
    assert first(QABot.load(spec, encoder=milvus_bot.encoder)) == want


def test_an_index_another_process_built_in_milvus_lite_is_searched_here(tmp_path):
    """The command line (with the fake encoder) builds into a Milvus Lite file and exits; this
    process opens the index and its collection, which Milvus holds released until it is loaded
    again. Milvus Lite serves one process per file, so the two take turns."""
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    db = tmp_path / "shared.db"
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("fake_cli.py")), "build", "--corpus",
                           str(corpus), "--index", str(tmp_path / "index"), "--store", f"milvus-lite://{db}"],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    build_index(corpus, tmp_path / "faiss", FakeEncoder())
    assert _answers(tmp_path / "index") == _answers(tmp_path / "faiss")


def test_a_milvus_lite_file_open_in_another_process_is_refused_with_what_to_do(tmp_path):
    db = tmp_path / "busy.db"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pymilvus import MilvusClient; MilvusClient(sys.argv[1]); "
        "print('open', flush=True); time.sleep(120)"), str(db)], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        corpus = make_corpus(tmp_path, SMALL_ARTICLES)
        result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(tmp_path / "index"),
                                           "--store", f"milvus-lite://{db}"])
    finally:
        holder.kill()
        holder.wait()
    assert result.exit_code == 1
    assert "it is open in another process (Milvus Lite serves one process at a time)" in result.output
    assert not (tmp_path / "index" / "CURRENT").exists()


def test_the_collection_records_its_model_and_a_collection_of_another_is_refused(tmp_path):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    db = tmp_path / "vectors.db"
    build_index(corpus, tmp_path / "index", FakeEncoder(), store=f"milvus-lite://{db}")
    store = load_index(tmp_path / "index").passage_vectors
    recorded = store.recorded()
    assert recorded["model"] == FakeEncoder().name and recorded["dimension"] == FakeEncoder().dimension
    assert recorded["generation"] == current_generation(tmp_path / "index").name
    store.record({"model": "another-model"})  # as if milvus.json named another index's collection
    with pytest.raises(IndexCorruptError, match="holds vectors of model 'another-model'"):
        load_index(tmp_path / "index")
