"""An index served whole from Milvus (store/served.py, store/slices.py, retrieval/served.py): a
slice of a few articles answers as the whole index does, and a machine without the index
directory (``QABot.load("milvus-lite://…")``, ``qa-bot ask --store``) gives the answers, JSON and
search hits of the machine that built it, in a bounded number of round trips.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import BLA_BODY, SMALL_ARTICLES, FakeEncoder, SpanFakeEncoder

import qa_bot.app.cli
import qa_bot.app.live
import qa_bot.bot
import qa_bot.store.vectors.milvus
from qa_bot.answer.candidates import score_candidates
from qa_bot.answer.quotes import make_answer
from qa_bot.app.live import LiveBot
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.errors import IndexMissingError
from qa_bot.indexing.build import build_index
from qa_bot.indexing.rows import embed_text
from qa_bot.records import Article, ArticleFilter
from qa_bot.retrieval.hybrid import Ranked, bm25_of
from qa_bot.store.data import PLACES
from qa_bot.store.files import load_index
from qa_bot.store.lexical import LexicalBuilder, tokenize
from qa_bot.store.slices import Summary, assemble, pack_article, pack_summary
from qa_bot.store.vectors.milvus import client

QUESTIONS = ["What does the BLA want?", "Who won the chess title?", "How many homes were flooded?",
             "Who will build the solar farm?", "What is the capital of Mars?"]


def _articles() -> list[Article]:
    """The small corpus over two outlets and four days, and a copy of the BLA story in a third."""
    outlets = ["Test Wire", "Test Gazette"]
    out = [Article(id=key, title=title, text=body, source=outlets[n % 2], url=f"https://news.example/{key}",
                   published=f"2026-01-{n + 10:02d}") for n, (key, (title, body)) in enumerate(SMALL_ARTICLES.items())]
    return [*out, Article(id="train-attack-copy", title="Train attack", text=BLA_BODY, source="Test Post",
                          published="2026-01-20")]


def _corpus(tmp_path: Path) -> Path:
    save_articles(tmp_path / "corpus", _articles())
    return tmp_path / "corpus"


def _terms(data, p: int) -> str:
    """Passage ``p``'s BM25 terms as a build gives them to Milvus (heading, then text; stemmed)."""
    return " ".join(tokenize([embed_text(data.heading(p), data.passage_text(p))])[0] or [LexicalBuilder.PLACEHOLDER])


def test_a_slice_of_a_few_articles_scores_and_answers_as_the_whole_index(tmp_path):
    """Every feature, score and answer of the candidates from the slice of their articles equals
    the whole index's: texts, sentence vectors, token states (MaxSim), BM25 (to the bit), copies."""
    build_index(_corpus(tmp_path), tmp_path / "index", SpanFakeEncoder())
    bot = QABot.load(tmp_path / "index", encoder=SpanFakeEncoder())
    data = bot.data
    assert data.tokens is not None and data.copies is not None
    summary = Summary.unpack(pack_summary(data))
    serials, keys = data.serials(), data.passage_keys()
    packets = {int(serials[pos]): pack_article(data, pos) for pos in range(len(data.articles))}
    for question in QUESTIONS:
        q = bot._read([question], tokens=True)
        whole, ranked, _ = bot._retrieve(q, bot.config.passages, None)
        r = ranked[0]
        positions = sorted({int(a) for a in data.passages["article"][r.passages]})
        positions = sorted({m for p in positions for m in (p, *data.copies_of(p))})
        terms = {int(keys[p]): _terms(data, p) for p in r.passages.tolist()}
        part, piece = assemble(summary, {int(serials[p]): packets[int(serials[p])] for p in positions}, terms)
        local = piece.local(keys[r.passages])
        assert piece.whole(local).tolist() == r.passages.tolist()
        assert [part.passage_text(p) for p in local] == [data.passage_text(p) for p in r.passages]
        bm = bm25_of(part, local, q.terms[0], q.synonyms[0])
        assert bm.tolist() == r.bm25.tolist(), question  # float32 sums in the same order
        mapped = Ranked(local, r.fused, r.dense, bm)
        readings = [(q.vectors[0], q.states[0])] + ([] if q.expanded[0] is None else [q.expanded[0]])
        a = score_candidates(whole, bot.config, question, readings, q.terms[0], r, q.synonyms[0])
        b = score_candidates(part, bot.config, question, readings, q.terms[0], mapped, q.synonyms[0])
        assert [whole.sentence_text(s) for s in a.sentences] == [part.sentence_text(s) for s in b.sentences]
        np.testing.assert_allclose(b.features, a.features, rtol=1e-5, atol=1e-6)
        assert make_answer(part, b, bot.config).to_dict() == make_answer(whole, a, bot.config).to_dict(), question


