"""Acronyms learned from the corpus and written into questions both ways."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import FakeEncoder, make_corpus

from qa_bot.answer.features import RANK_FEATURES
from qa_bot.bot import QABot
from qa_bot.errors import IndexCorruptError
from qa_bot.indexing.build import build_index
from qa_bot.retrieval.acronyms import Acronyms, best_long_form
from qa_bot.store.files import load_index
from qa_bot.store.generations import current_generation


@pytest.mark.parametrize(
    ("short", "text", "expected"),
    [
        ("BLA", "claimed by the Baloch Liberation Army", "Baloch Liberation Army"),
        ("TTP", "the banned Tehreek-e-Taliban Pakistan", "Tehreek-e-Taliban Pakistan"),
        ("CPEC", "the China-Pakistan Economic Corridor", "China-Pakistan Economic Corridor"),
        ("NGOs", "many non-governmental organisations", "non-governmental organisations"),
        ("BLA", "a separatist group", None),
    ],
)
def test_best_long_form_spells_the_short_form_from_a_word_start(short, text, expected):
    assert best_long_form(short, text) == expected


def test_learn_finds_both_ways_of_defining_an_acronym():
    acronyms = Acronyms.learn([
        "Attacks were claimed by the Baloch Liberation Army (BLA) on Tuesday.",
        "The TTP (Tehreek-e-Taliban Pakistan) denied it. Funds came from the Office of Alien Property (OAP).",
        "He joined the army (ARMY) in 1990. She works in the US (United States) now.",
        "The 2019 report (PDF) and chapter III (III) say little.",
    ])
    assert acronyms.forms == {
        "BLA": "Baloch Liberation Army",
        "TTP": "Tehreek-e-Taliban Pakistan",
        "OAP": "Office of Alien Property",  # not "of Alien Property": a linking word cannot open it
        "US": "United States",
    }


def test_an_acronym_defined_two_ways_keeps_the_more_frequent_and_drops_a_tie():
    acronyms = Acronyms.learn([
        "The Palestinian Authority (PA) said.", "The Palestinian Authority (PA) added.", "Pennsylvania (PA) voted.",
        "The Press Council (PC) met.", "A Personal Computer (PC) broke.",
    ])
    assert acronyms.forms == {"PA": "Palestinian Authority"}


def test_expand_adds_the_other_form_after_the_one_the_question_holds():
    acronyms = Acronyms({"BLA": "Baloch Liberation Army", "NGO": "non-governmental organisation"})
    assert acronyms.expand("What does the BLA want?") == "What does the BLA (Baloch Liberation Army) want?"
    assert acronyms.expand("What does the baloch liberation army want?") == (
        "What does the baloch liberation army (BLA) want?")
    assert acronyms.expand("Which NGOs help?") == "Which NGOs (non-governmental organisation) help?"
    # Nothing to add: both forms present, an unknown acronym, a word that merely looks like one.
    assert acronyms.expand("Is the BLA the Baloch Liberation Army?") == "Is the BLA the Baloch Liberation Army?"
    assert acronyms.expand("What does the TTP want?") == "What does the TTP want?"
    assert acronyms.expand("What does blah want?") == "What does blah want?"
    assert Acronyms().expand("What does the BLA want?") == "What does the BLA want?"


ARTICLES = {
    "ttp-profile": ("Who are the Pakistani Taliban?",
                    "Officials blamed the Tehreek-e-Taliban Pakistan (TTP) for the unrest. "
                    "The TTP leadership is based across the Afghan border."),
    "peshawar-bridge": ("Bridge bombed near Peshawar",
                        "Tehreek-e-Taliban Pakistan militants bombed a bridge near Peshawar on Monday. "
                        "Traffic was halted for hours."),
    "army-operation": ("Army operation ends",
                       "Pakistan's army ended an operation against militants in the north. It lasted a week."),
}
BRIDGE = "Tehreek-e-Taliban Pakistan militants bombed a bridge near Peshawar on Monday."


@pytest.fixture
def ttp_bot(tmp_path):
    corpus = make_corpus(tmp_path, ARTICLES)
    build_index(corpus, tmp_path / "index", FakeEncoder())
    return QABot(load_index(tmp_path / "index"), FakeEncoder())


def test_the_index_keeps_the_acronyms_its_articles_define(ttp_bot, tmp_path):
    assert ttp_bot.data.acronyms.forms == {"TTP": "Tehreek-e-Taliban Pakistan"}
    saved = json.loads((current_generation(tmp_path / "index") / "acronyms.json").read_text())
    assert saved == {"TTP": "Tehreek-e-Taliban Pakistan"}


def test_a_question_naming_the_acronym_finds_the_sentence_that_spells_it_out(ttp_bot):
    question = "What did the TTP bomb?"
    answer = ttp_bot.ask(question)
    assert answer.question == question  # the reader's question is never rewritten
    assert answer.answered and answer.quotes[0].text == BRIDGE
    assert "peshawar-bridge" in [hit.article.id for hit in ttp_bot.search(question, k=2)]

    def lexical_coverage_of_bridge(bot) -> float:
        cand = bot.candidates_batch([question])[0]
        row = [bot.data.sentence_text(int(s)) for s in cand.sentences].index(BRIDGE)
        return float(cand.features[row, RANK_FEATURES.index("sent_lex")])

    expanded = lexical_coverage_of_bridge(ttp_bot)
    ttp_bot.config = replace(ttp_bot.config, expand_acronyms=False)
    assert lexical_coverage_of_bridge(ttp_bot) < expanded


def test_a_damaged_acronyms_file_is_reported(ttp_bot, tmp_path):
    gen = current_generation(tmp_path / "index")
    manifest = json.loads((gen / "manifest.json").read_text())
    (gen / "acronyms.json").write_text('["TTP"]')
    import hashlib

    manifest["files"]["acronyms.json"] = {"bytes": (gen / "acronyms.json").stat().st_size,
                                          "sha256": hashlib.sha256(b'["TTP"]').hexdigest()}
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorruptError, match="acronyms.json is not a map.*qa-bot build"):
        load_index(tmp_path / "index")


def test_an_index_from_before_acronyms_were_kept_learns_them_on_load(ttp_bot, tmp_path):
    gen = current_generation(tmp_path / "index")
    manifest = json.loads((gen / "manifest.json").read_text())
    del manifest["files"]["acronyms.json"]
    (gen / "acronyms.json").unlink()
    (gen / "manifest.json").write_text(json.dumps(manifest))
    assert load_index(tmp_path / "index").acronyms.forms == {"TTP": "Tehreek-e-Taliban Pakistan"}


def test_bm25_credits_a_passage_once_for_an_acronym_and_its_long_form():
    import numpy as np

    from qa_bot.store.lexical import LexicalIndex, tokenize

    texts = ["The Baloch Liberation Army (BLA) wants independence.",  # both forms
             "The BLA wants independence.",  # the acronym only
             "The Baloch Liberation Army wants independence.",  # the long form only
             "Farmers want rain."]
    lexical = LexicalIndex.build(texts)
    query = tokenize(["What does the BLA want?"])[0]
    pair = (tokenize(["BLA"])[0], tokenize(["Baloch Liberation Army"])[0])

    ids, scores = lexical.search(query, 4, synonyms=[pair])
    score = dict(zip(ids.tolist(), scores.tolist()))
    assert set(score) == {0, 1, 2, 3}  # the long form alone now matches; "want" matches the last

    def bm25(terms, doc):
        return float(lexical._scores(terms, None)[doc])

    for doc in (0, 1, 2):
        expected = bm25(["want"], doc) + max(bm25(pair[0], doc), bm25(pair[1], doc))
        assert score[doc] == pytest.approx(expected, rel=1e-5)
    # Without the pair, the passage spelling the name out is not found by its name at all.
    plain = dict(zip(*[a.tolist() for a in lexical.search(query, 4)]))
    assert plain[2] == pytest.approx(bm25(["want"], 2), rel=1e-5) and plain[2] < score[2]
    assert np.isclose(plain[1], score[1])
