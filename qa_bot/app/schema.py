"""The REST API's JSON, as pydantic models: the requests it accepts and the objects it returns.

The answer models mirror ``Answer.to_dict()`` (the ``qa-bot ask --json`` contract) field for
field and forbid any other field, and the API returns ``AnswerOut.model_validate(answer.to_dict())``:
a field added to one and not the other fails the first request that carries it (and the tests), so
the OpenAPI document (``/api/openapi.json``, generated from these models) cannot drift from what
the command line, the library and the chat's ``/ask`` return.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..retrieval.question import MAX_QUESTION_CHARS

MAX_QUOTES = 10  # the most quotes a request may ask for
MAX_HITS = 50  # the most passages a search may ask for
MAX_PAGE = 200  # the most articles a page of the list holds


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def as_text(value: object) -> object:
    """A request value with lone UTF-16 surrogates (valid JSON, e.g. "\\ud800", but not text)
    replaced by U+FFFD: the tokenizer and the JSON encoder of the reply both reject them."""
    return _SURROGATE.sub("\ufffd", value) if isinstance(value, str) else value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, serialize_by_alias=True)


# ---------------------------------------------------------------------------- answers


class CitationOut(_Model):
    """The article a quote or passage stands in."""

    id: str = Field(description="the article's id (its file name in the corpus, without extension)")
    title: str = Field(description="its headline")
    source: str = Field(description="the outlet that published it; empty if unknown")
    url: str = Field(description="where it was published; empty if unknown")
    published: str = Field(description="its publication date, YYYY-MM-DD; empty if unknown ('date unknown')")


class QuoteDateOut(_Model):
    """A relative date in a quote ("yesterday", "Sunday") and the day it names, read against the
    article's publication date."""

    text: str = Field(description="the words as they stand in the quote")
    date: str = Field(description="the day they name, YYYY-MM-DD")
    start: int = Field(description="offset of the words in the quote")
    end: int = Field(description="offset just after them")


class AttributionOut(_Model):
    """Who the quote's words are attributed to."""

    source: str = Field(description="the source as the article names it ('the Pakistani military')")
    cue: str = Field(description="the words that attribute them ('according to', 'said', 'claimed')")


class LeadOut(_Model):
    """The sentence or headline naming what a quote refers to only as 'he' or 'the company'."""

    text: str = Field(description="the sentence or headline, verbatim")
    start: int = Field(description="offset in the article's text (kind 'sentence') or title (kind 'headline')")
    end: int = Field(description="offset just after it")
    kind: Literal["sentence", "headline"] = Field(description="where it stands: the article's text or its title")


class QuoteOut(_Model):
    """A verbatim quote: ``text`` is exactly the article's text from ``start`` to ``end``."""

    text: str = Field(description="the quoted sentences, verbatim")
    score: float = Field(description="the answerer's confidence that this quote answers (0 to 1)")
    start: int = Field(description="character offset of the quote in the article's text")
    end: int = Field(description="offset just after it")
    paragraph: int = Field(description="the paragraph it stands in, from 1 (section headings not counted)")
    paragraphs: int = Field(description="the article's number of paragraphs")
    section: str = Field(description="the section heading it stands under; empty if none")
    context: str = Field(description="the passage around the quote")
    article: CitationOut = Field(description="the article it stands in")
    dates: list[QuoteDateOut] = Field(description="its relative dates, resolved")
    lead: LeadOut | None = Field(description="what it refers to, when it names it only by a pronoun")
    attribution: AttributionOut | None = Field(description="who its words are attributed to, if anyone")
    also_in: list[CitationOut] = Field(description="other copies of the same story holding these words")
    earlier_report: bool = Field(description="older than the newest report quoted, to a question about now")


class ReadAsOut(_Model):
    """A word of the question also read as a word of the articles (a misspelling)."""

    written: str = Field(description="the word as the question writes it ('Pehsawar')")
    read_as: str = Field(description="the word of the articles it was also read as ('Peshawar')")


class FilterOut(_Model):
    """The filter the articles were searched under."""

    sources: list[str] | None = Field(description="the outlets searched; null: every outlet")
    from_: str | None = Field(alias="from", description="earliest publication date searched, YYYY-MM-DD")
    to: str | None = Field(description="latest publication date searched, YYYY-MM-DD")


class TimeOut(_Model):
    """The window of dates the question's time words ('this week') named."""

    expression: str = Field(description="the time words as written")
    from_: str = Field(alias="from", description="first day of the window, YYYY-MM-DD")
    to: str = Field(description="last day of the window, YYYY-MM-DD")
    inside: bool = Field(description="whether the quotes come from articles published inside it")


class FigureClaimOut(_Model):
    """One figure a source gives for what a 'how many' question counts."""

    value: float | int = Field(description="the figure as a number")
    written: str = Field(description="the number as written")
    quote: str = Field(description="the sentence it stands in, verbatim")
    start: int = Field(description="offset of the sentence in the article's text")
    end: int = Field(description="offset just after it")
    attribution: AttributionOut | None = Field(description="who gives the figure, if the article says")
    article: CitationOut = Field(description="the article it stands in")