def test_an_article_keeps_its_serial_while_its_content_hash_does_and_a_serial_is_never_given_twice(tmp_path):
    corpus = _corpus(tmp_path)
    build_index(corpus, tmp_path / "index", FakeEncoder())
    data = load_index(tmp_path / "index")
    before = dict(zip((a.id for a in data.articles), data.serials().tolist()))
    assert sorted(before.values()) == list(range(len(before))) and data.manifest["next_serial"] == len(before)
    chess = SMALL_ARTICLES["kowalski-chess-title"]
    (corpus / "riverton-floods.md").unlink()
    save_articles(corpus, [Article(id="kowalski-chess-title", title=chess[0], text=chess[1] + "\n\nAn update.",
                                   source="Test Gazette", published="2026-01-13"),
                           Article(id="a-new-story", title="New", text="A new story about the harbour.")],
                  overwrite=True)
    build_index(corpus, tmp_path / "index", FakeEncoder())
    data = load_index(tmp_path / "index")
    after = dict(zip((a.id for a in data.articles), data.serials().tolist()))
    kept = set(before) - {"kowalski-chess-title", "riverton-floods"}
    assert {a: after[a] for a in kept} == {a: before[a] for a in kept}
    assert {after["kowalski-chess-title"], after["a-new-story"]} == {len(before), len(before) + 1}
    keys = data.passage_keys()
    assert len(set(keys.tolist())) == len(keys)


def test_the_summary_says_what_is_index_wide(tmp_path):
    build_index(_corpus(tmp_path), tmp_path / "index", FakeEncoder())
    data = load_index(tmp_path / "index")
    summary = Summary.unpack(pack_summary(data))
    assert summary.manifest["model"] == data.manifest["model"] and "files" not in summary.manifest
    assert summary.acronyms.forms == data.acronyms.forms
    assert (summary.passages, summary.sentences) == (len(data.passages), len(data.sentences))
    assert [(a.id, a.source, a.published, a.text) for a in summary.catalogue] == \
        [(a.id, a.source, a.published, "") for a in data.articles]
    assert sorted(summary.headings) == ["How did the city respond?", "What does the BLA want?", "What happens next?",
                                        "Who is building it?", "Who leads the group?"]
    shell = summary.shell()
    assert len(shell.passages) == 0 and shell.lexical.idf("balochistan") == data.lexical.idf("balochistan")
    assert shell.lexical.knows("balochistan") and not shell.lexical.knows("zzzz")
    assert summary.words["balochistan"] == sum(a.text.lower().count("balochistan") for a in data.articles)


# ------------------------------------------------------------------------------------ Milvus Lite

needs_milvus = pytest.mark.skipif(importlib.util.find_spec("pymilvus") is None,
                                  reason="the Milvus store is an extra: pip install 'qa-bot[milvus]'")


def _json(answers) -> list[dict]:
    return [a.to_dict() for a in answers]


@pytest.fixture
def served(tmp_path):
    """The corpus built into Milvus Lite, the bot of its index directory, and the served bot."""
    spec = f"milvus-lite://{tmp_path / 'v.db'}"
    build_index(_corpus(tmp_path), tmp_path / "index", FakeEncoder(), store=spec)
    return spec, QABot.load(tmp_path / "index", encoder=FakeEncoder()), QABot.load(spec, encoder=FakeEncoder())


@needs_milvus
def test_a_served_index_answers_as_the_index_directory_does(served):
    spec, local, remote = served
    assert remote.served is not None and len(remote.data.passages) == 0, "nothing of the index is read locally"
    keys = local.data.passage_keys()
    assert local.data.keyed and local.data.rows_of(keys[::-1]).tolist() == list(range(len(keys)))[::-1]
    assert _json(remote.ask_batch(QUESTIONS)) == _json(local.ask_batch(QUESTIONS))
    for where in (ArticleFilter(sources=frozenset({"Test Wire"})), ArticleFilter(published_from="2026-01-11"),
                  ArticleFilter(sources=frozenset({"Test Gazette"}), published_to="2026-01-12")):
        assert _json(remote.ask_batch(QUESTIONS, where=where)) == _json(local.ask_batch(QUESTIONS, where=where))
    asked = ["What happened this week?", "What does the BLA want now?"]
    assert _json(remote.ask_batch(asked, as_of="2026-01-13")) == _json(local.ask_batch(asked, as_of="2026-01-13"))
    for query in ("chess title", "flooded homes"):
        assert [h.to_dict() for h in remote.search(query, 4)] == [h.to_dict() for h in local.search(query, 4)]
    assert remote.headings() == local.headings()
    assert [(a.id, a.title, a.source, a.published) for a in remote.articles] == \
        [(a.id, a.title, a.source, a.published) for a in local.articles]
    assert all(a.text == "" for a in remote.articles), "the catalogue holds no text"
    assert [remote.article(a.id) for a in local.articles] == local.articles, "an article's packet gives its text"
    assert remote.article("no-such-article") is None and local.article("no-such-article") is None


