"""One story, many outlets: copies grouped at build time (indexing/copies.py), a quote they carry
cited once from the newest with "also in" (answer/copies.py), copies one source in a conflict."""

from __future__ import annotations

import json
from dataclasses import replace

import numpy as np
import pytest
from conftest import BLA_BODY, SEED_FILE, FakeEncoder
from test_answer import answering_bot

from qa_bot.app.render import answer_markdown, escape
from qa_bot.app.terminal import format_answer
from qa_bot.corpus.files import read_article, save_articles
from qa_bot.errors import IndexCorruptError
from qa_bot.indexing import copies
from qa_bot.indexing.build import build_index
from qa_bot.records import Article, ArticleFilter
from qa_bot.store.files import load_index
from qa_bot.store.generations import current_generation
from qa_bot.store.integrity import record_files

SEED = read_article(SEED_FILE)  # the real article the project began from
MINISTER = "“Our security forces, personnel and officers have fought bravely,” Al Jazeera quoted"


def _story() -> list[Article]:
    """The seed (The Indian Express, 1 February), the same body carried by a wire client two days
    later under its own headline, an updated edition with one more paragraph and a revised figure,
    and an unrelated story."""
    wire = replace(SEED, id="wire-copy", title="Separatists claim Balochistan attacks", source="Dawn",
                   url="https://news.example/dawn", published="2026-02-03")
    paragraphs = SEED.text.split("\n\n")
    revised = [p.replace("17 security personnel", "22 security personnel") for p in paragraphs]
    updated = replace(SEED, id="seed-updated", published="2026-02-02", url="https://news.example/updated",
                      text="\n\n".join([*revised[:4], "Funerals were held in Quetta on Monday.", *revised[4:]]))
    other = Article(id="train", title="Train attack", text=BLA_BODY, source="Test Wire", published="2026-02-01")
    return [SEED, wire, updated, other]


def test_copies_of_one_story_are_grouped_and_other_stories_are_not():
    sigs = copies.signatures([a.text for a in _story()])
    assert sigs.shape == (4, copies.NUM_PERM) and sigs.dtype == np.uint32
    assert copies.groups(sigs).tolist() == [0, 0, 0, 3]
    assert np.array_equal(sigs[0], sigs[1])  # the headline is not signed: retitled wire copy is a copy
    assert np.array_equal(copies.signatures([SEED.text]), sigs[:1])  # the same body signs the same way


def test_the_index_keeps_the_groups_and_signs_only_new_articles_again(tmp_path, monkeypatch):
    story = _story()
    save_articles(tmp_path / "corpus", story[:2] + story[3:])
    build_index(tmp_path / "corpus", tmp_path / "index", FakeEncoder())
    data = load_index(tmp_path / "index")
    assert data.manifest["copies"] == copies.RECIPE
    by_id = {a.id: i for i, a in enumerate(data.articles)}
    assert [data.articles[i].id for i in data.copies_of(by_id[SEED.id])] == ["wire-copy"]
    assert data.copies_of(by_id["train"]) == []

    signed: list[int] = []
    real = copies.signatures
    monkeypatch.setattr(copies, "signatures", lambda texts: signed.append(len(texts)) or real(texts))
    save_articles(tmp_path / "corpus", story[2:3])
    build_index(tmp_path / "corpus", tmp_path / "index", FakeEncoder())
    assert signed == [1]  # only the added edition
    data = load_index(tmp_path / "index")
    group = {data.articles[i].id for i in data.copies_of(data.article_position(SEED.id))}
    assert group == {"wire-copy", "seed-updated"}


def test_an_index_written_before_copies_loads_and_the_next_build_adds_them(tmp_path):
    save_articles(tmp_path / "corpus", _story())
    build_index(tmp_path / "corpus", tmp_path / "index", FakeEncoder())
    gen = current_generation(tmp_path / "index")
    manifest = json.loads((gen / "manifest.json").read_text())
    for name in ("copies.npy", "copy_signatures.npy"):
        (gen / name).unlink()
        del manifest["files"][name]
    del manifest["copies"]
    (gen / "manifest.json").write_text(json.dumps(manifest))
    old = load_index(tmp_path / "index")
    assert old.copies is None and old.copies_of(0) == []
    report = build_index(tmp_path / "corpus", tmp_path / "index", FakeEncoder())
    assert report.embedded_texts == 0 and report.generation != gen.name  # written again, nothing embedded
    assert len(load_index(tmp_path / "index").copies_of(0)) == 2


