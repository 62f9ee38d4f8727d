"""Conflicting figures for a "how many" question (answer/figures.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_answer import answering_bot

from qa_bot.answer.figures import _reading, figures_in
from qa_bot.app.render import answer_markdown
from qa_bot.app.terminal import format_answer
from qa_bot.records import Article

SEED = ("The Baloch Liberation Army (BLA) attacked more than a dozen places.\n\n"
        "Nearly 200 people, including 31 civilians, 17 security personnel and 145 BLA fighters, were killed, "
        "according to the Pakistani military. Authorities dismissed the group’s claim that it killed 84 members "
        "of the security forces.")


@pytest.mark.parametrize(("sentence", "found"), [
    ("Nearly 200 people, including 31 civilians, 17 security personnel and 145 BLA fighters, were killed.", [17]),
    ("Authorities dismissed the group’s claim that it killed 84 members of the security forces.", [84]),
    ("It was one of the deadliest attacks on security personnel in years, and they were killed.", []),
    ("Seventeen security personnel were wounded.", []),  # not the question's verb
    ("Three thousand security personnel were killed.", [3000]),
    ("1,200 security personnel were killed.", [1200]),
    ("Two million security personnel were killed.", [2_000_000]),
])
def test_figures_are_numbers_of_the_counted_thing_in_sentences_with_the_verb(sentence, found):
    reading = _reading("How many security personnel were killed?")
    assert [value for value, _ in figures_in(sentence, reading)] == found


def test_only_how_many_questions_count_something():
    assert _reading("Who killed the security personnel?") is None
    assert _reading("How many security personnel were killed?").thing == {"secur", "personnel"}


def test_a_disputed_figure_shows_every_claim_with_its_source(tmp_path):
    bot = answering_bot(tmp_path, [Article(id="seed", title="Attacks", text=SEED, source="Test Gazette",
                                  url="https://news.example/seed", published="2026-02-01")])
    answer = bot.ask("How many security personnel were killed?")
    assert answer.conflict is not None and answer.conflict.kind == "dispute"
    claims = {c.value: c for c in answer.conflict.claims}
    assert set(claims) == {17, 84}
    assert claims[17].attribution.source == "the Pakistani military"
    assert (claims[84].attribution.source, claims[84].attribution.cue) == ("the BLA", "claimed")
    payload = answer.to_dict()["conflict"]
    assert payload["kind"] == "dispute" and {c["value"] for c in payload["claims"]} == {17, 84}
    note = "The sources differ: 17, according to the Pakistani military (Test Gazette, 2026-02-01); " \
           "84, as claimed by the BLA (Test Gazette, 2026-02-01)."
    assert {answer.conflict.note(), note} == {note}
    assert note in " ".join(format_answer(answer).split())
    assert "The sources differ" in answer_markdown(answer)
    off = bot.with_config(replace(bot.config, conflicts=False))
    assert off.ask("How many security personnel were killed?").conflict is None


def test_a_figure_that_only_grew_with_the_date_is_shown_as_updates_in_date_order(tmp_path):
    bot = answering_bot(tmp_path, [
        Article(id="later", title="Toll rises", text="The flood killed 30 people in Dalton, officials said.",
                source="Test Gazette", url="https://news.example/later", published="2026-03-04"),
        Article(id="first", title="Flood", text="The flood killed 12 people in Dalton, officials said.",
                source="Test Wire", url="https://news.example/first", published="2026-03-02"),
    ])
    answer = bot.ask("How many people did the flood kill in Dalton?")
    assert answer.conflict is not None and answer.conflict.kind == "updates"
    assert [c.value for c in answer.conflict.claims] == [12, 30]  # oldest first
    assert answer.conflict.note().startswith("The figure was updated as the story went on: 12, according to officials")