class ConflictOut(_Model):
    """Different figures for what the question counts: sources that disagree ('dispute'), or one
    count that grew as the story went on ('updates')."""

    kind: Literal["dispute", "updates"] = Field(description="'dispute': sources disagree; 'updates': one "
                                                            "count grew with the date")
    claims: list[FigureClaimOut] = Field(description="the figures, in date order for updates")


class AnswerOut(_Model):
    """The answer to a question: verbatim quotes with citations, or a decline that says why."""

    question: str = Field(description="the question as asked")
    answered: bool = Field(description="false: the articles do not clearly answer it")
    message: str | None = Field(description="why the question was declined; null when answered")
    quotes: list[QuoteOut] = Field(description="the quotes that answer, best first; empty when declined")
    read_as: list[ReadAsOut] = Field(description="misspelt words of the question also read as article words")
    closest: QuoteOut | None = Field(description="for a decline, the closest passage found, not an answer")
    filter: FilterOut | None = Field(description="the filter the articles were searched under; null: none")
    time: TimeOut | None = Field(description="the window the question's time words named; null: none")
    conflict: ConflictOut | None = Field(description="different figures the sources give, if any")


# ---------------------------------------------------------------------------- requests


class FiltersIn(_Model):
    """Which articles to quote: outlets and a range of publication dates (each optional)."""

    sources: list[str] | None = Field(None, description="quote only these outlets")
    from_: dt.date | None = Field(None, alias="from", description="quote only articles published on or after")
    to: dt.date | None = Field(None, description="quote only articles published on or before")


class AskIn(_Model):
    """A question."""

    question: str = Field(max_length=MAX_QUESTION_CHARS, description="the question, in words")
    as_of: dt.date | None = Field(None, description="the date it is asked on (time words are read "
                                                    "against it); default today")
    filters: FiltersIn | None = Field(None, description="which articles to quote; default every article")
    k: int = Field(3, ge=1, le=MAX_QUOTES, description="the most quotes to return")

    @field_validator("question")
    @classmethod
    def _text(cls, value: str) -> str:
        return as_text(value)


# ---------------------------------------------------------------------------- other endpoints


class HitOut(_Model):
    """A retrieved passage."""

    text: str = Field(description="the passage, verbatim")
    score: float = Field(description="its fused (dense + BM25) retrieval score")
    start: int = Field(description="character offset of the passage in the article's text")
    end: int = Field(description="offset just after it")
    heading: str = Field(description="the section heading it stands under; empty if none")
    article: CitationOut = Field(description="the article it stands in")


class SearchOut(_Model):
    """The passages retrieval finds for a query."""

    query: str = Field(description="the query as asked")
    hits: list[HitOut] = Field(description="the best passages, best first")


class ArticleSummaryOut(_Model):
    """An article's metadata."""

    id: str = Field(description="the article's id (its file name in the corpus, without extension)")
    title: str = Field(description="its headline")
    source: str = Field(description="the outlet that published it; empty if unknown")
    url: str = Field(description="where it was published; empty if unknown")
    published: str = Field(description="its publication date, YYYY-MM-DD; empty if unknown")
    author: str = Field(description="its author or authors; empty if unknown")
    license: str = Field(description="the terms it may be quoted under, as its source states them; empty if none")
    characters: int = Field(description="length of its text (0 in the list of an index served from Milvus, "
                                        "whose catalogue holds no text; GET /api/articles/{id} reads it)")


class ArticleOut(ArticleSummaryOut):
    """An article with its text."""

    text: str = Field(description="the article's text, as stored in the corpus: quotes' offsets index into it")


class ArticlesOut(_Model):
    """A page of the list of articles."""

    total: int = Field(description="articles in the index")
    offset: int = Field(description="the position of the page's first article in the list")
    limit: int = Field(description="the most articles a page holds, as asked")
    articles: list[ArticleSummaryOut] = Field(description="the page's articles, in index order")


class HealthOut(_Model):
    """The index being served."""

    status: Literal["ok"] = Field(description="'ok': an index is loaded and answers")
    generation: str = Field(description="the index generation being served")
    articles: int = Field(description="articles in it")
    passages: int = Field(description="passages in it")
    model: str = Field(description="the embedding model the index was built with")


class ErrorBody(_Model):
    code: str = Field(description="stable, for programs: invalid_request, invalid_question, not_found, "
                                  "too_large, no_index, busy, index_damaged")
    message: str = Field(description="for people: the problem and the fix")


class ErrorOut(_Model):
    """What every error response holds."""

    error: ErrorBody = Field(description="the error")


def error_object(code: str, message: str) -> dict:
    """The body of an error response, ``{"error": {"code", "message"}}``."""
    return ErrorOut(error=ErrorBody(code=code, message=message)).model_dump()
