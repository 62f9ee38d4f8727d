"""The sentence that names the answer goes before a quote that only says "the company" or "he"
(answer/naming.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_answer import answering_bot

from qa_bot.answer.naming import names, wants_name
from qa_bot.app.render import answer_markdown
from qa_bot.app.terminal import format_answer
from qa_bot.records import Article

STORIES = {
    "layoffs": ("Tech firm cuts staff",
                "Meta said it would cut 11,000 jobs across its offices.\n\n"
                "The company's chief executive apologised to staff in a long letter on the layoffs."),
    "no-name": ("a quiet week",
                "officials met again.\n\nthe company's chief executive apologised for the delays in a letter."),
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    return answering_bot(tmp_path_factory.mktemp("naming"), [
        Article(id=key, title=title, text=body, source="Test Gazette", url=f"https://news.example/{key}",
                published="2023-01-11", author="Staff")
        for key, (title, body) in STORIES.items()
    ])


def test_a_quote_that_says_the_company_gets_the_sentence_naming_it(bot):
    answer = bot.ask("Which company's chief executive apologised to staff in a letter on the layoffs?")
    quote = answer.quotes[0]
    assert quote.text == "The company's chief executive apologised to staff in a long letter on the layoffs."
    assert quote.lead is not None and quote.lead.kind == "sentence"
    article = next(a for a in bot.articles if a.id == quote.article.id)
    assert quote.lead.text == article.text[quote.lead.start : quote.lead.end]  # verbatim, from the same article
    assert quote.lead.text == "Meta said it would cut 11,000 jobs across its offices."
    assert quote.to_dict()["lead"] == {"text": quote.lead.text, "start": 0, "end": 54, "kind": "sentence"}
    assert "Meta said it would cut 11,000 jobs" in format_answer(answer)
    assert "Meta said it would cut 11,000 jobs" in answer_markdown(answer)


def test_no_lead_where_the_question_wants_no_name_or_the_quote_names_it(bot):
    # A "why" question wants no name.
    assert bot.ask("Why did the chief executive apologise to staff in a long letter?").quotes[0].lead is None
    # The quote names the company itself.
    assert bot.ask("Which company said it would cut 11,000 jobs across its offices?").quotes[0].lead is None
    off = bot.with_config(replace(bot.config, naming_leads=False))
    assert off.ask("Which company's chief executive apologised to staff in a letter on the layoffs?").quotes[0].lead \
        is None


def test_no_lead_when_nothing_earlier_names_anything(bot):
    answer = bot.ask("Which company's chief executive apologised for the delays?")
    assert answer.quotes[0].article.id == "no-name" and answer.quotes[0].lead is None


@pytest.mark.parametrize(("question", "wanted"), [
    ("Who won the Super Bowl?", True), ("Which company cut 11,000 jobs?", True),
    ("Which team did Damar Hamlin play for?", True), ("Where did the storm hit?", True),
    ("How many jobs were cut?", False), ("When did the strike start?", False), ("Why did he resign?", False),
    ("Which year did it open?", False),
])
def test_which_questions_want_a_name(question, wanted):
    assert wants_name(question) is wanted


def test_names_skip_sentence_openers_weekdays_and_the_question_words():
    assert names("The company said on Monday it would cut jobs.") == []
    assert names("Meta said on Wednesday it would cut jobs.") == ["Meta"]
    assert names("He told The New York Times about Meta.", "What did Meta say?") == ["New", "York", "Times"]
