"""Attributed speech (answer/speech.py): who a question asks about, and who speaks in a sentence."""

from __future__ import annotations

import pytest

from qa_bot.answer.speech import attribution, quotes_directly, speech_features, speech_subject
from qa_bot.store.lexical import tokenize


def terms(text: str) -> set[str]:
    return set(tokenize([text])[0])


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("What did India say?", "India"),
        ("How many soldiers did the BLA say it killed?", "the BLA"),
        ("What does the company want?", "the company"),
        ("What has the ministry denied?", "the ministry"),
        ("According to the military, how many died?", "the military"),
        ("Who claimed responsibility?", None),
        ("When did the strike begin?", None),
        ("How many people were killed?", None),
    ],
)
def test_the_speaker_a_question_asks_about(question, speaker):
    asked = speech_subject(question)
    assert (asked[0] if asked else None) == speaker


def test_the_rest_of_the_question_is_what_was_said():
    who, rest = speech_subject("How many soldiers did the BLA say it killed?")
    assert terms(rest) >= {"soldier", "kill"} and not terms(rest) & terms(who)


def test_a_name_inside_what_was_claimed_is_not_the_speaker():
    speaker, content = attribution(
        "Jaiswal was responding to Pakistan military's claim that India was supporting terrorist elements."
    )
    assert "India" not in speaker and "India" in content


def test_according_to_names_the_speaker_after_it_only():
    speaker, _ = attribution("Nearly 200 people, including 145 BLA fighters, were killed, according to the military.")
    assert "military" in speaker and "BLA" not in speaker


def test_a_sentence_without_a_speech_cue_has_no_speaker():
    assert attribution("The port has 40 ships waiting offshore.") == ("", "")


def test_direct_quotation_needs_four_words():
    assert quotes_directly("“We categorically reject the baseless allegations,” he said.")
    assert not quotes_directly("Islamabad branded the fighters “Fitna-al-Hindustan”.")


def test_he_said_counts_for_the_speaker_named_in_the_sentence_before():
    quote = "“We categorically reject the baseless allegations made by Pakistan,” he said."
    previous = "External Affairs Ministry spokesperson Randhir Jaiswal spoke in New Delhi."
    assert speech_features(["jaiswal"], [], quote, previous, terms) == (1.0, 1.0, 0.0)
    assert speech_features(["jaiswal"], [], quote, "The weather was fine.", terms) == (0.0, 0.0, 0.0)


def test_the_claim_that_answers_is_the_one_whose_content_holds_the_rest_of_the_question():
    previous = "Nearly 200 people, including 145 BLA fighters, were killed, according to the military."
    claim = "Authorities dismissed the group's claim that it killed 84 members of the security forces."
    responsibility = "The BLA claimed responsibility for the assaults."
    assert speech_features(["bla"], ["kill"], claim, previous, terms) == (1.0, 0.0, 1.0)
    assert speech_features(["bla"], ["kill"], responsibility, "", terms) == (1.0, 0.0, 0.0)


def test_no_speaker_asked_gives_no_speech_features():
    assert speech_features([], ["kill"], "The BLA claimed it killed 84.", "", terms) == (0.0, 0.0, 0.0)


def test_a_sentence_with_its_own_attribution_reports_only_what_follows_it():
    responsibility = "The BLA claimed responsibility for attacks that killed 31 civilians."
    assert speech_features(["bla"], ["kill"], responsibility, "", terms)[2] == 0.0


def test_a_quotation_running_on_reports_all_of_it():
    previous = "“The attacks killed many,” the BLA said in a statement, “and we will go on."
    running = "We killed 84 soldiers.”"
    assert speech_features(["bla"], ["kill"], running, previous, terms) == (1.0, 1.0, 1.0)
