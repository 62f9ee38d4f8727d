"""Questions about now: the newest report first, older ones marked as earlier reports (answer/recency.py)."""

from __future__ import annotations

from dataclasses import replace

import pytest
from test_answer import answering_bot

from qa_bot.answer.recency import wants_latest
from qa_bot.app.render import answer_markdown, escape
from qa_bot.app.terminal import format_answer
from qa_bot.records import Article

# The rate as two weekly reports gave it (Freddie Mac's survey, as USA Today and CNN carried it).
WEEK_ONE = ("Mortgage rates rose for the fourth consecutive week. The average rate on a 30-year fixed "
            "mortgage rose to 6.5% this week, Freddie Mac said.")
WEEK_TWO = ("Mortgage rates rose for the fifth consecutive week. The average rate on a 30-year fixed "
            "mortgage climbed to 6.73% this week, Freddie Mac said.")


@pytest.mark.parametrize(("question", "latest"), [
    ("What is the current average rate for a 30-year fixed mortgage?", True),
    ("How many people have died so far?", True),
    ("Who is the latest tech giant to announce layoffs?", True),
    ("What was the average rate for a 30-year fixed mortgage in 1995?", False),
    ("Who won the Super Bowl?", False),
])
def test_questions_about_now_are_recognised(question, latest):
    assert wants_latest(question) is latest


@pytest.fixture(scope="module")
def bot(tmp_path_factory):
    bot = answering_bot(tmp_path_factory.mktemp("recency"), [
        Article(id="week-two", title="Rates climb again", text=WEEK_TWO, source="USA Today",
                url="https://news.example/two", published="2023-02-23"),
        Article(id="week-one", title="Rates rise", text=WEEK_ONE, source="CNN",
                url="https://news.example/one", published="2023-02-16"),
    ])
    return bot.with_config(replace(bot.config, extra_quote_margin=100.0, duplicate_cosine=1.01))


def _rate_quotes(answer):
    return [q for q in answer.quotes if "30-year" in q.text]


def test_the_newest_report_comes_first_and_the_older_is_marked_with_its_date(bot):
    answer = bot.ask("What is the current average rate on a 30-year fixed mortgage?")
    quotes = _rate_quotes(answer)
    assert [q.article.id for q in quotes] == ["week-two", "week-one"]
    assert [q.earlier_report for q in quotes] == [False, True]
    assert [q["earlier_report"] for q in answer.to_dict()["quotes"] if "30-year" in q["text"]] == [False, True]
    assert escape("Earlier report, 2023-02-16") in answer_markdown(answer)
    assert "earlier report, 2023-02-16;" in format_answer(answer)


def test_a_question_not_about_now_keeps_the_answerers_order(bot):
    answer = bot.ask("What was the average rate on a 30-year fixed mortgage, 6.5%?")
    assert not any(q.earlier_report for q in answer.quotes)
    assert _rate_quotes(answer)[0].article.id == "week-one"  # the better match first, whatever its date
    off = bot.with_config(replace(bot.config, newest_first=False))
    assert not any(q.earlier_report for q in off.ask("What is the current average rate of 6.5%?").quotes)
