"""Misspelt question words read as the corpus words the reader meant (a second reading)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from conftest import FakeEncoder, make_corpus

from qa_bot.answer.features import ABSTAIN_FEATURES, RANK_FEATURES
from qa_bot.bot import QABot
from qa_bot.indexing.build import build_index
from qa_bot.retrieval.spelling import Spelling, english_words
from qa_bot.store.files import load_index
from qa_bot.store.lexical import tokenize

TEXTS = [
    "The Baloch Liberation Army claimed the attack on the Jaffar Express. More trains were halted.",
    "What the separatists want is independence for Balochistan; what Islamabad wants is order.",
    "Troops in Peshawar searched the Millennium Hotel. Pakistan's army said the interceptions worked.",
]


def corpus_terms(texts=TEXTS):
    terms = {t for tokens in tokenize(texts) for t in tokens}
    return terms.__contains__


@pytest.fixture
def spelling():
    return Spelling(lambda: TEXTS, corpus_terms())


@pytest.mark.parametrize(
    ("question", "read_as", "pairs"),
    [
        ("What does the Balooch Liberation Army want?", "What does the Baloch Liberation Army want?",
         [("Balooch", "Baloch")]),
        ("What did Pakistn's army say?", "What did Pakistan's army say?", [("Pakistn", "Pakistan")]),
        ("WHO ATTACKED THE JAFAR EXPRESS?", "WHO ATTACKED THE JAFFAR EXPRESS?", [("JAFAR", "JAFFAR")]),
        # Eight letters or more may be two edits away; fewer, one.
        ("Who searched the Milenium Hotel?", "Who searched the Millennium Hotel?", [("Milenium", "Millennium")]),
        ("Who searched Peshwr?", "Who searched Peshwr?", []),  # two edits from "Peshawar"
        ("Who searched Peshawr?", "Who searched Peshawar?", [("Peshawr", "Peshawar")]),
        ("Did the intercpetions work?", "Did the interceptions work?", [("intercpetions", "interceptions")]),
    ],
)
def test_a_misspelt_word_is_read_as_the_nearest_corpus_word(spelling, question, read_as, pairs):
    assert spelling.read(question) == (read_as, pairs)


def test_real_words_short_words_and_far_words_are_left_alone(spelling):
    assert "tore" in english_words()
    # "tore" is a word the corpus lacks, one edit from "more": not a misspelling.
    assert spelling.read("Who tore up the tracks?") == ("Who tore up the tracks?", [])
    assert spelling.read("Was Tran there?") == ("Was Tran there?", [])  # under four letters
    assert spelling.read("Was Qwertyuiop there?") == ("Was Qwertyuiop there?", [])  # nothing near
    assert spelling.read("Did the army's trains stop?") == ("Did the army's trains stop?", [])


def test_a_misspelling_is_never_read_as_a_stop_word(spelling):
    # "wnat" is one edit from "what" (used more) and from "want": only "want" carries meaning.
    assert spelling.read("What does Islamabad wnat?") == ("What does Islamabad want?", [("wnat", "want")])


def test_the_corpus_vocabulary_is_read_only_when_a_question_needs_it():
    reads = []

    def texts():
        reads.append(1)
        return TEXTS

    spelling = Spelling(texts, corpus_terms())
    assert spelling.read("What does the Baloch Liberation Army want?")[1] == []
    assert reads == []  # every word known to the English list or the corpus's terms
    assert spelling.read("What does the Balooch Liberation Army want?")[1] == [("Balooch", "Baloch")]
    spelling.read("Who searched the Milenium Hotel?")
    assert reads == [1]  # read once


ARTICLES = {
    "peshawar-bridge": ("Bridge bombed near Peshawar",
                        "Militants bombed a bridge near Peshawar on Monday. Traffic was halted for hours."),
    "quetta-market": ("Market reopens in Quetta",
                      "Traders in Quetta reopened the vegetable market on Tuesday. Prices were high."),
}
BRIDGE = "Militants bombed a bridge near Peshawar on Monday."


@pytest.fixture
def bot(tmp_path):
    build_index(make_corpus(tmp_path, ARTICLES), tmp_path / "index", FakeEncoder())
    return QABot(load_index(tmp_path / "index"), FakeEncoder())


def test_a_misspelt_question_finds_the_sentence_and_is_not_taken_for_an_unknown_topic(bot):
    question = "What was bombed near Pehsawar?"
    answer = bot.ask(question)
    assert answer.question == question  # the reader's question is never rewritten
    assert answer.answered and answer.quotes[0].text == BRIDGE
    assert answer.read_as == [("Pehsawar", "Peshawar")]  # the reader is told
    assert answer.to_dict()["read_as"] == [{"written": "Pehsawar", "read_as": "Peshawar"}]
    assert bot.ask("What was bombed near Peshawar?").read_as == []

    def evidence(b):
        cand = b.candidates_batch([question])[0]
        row = [b.data.sentence_text(int(s)) for s in cand.sentences].index(BRIDGE)
        return (float(cand.features[row, RANK_FEATURES.index("sent_lex")]),
                float(cand.abstain[ABSTAIN_FEATURES.index("top_article_lex")]))

    lexical, held = evidence(bot)
    bot.config = replace(bot.config, correct_spelling=False)
    lexical_off, held_off = evidence(bot)
    assert lexical > lexical_off  # the bridge sentence holds the word the reader meant
    assert held == 1.0 > held_off  # and the article it quotes every term the reader meant