@needs_milvus
def test_a_batch_of_questions_costs_a_search_each_and_one_fetch_of_articles(served):
    _, local, remote = served
    source = remote.served
    before = source.round_trips
    remote.ask_batch(["Who won the chess title?", "How did the city respond?"])
    assert source.round_trips - before == 3, "two hybrid searches, one fetch of the articles they found"
    before = source.round_trips
    answer = remote.ask("What does the BLA want?")
    assert source.round_trips - before == 2, "the search found the BLA story and its copy: nothing more to fetch"
    assert answer.quotes[0].also_in, "the copy is named beside the quote, as locally"
    before = source.round_trips
    where = ArticleFilter(sources=frozenset({"Test Post"}))
    answer = remote.ask("What does the BLA want?", where=where)
    assert source.round_trips - before == 3, "a search, the copy it found, then the story it copies"
    assert answer.to_dict() == local.ask("What does the BLA want?", where=where).to_dict()


@needs_milvus
def test_a_build_updates_milvus_in_place_writing_only_what_changed(tmp_path, served, monkeypatch):
    """An edited, a removed, an added article and one whose outlet changed: only their rows and
    packets are written (the others' vectors are not even read back), the old versions' go, and
    readers, new and running, answer as the index directory does."""
    spec, _, before = served
    live = LiveBot(before)
    monkeypatch.setattr(qa_bot.app.live, "SERVED_POLL", 0.0)
    corpus = tmp_path / "corpus"
    chess, solar = SMALL_ARTICLES["kowalski-chess-title"], SMALL_ARTICLES["dalton-solar-farm"]
    (corpus / "riverton-floods.md").unlink()
    save_articles(corpus, [
        Article(id="kowalski-chess-title", title=chess[0], source="Test Gazette", published="2026-01-13",
                text=chess[1] + "\n\nKowalski will defend her title in Warsaw in May."),
        Article(id="dalton-solar-farm", title=solar[0], text=solar[1], source="Test Courier", published="2026-01-12"),
        Article(id="harbour-dredging", title="Harbour to be dredged", source="Test Wire", published="2026-01-14",
                text="The port authority will dredge the harbour in June. Ships wider than 40 metres wait outside."),
    ], overwrite=True)
    written, read = [], []
    store_class = qa_bot.store.vectors.milvus.MilvusVectorStore
    insert, vectors = store_class._insert, store_class.vectors
    monkeypatch.setattr(store_class, "_insert", lambda self, ids, *a, **k: (written.extend(ids.tolist()),
                                                                             insert(self, ids, *a, **k))[1])
    monkeypatch.setattr(store_class, "vectors", lambda self, ids: (read.append(ids.tolist()), vectors(self, ids))[1])
    build_index(corpus, tmp_path / "index", FakeEncoder())
    local = QABot.load(tmp_path / "index", encoder=FakeEncoder())
    data = local.data
    keys, serials = data.passage_keys(), dict(zip((a.id for a in data.articles), data.serials().tolist()))
    fresh = {serials["kowalski-chess-title"], serials["harbour-dredging"], serials["dalton-solar-farm"]}
    assert sorted(written) == sorted(k for k in keys.tolist() if k // PLACES in fresh)
    moved_keys = keys[list(data.article_passages(data.article_position("dalton-solar-farm")))].tolist()
    assert moved_keys in read, "the moved article's vectors were read back, to be written with its new outlet"
    assert all(call == moved_keys or len(call) == 2 for call in read), \
        "no kept article's vectors were read back (the loader checks two keys a load)"
    assert data.passage_vectors.ids().tolist() == sorted(keys.tolist()), "the old versions' passages are gone"
    milvus = client(str((tmp_path / "v.db").resolve()))
    name = f"{data.passage_vectors.collection}_data"
    held = {r["article"] for r in milvus.query(name, filter="article >= 0", output_fields=["article"])}
    assert held == set(serials.values()), "one packet per article version there is"
    after = QABot.load(spec, encoder=FakeEncoder())
    assert after.served.collection == before.served.collection and after.served.version == before.served.version + 1
    asked = [*QUESTIONS, "Where will Kowalski defend her title?", "When will the harbour be dredged?"]
    assert _json(after.ask_batch(asked)) == _json(local.ask_batch(asked))
    assert _json(after.ask_batch(asked, where=ArticleFilter(sources=frozenset({"Test Courier"})))) == \
        _json(local.ask_batch(asked, where=ArticleFilter(sources=frozenset({"Test Courier"}))))
    before.ask_batch(asked)  # a chat still on the old summary answers: the versions gone are left out
    chat = live.current()
    assert chat is not before and _json(chat.ask_batch(asked)) == _json(local.ask_batch(asked))


@needs_milvus
def test_builds_in_other_processes_publish_and_update_in_place(tmp_path):
    """Each build a process of its own, as from cron: the second updates in place the collections
    the first wrote and another process holds released (Milvus Lite: one process at a time)."""
    corpus = _corpus(tmp_path)
    spec = f"milvus-lite://{tmp_path / 'v.db'}"
    command = [sys.executable, str(Path(__file__).with_name("fake_cli.py")), "build", "--corpus", str(corpus),
               "--index", str(tmp_path / "index")]
    done = subprocess.run([*command, "--store", spec], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    chess = SMALL_ARTICLES["kowalski-chess-title"]
    save_articles(corpus, [Article(id="kowalski-chess-title", title=chess[0], source="Test Gazette",
                                   published="2026-01-13",
                                   text=chess[1] + "\n\nKowalski will defend her title in Warsaw in May.")],
                  overwrite=True)
    done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    remote, local = QABot.load(spec, encoder=FakeEncoder()), QABot.load(tmp_path / "index", encoder=FakeEncoder())
    assert remote.served.version == 1
    asked = [*QUESTIONS, "Where will Kowalski defend her title?"]
    assert _json(remote.ask_batch(asked)) == _json(local.ask_batch(asked))


@needs_milvus
def test_another_model_rebuilds_into_a_new_collection_at_the_same_location(tmp_path, served):
    spec, _, before = served
    other = FakeEncoder("fake-hash-32", 32)
    report = build_index(tmp_path / "corpus", tmp_path / "index", other)
    assert report.full_rebuild_reason and load_index(tmp_path / "index").passage_vectors.kind == "milvus"
    after = QABot.load(spec, encoder=other)
    assert after.served.collection != before.served.collection
    assert after.served.summary.manifest["model"] == {"name": "fake-hash-32", "dimension": 32}
    assert _json(after.ask_batch(QUESTIONS)) == _json(QABot.load(tmp_path / "index", encoder=other).ask_batch(QUESTIONS))
    assert before.served.collection in client(str((tmp_path / "v.db").resolve())).list_collections(), \
        "the old collection stays a build longer, for chats still on it"


@needs_milvus
def test_moving_the_index_off_milvus_unpublishes_it_and_an_empty_location_says_how_to_publish(tmp_path, served):
    spec, _, _ = served
    build_index(tmp_path / "corpus", tmp_path / "index", FakeEncoder(), store=str(tmp_path / "index"))
    with pytest.raises(IndexMissingError, match=r"build one there with 'qa-bot build --store milvus-lite://"):
        QABot.load(spec, encoder=FakeEncoder())


@needs_milvus
def test_the_command_line_answers_from_the_store(tmp_path, served, monkeypatch):
    spec, local, _ = served
    monkeypatch.setattr(qa_bot.bot, "make_encoder", lambda model=None, **kwargs: FakeEncoder())
    result = CliRunner().invoke(qa_bot.app.cli.main, ["ask", QUESTIONS[0], "--store", spec, "--index",
                                                      str(tmp_path / "nowhere"), "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == local.ask(QUESTIONS[0]).to_dict()
    result = CliRunner().invoke(qa_bot.app.cli.main, ["ask", QUESTIONS[0], "--store", str(tmp_path / "index")])
    assert result.exit_code == 2 and "is not a Milvus location" in result.output
    result = CliRunner().invoke(qa_bot.app.cli.main, ["ask", QUESTIONS[0], "--store",
                                                      f"milvus-lite://{tmp_path / 'empty.db'}"])
    assert result.exit_code == 1 and "no index is published at" in result.output


@needs_milvus
def test_the_rest_api_serves_a_milvus_index_articles_text_included(served):
    from fastapi.testclient import TestClient

    from qa_bot.app.api import api_app
    from qa_bot.app.gate import Gate

    _, local, remote = served
    with TestClient(api_app(lambda: remote, Gate(1))) as client:
        listed = client.get("/api/articles").json()
        assert [a["id"] for a in listed["articles"]] == [a.id for a in local.articles]
        first = local.articles[0]
        one = client.get(f"/api/articles/{first.id}").json()
        assert one["text"] == first.text and one["characters"] == len(first.text)
        asked = client.post("/api/ask", json={"question": QUESTIONS[0]}).json()
        assert asked == local.ask(QUESTIONS[0]).to_dict()
        assert client.get("/api/health").json()["generation"] == f"{remote.served.collection}#{remote.served.version}"
