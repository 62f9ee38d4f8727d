"""Time words of a question as a window of published dates (retrieval/timewords.py), and the bot's
preference for the articles inside it (QABot.ask(..., as_of=...))."""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import replace

import pytest
from test_answer import answering_bot

from qa_bot.answer.dates import annotate, resolve_dates
from qa_bot.app.render import answer_markdown
from qa_bot.app.terminal import format_answer
from qa_bot.records import Article, ArticleFilter
from qa_bot.retrieval.timewords import as_date, time_window

AS_OF = "2023-02-16"  # a Thursday


@pytest.mark.parametrize(("question", "expression", "start", "end"), [
    ("Who won the Super Bowl this week?", "this week", "2023-02-09", "2023-02-17"),
    ("What did the Fed decide yesterday?", "yesterday", "2023-02-15", "2023-02-17"),
    ("Who resigned today?", "today", "2023-02-16", "2023-02-17"),
    ("Who was arrested last week?", "last week", "2023-02-06", "2023-02-13"),
    ("Which company recently laid off staff?", "recently", "2023-02-02", "2023-02-17"),
    ("What is the latest on the strike?", "latest", "2023-02-02", "2023-02-17"),
    ("Which firm cut jobs this month?", "this month", "2023-02-01", "2023-02-17"),
    ("What happened last month?", "last month", "2023-01-01", "2023-02-01"),
    ("What did the court rule in January?", "in January", "2023-01-01", "2023-02-01"),
    ("What did the court rule in March?", "in March", "2022-03-01", "2022-04-01"),  # a month still to come: last year's
    ("What happened in May 2021?", "in May 2021", "2021-05-01", "2021-06-01"),
    ("What did she say on 5 January?", "on 5 January", "2023-01-05", "2023-01-06"),
    ("What did she say on Sunday, February 12?", "on Sunday, February 12", "2023-02-12", "2023-02-13"),
    ("What did she say on the 3rd of March 2021?", "on the 3rd of March 2021", "2021-03-03", "2021-03-04"),
    ("Who won the election in 2020?", "in 2020", "2020-01-01", "2021-01-01"),
    # The nearer, more precise expression wins over a year named for something else.
    ("Who announced a 2024 run this week, in 2024 terms?", "this week", "2023-02-09", "2023-02-17"),
])
def test_time_words_name_a_window_of_published_dates(question, expression, start, end):
    window = time_window(question, AS_OF)
    assert window is not None
    assert window.to_dict() == {"expression": expression, "from": start, "to": end}


@pytest.mark.parametrize("question", [
    "Who founded the Baloch Liberation Army?",
    "What does the new law say?",  # "new" is not a time word
    "How many people did the May Day march draw?",  # a month's name that is not "in May"
    "What happened on February 30?",  # no such day: no window rather than an error
])
def test_a_question_without_time_words_gets_no_window(question):
    assert time_window(question, AS_OF) is None


def test_as_of_defaults_to_today_and_refuses_what_is_not_a_date():
    assert as_date(None) == dt.date.today()
    assert as_date("2023-02-16") == as_date(dt.datetime(2023, 2, 16, 9, 30)) == dt.date(2023, 2, 16)
    with pytest.raises(ValueError, match="give it as YYYY-MM-DD"):
        as_date("last Tuesday")


# Two councils' votes a month apart: which mayor "this week" means depends on the date asked.
STORIES = {
    "vote-january": ("2023-01-11", "Riverton elects a mayor",
                     "The Riverton council elected Ana Ruiz as mayor on Tuesday. She won nine of the eleven votes."),
    "vote-march": ("2023-03-08", "Riverton elects a new mayor",
                   "The Riverton council elected Ben Cole as mayor on Tuesday. He won seven of the eleven votes."),
}
QUESTION = "Who did the Riverton council elect as mayor this week?"


@pytest.fixture(scope="module")
def dated_bot(tmp_path_factory):
    bot = answering_bot(tmp_path_factory.mktemp("time"), [
        Article(id=key, title=title, text=body, source="Test Gazette", url=f"https://news.example/{key}",
                published=published, author="Staff")
        for key, (published, title, body) in STORIES.items()
    ])
    # The fake encoder's confidences are low: take a window's answer whenever it has one.
    return bot.with_config(replace(bot.config, window_confidence=0.0))


@pytest.mark.parametrize(("as_of", "article", "name"), [
    ("2023-01-12", "vote-january", "Ana Ruiz"), ("2023-03-09", "vote-march", "Ben Cole"),
])
def test_this_week_answers_from_the_week_before_the_date_asked(dated_bot, as_of, article, name):
    answer = dated_bot.ask(QUESTION, as_of=as_of)
    assert answer.answered and answer.quotes[0].article.id == article and name in answer.quotes[0].text
    assert answer.time is not None and answer.time.inside
    assert answer.to_dict()["time"]["expression"] == "this week" and answer.to_dict()["time"]["to"] > as_of
    assert answer.time.note().startswith("Read “this week” as articles published ")
    assert answer.question == QUESTION  # searched without its time words, shown as asked


@pytest.mark.parametrize(("question", "searched"), [
    ("Who won the final this week?", "Who won the final?"),
    ("What did she say on Sunday, February 12, about the strike?", "What did she say, about the strike?"),
    ("Yesterday, who resigned?", "who resigned?"),
    ("This week?", "This week?"),  # nothing but time words: kept whole
])
def test_the_time_words_are_taken_out_of_the_searched_question(question, searched):
    assert time_window(question, AS_OF).strip(question) == searched