def test_copies_that_disagree_with_the_articles_are_refused(tmp_path):
    save_articles(tmp_path / "corpus", _story())
    build_index(tmp_path / "corpus", tmp_path / "index", FakeEncoder())
    gen = current_generation(tmp_path / "index")
    manifest = json.loads((gen / "manifest.json").read_text())
    np.save(gen / "copies.npy", np.array([0, 0, 3, 1]))  # article 3 in a group led by a later article
    (gen / "manifest.json").unlink()
    manifest["files"] = record_files(gen)
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="copies.npy"):
        load_index(tmp_path / "index")


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    return answering_bot(tmp_path_factory.mktemp("copies"), _story())


def _minister(answer):
    return [q for q in answer.quotes if q.text.startswith(MINISTER)]


def test_a_quote_carried_by_copies_is_shown_once_cited_from_the_newest(bot):
    answer = bot.ask("What did Al Jazeera quote the Information Minister Attaullah Tarar as saying?")
    [quote] = _minister(answer)
    assert quote.article.id == "wire-copy"  # 3 February: the newest that holds these words
    article = bot.data.articles[bot.data.article_position("wire-copy")]
    assert article.text[quote.start : quote.end] == quote.text
    assert [c.id for c in quote.also_in] == ["seed-updated", SEED.id]  # newest first
    assert [c["source"] for c in quote.to_dict()["also_in"]] == ["The Indian Express", "The Indian Express"]
    words = "Also in: The Indian Express (2026-02-02), The Indian Express (2026-02-01)"
    assert escape(words) in answer_markdown(answer)
    assert "also in: The Indian Express (2026-02-02), The Indian Express (2026-02-01)" in format_answer(answer)


def test_the_first_report_is_cited_when_the_question_asks_for_it(bot):
    answer = bot.ask("What did Al Jazeera originally quote the Information Minister Attaullah Tarar as saying?")
    [quote] = _minister(answer)
    assert quote.article.id == SEED.id and [c.id for c in quote.also_in] == ["wire-copy", "seed-updated"]
    plain = bot.ask("What did Al Jazeera quote the Information Minister Attaullah Tarar as saying?")
    assert _minister(plain)[0].article.id == "wire-copy"


def test_a_copy_the_filter_excludes_is_neither_cited_nor_listed(bot):
    where = ArticleFilter(sources=frozenset({"The Indian Express"}))
    answer = bot.ask("What did Al Jazeera quote the Information Minister Attaullah Tarar as saying?", where=where)
    [quote] = _minister(answer)
    assert quote.article.id == "seed-updated" and [c.id for c in quote.also_in] == [SEED.id]


def test_a_copy_is_named_only_where_it_holds_the_quote_word_for_word(bot):
    answer = bot.ask("How many civilians, security personnel and BLA fighters were killed?")
    revised = [q for q in answer.quotes if "22 security personnel" in q.text]
    assert revised and not revised[0].also_in  # only the updated edition says 22
    texts = {a.id: a.text for a in bot.data.articles}
    for question in ("What does the BLA want?", "Who claimed responsibility for the assaults?"):
        for quote in bot.ask(question).quotes:
            assert all(quote.text in texts[c.id] for c in quote.also_in)
    assert any(q.also_in for q in bot.ask("Who claimed responsibility for the assaults?").quotes)


def test_copies_are_one_source_in_a_conflict(bot):
    answer = bot.ask("How many security personnel were killed?")
    assert answer.conflict is not None
    values = sorted(c.value for c in answer.conflict.claims)
    assert values == [17, 22, 84]  # 17 and 84 once each, however many copies repeat them


def test_copies_can_be_switched_off(bot):
    off = bot.with_config(replace(bot.config, copies=False))
    answer = off.ask("What did Al Jazeera quote the Information Minister Attaullah Tarar as saying?")
    assert all(not q.also_in for q in answer.quotes)


def test_a_long_list_of_copies_is_shortened_beside_the_quote_and_kept_whole_in_the_json():
    from qa_bot.app.wording import ALSO_IN_SHOWN, also_in_words
    from qa_bot.records import Citation, Quote

    copies_ = tuple(Citation(f"c{i}", "T", f"Outlet {i}", f"https://news.example/{i}", f"2026-01-{i + 1:02d}")
                    for i in range(ALSO_IN_SHOWN + 3))
    quote = Quote("Text.", 0.9, 0, 5, "Text.", copies_[0], also_in=copies_)
    assert also_in_words(quote).endswith("Outlet 3 (2026-01-04) and 3 more")
    assert len(quote.to_dict()["also_in"]) == ALSO_IN_SHOWN + 3


def test_a_copy_without_a_date_is_never_taken_for_the_first_report(tmp_path):
    undated = replace(SEED, id="undated-copy", source="Undated Wire", published="", url="")
    bot = answering_bot(tmp_path, [SEED, undated])
    answer = bot.ask("What did Al Jazeera originally quote the Information Minister Attaullah Tarar as saying?")
    [quote] = _minister(answer)
    assert quote.article.id == SEED.id and [c.id for c in quote.also_in] == ["undated-copy"]