def test_a_window_nothing_answers_demotes_the_others_rather_than_hiding_them(dated_bot):
    answer = dated_bot.ask(QUESTION, as_of="2023-06-30")
    assert answer.answered and answer.quotes  # from the other dates, and it says so
    assert answer.time is not None and not answer.time.inside
    assert answer.to_dict()["time"] == {"expression": "this week", "from": "2023-06-23", "to": "2023-07-01",
                                        "inside": False}
    assert "none of them answers" in answer.time.note()
    # Every date searched without the relative words, which name no article's words.
    off = dated_bot.with_config(replace(dated_bot.config, time_windows=False))
    plain = off.ask("Who did the Riverton council elect as mayor?")
    assert [q.to_dict() for q in answer.quotes] == [q.to_dict() for q in plain.quotes]


def test_a_question_without_time_words_is_not_touched(dated_bot):
    plain = "Who did the Riverton council elect as mayor?"
    assert dated_bot.ask(plain, as_of="2023-01-12").to_dict() == dated_bot.ask(plain).to_dict()
    assert dated_bot.ask(plain).time is None


def test_the_window_narrows_a_filter_and_can_be_turned_off(dated_bot):
    # A filter that already excludes the window's article: nothing inside answers.
    where = ArticleFilter(published_to="2023-02-01")
    answer = dated_bot.ask(QUESTION, where=where, as_of="2023-03-09")
    assert not answer.time.inside and answer.quotes[0].article.id == "vote-january"
    assert ArticleFilter(frozenset({"X"}), "2023-01-01", "2023-03-01").narrowed("2023-02-01", "2023-04-01") == \
        ArticleFilter(frozenset({"X"}), "2023-02-01", "2023-03-01")
    off = dated_bot.with_config(replace(dated_bot.config, time_windows=False))
    assert off.ask(QUESTION, as_of="2023-03-09").time is None


def test_a_date_with_a_time_of_day_counts_as_its_date(tmp_path):
    day = Article(id="a", title="t", text="x", published="2023-03-01T23:30:00+00:00")
    assert ArticleFilter(published_from="2023-03-01", published_to="2023-03-01").matches(day)


# ---------------------------------------------------------------------------- dates inside quotes

@pytest.mark.parametrize(("text", "published", "found"), [
    # Wednesday 15 June 2022: the weekdays before it, that day, and the ones to come.
    ("The attack on Sunday was claimed yesterday.", "2022-06-15",
     [("Sunday", "2022-06-12"), ("yesterday", "2022-06-14")]),
    ("Talks resumed on Wednesday and end tomorrow.", "2022-06-15",
     [("Wednesday", "2022-06-15"), ("tomorrow", "2022-06-16")]),
    ("He left last Wednesday and returns next Monday.", "2022-06-15",
     [("last Wednesday", "2022-06-08"), ("next Monday", "2022-06-20")]),
    ("Last night, gunmen attacked; by this morning it was over.", "2022-06-15T08:00:00Z",
     [("Last night", "2022-06-14"), ("this morning", "2022-06-15")]),
    ("Voters went to the polls on Super Tuesday and shops opened for Black Friday.", "2022-06-15", []),
    ("The attack on Sunday was claimed yesterday.", "", []),  # no published date: nothing resolved
])
def test_relative_dates_in_a_quote_are_read_against_the_article_date(text, published, found):
    dates = resolve_dates(text, published)
    assert [(d.text, d.date) for d in dates] == found
    assert all(text[d.start : d.end] == d.text for d in dates)  # offsets into the verbatim quote


def test_a_resolved_date_is_shown_beside_the_words_the_quote_keeps_verbatim(dated_bot):
    answer = dated_bot.ask(QUESTION, as_of="2023-01-12")
    quote = answer.quotes[0]
    assert quote.text.startswith("The Riverton council elected Ana Ruiz as mayor on Tuesday.")  # verbatim
    assert [d.to_dict() for d in quote.dates] == [{"text": "Tuesday", "date": "2023-01-10", "start": 50, "end": 57}]
    assert "on Tuesday [10 January 2023]." in format_answer(answer)
    assert 'on Tuesday <span class="qa-date">[10 January 2023]</span>\\.' in answer_markdown(answer)
    assert annotate("<b>Sunday</b>", resolve_dates("<b>Sunday</b>", "2022-06-15"), piece=html.escape) == \
        "&lt;b&gt;Sunday [12 June 2022]&lt;/b&gt;"


def test_when_nothing_inside_answers_an_absolute_date_is_searched_as_asked(dated_bot):
    # An encyclopedic "in 1995": no article of that year, so the answer is the one without windows.
    question = "Who did the Riverton council elect as mayor in 1995?"
    off = dated_bot.with_config(replace(dated_bot.config, time_windows=False)).ask(question)
    on = dated_bot.ask(question, as_of="2023-03-09")
    assert on.time is not None and not on.time.inside
    assert [q.to_dict() for q in on.quotes] == [q.to_dict() for q in off.quotes]
    assert on.to_dict() | {"time": None} == off.to_dict()


def test_a_corpus_without_dates_reads_no_time_words(tmp_path):
    bot = answering_bot(tmp_path, [Article(id="x", title="Riverton", text=STORIES["vote-march"][2])])
    answer = bot.ask("Who did the Riverton council elect as mayor this week?", as_of="2023-03-09")
    assert answer.answered and answer.time is None
