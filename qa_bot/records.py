"""Small typed records passed between the pipeline stages."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Article:
    """One curated article: metadata plus the cleaned body.

    ``text`` is the body exactly as stored in the corpus file (section headings as Markdown
    ``## `` lines); every offset elsewhere in the package indexes into it.
    """

    id: str
    title: str
    text: str
    source: str = ""
    url: str = ""
    published: str = ""
    author: str = ""
    license: str = ""  # the terms the text may be quoted under ("CC BY 2.5"), if the source states them

    def citation(self) -> Citation:
        return Citation(
            id=self.id, title=self.title, source=self.source, url=self.url, published=self.published
        )


@dataclass(frozen=True)
class ArticleFilter:
    """Which articles an answer may quote: by outlet and by published date (inclusive ISO dates).

    ``None`` means no restriction. Articles without a date fail any date restriction.
    """

    sources: frozenset[str] | None = None
    published_from: str | None = None
    published_to: str | None = None

    def matches(self, article: Article) -> bool:
        if self.sources is not None and article.source not in self.sources:
            return False
        day = article.published[:10]  # a date, or a date and time: compared by its date
        if self.published_from and not (day and day >= self.published_from):
            return False
        return not self.published_to or bool(day and day <= self.published_to)

    def narrowed(self, start: str, end: str) -> ArticleFilter:
        """This filter, also restricted to articles published ``start`` to ``end`` (ISO dates)."""
        lo = max(self.published_from or start, start)
        hi = min(self.published_to or end, end)
        return ArticleFilter(self.sources, lo, hi)

    @property
    def is_empty(self) -> bool:
        return self.sources is None and not self.published_from and not self.published_to

    def describe(self) -> str:
        """The filter in words: "articles from Dawn or Reuters published 2026-01-01 to 2026-02-01"."""
        if self.is_empty:
            return "all articles"
        words = "articles"
        if self.sources is not None:
            outlets = sorted(self.sources)
            words += " from " + (" or ".join(outlets) if outlets else "no outlet")
        if self.published_from and self.published_to:
            words += f" published {self.published_from} to {self.published_to}"
        elif self.published_from:
            words += f" published on or after {self.published_from}"
        elif self.published_to:
            words += f" published on or before {self.published_to}"
        return words

    def to_dict(self) -> dict[str, Any]:
        return {
            "sources": None if self.sources is None else sorted(self.sources),
            "from": self.published_from or None,
            "to": self.published_to or None,
        }


@dataclass(frozen=True)
class Citation:
    """Where a quote comes from."""

    id: str
    title: str
    source: str
    url: str
    published: str

    def to_dict(self) -> dict[str, str]:
        return asdict(self)


@dataclass(frozen=True)
class QuoteDate:
    """A relative date in a quote ("Sunday", "yesterday") and the day it names (YYYY-MM-DD), read
    against the article's published date (``answer.dates``); ``start``/``end`` are offsets in the quote."""

    text: str
    date: str
    start: int
    end: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Attribution:
    """Who a quote's words are attributed to (``source``, as the article names them) and the words
    that say so (``cue``: "according to", "said", "claimed"); see ``answer.attribution``."""

    source: str
    cue: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def words(self) -> str:
        """'according to the Pakistani military', or 'as claimed by the BLA' for a claim."""
        if self.cue in ("claimed", "claims"):
            return f"as claimed by {self.source}"
        return f"according to {self.source}"


@dataclass(frozen=True)
class Lead:
    """The sentence of the article (``kind`` "sentence", offsets in its body) or its headline
    (``kind`` "headline", offsets in the title) that names what a quote refers to only as "the
    company" or "he" (``answer.naming``); verbatim, shown before the quote."""

    text: str
    start: int
    end: int
    kind: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Quote:
    """A verbatim quote: ``text == article.text[start:end]``.

    ``paragraph`` is the number (from 1) of the paragraph it stands in, of the article's
    ``paragraphs`` (section headings not counted); ``section`` the heading it stands under.
    """

    text: str
    score: float
    start: int
    end: int
    context: str
    article: Citation
    section: str = ""
    paragraph: int = 0
    paragraphs: int = 0
    dates: tuple[QuoteDate, ...] = ()  # its relative dates, resolved (answer.dates)
    lead: Lead | None = None  # the sentence naming what it refers to, if it needs one (answer.naming)
    attribution: Attribution | None = None  # who its words are attributed to (answer.attribution)
    also_in: tuple[Citation, ...] = ()  # the other copies of its story holding its words (answer.copies)
    earlier_report: bool = False  # older than the answer's newest report, to a question about now (answer.recency)

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(float(self.score), 4),
            "start": self.start,
            "end": self.end,
            "paragraph": self.paragraph,
            "paragraphs": self.paragraphs,
            "section": self.section,
            "context": self.context,
            "article": self.article.to_dict(),
            "dates": [d.to_dict() for d in self.dates],
            "lead": None if self.lead is None else self.lead.to_dict(),
            "attribution": None if self.attribution is None else self.attribution.to_dict(),
            "also_in": [c.to_dict() for c in self.also_in],
            "earlier_report": self.earlier_report,
        }


@dataclass(frozen=True)
class FigureClaim:
    """One figure a source gives for what a question counts: its value, the number as written, the
    verbatim sentence it stands in (offsets in its article), who gives it and where."""

    value: float
    written: str
    quote: str
    start: int
    end: int
    attribution: Attribution | None
    article: Citation

    def to_dict(self) -> dict[str, Any]:
        return {
            "value": int(self.value) if float(self.value).is_integer() else self.value,
            "written": self.written, "quote": self.quote, "start": self.start, "end": self.end,
            "attribution": None if self.attribution is None else self.attribution.to_dict(),
            "article": self.article.to_dict(),
        }

    def words(self) -> str:
        """'17, according to the Pakistani military (The Indian Express, 2026-02-01)'."""
        who = f", {self.attribution.words()}" if self.attribution is not None else ""
        where = ", ".join(x for x in (self.article.source, self.article.published) if x)
        return f"{self.written}{who}" + (f" ({where})" if where else "")


@dataclass(frozen=True)
class Conflict:
    """Different figures for what a question counts (``answer.figures``): a "dispute" between
    sources, or "updates" of one count that only grew with the date (claims in date order)."""

    kind: str
    claims: tuple[FigureClaim, ...]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "claims": [c.to_dict() for c in self.claims]}

    def note(self) -> str:
        """The figures side by side, in words (plain text)."""
        listed = "; ".join(c.words() for c in self.claims)
        if self.kind == "updates":
            return f"The figure was updated as the story went on: {listed}."
        return f"The sources differ: {listed}."


@dataclass(frozen=True)
class TimeUse:
    """The window of published dates (inclusive ISO dates) that the question's time words named
    (``retrieval.timewords``), and whether the quotes come from inside it: when nothing inside
    answers, the bot answers from articles of any date and says so."""

    expression: str
    start: str
    end: str
    inside: bool

    def to_dict(self) -> dict[str, Any]:
        return {"expression": self.expression, "from": self.start, "to": self.end, "inside": self.inside}

    def note(self) -> str:
        """The window in words, for the reader (plain text)."""
        dates = f"articles published {self.start} to {self.end}"
        if self.inside:
            return f"Read “{self.expression}” as {dates}."
        return f"Read “{self.expression}” as {dates}; none of them answers, so these quotes may be from other dates."


@dataclass(frozen=True)
class Answer:
    """What ``QABot.ask`` returns. ``to_dict()`` is the ``qa-bot ask --json`` contract.

    A declined question (``answered`` false) says why in ``message``: nothing in the articles is
    about it, or the best passage found is not a clear answer, and then ``closest`` holds that
    passage, with its confidence, for the reader to judge. ``searched`` is the filter the
    articles were searched under (None: all of them).
    """

    question: str
    answered: bool
    message: str | None
    quotes: list[Quote] = field(default_factory=list)
    # Words of the question the bot also read as corpus words: (as written, read as), e.g.
    # ("Pehsawar", "Peshawar") (spelling.py). The question itself is never changed.
    read_as: list[tuple[str, str]] = field(default_factory=list)
    closest: Quote | None = None
    searched: ArticleFilter | None = None
    time: TimeUse | None = None  # the time words' window (None: the question has none)
    conflict: Conflict | None = None  # different figures for what a "how many" question counts

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "message": self.message,
            "quotes": [q.to_dict() for q in self.quotes],
            "read_as": [{"written": written, "read_as": read} for written, read in self.read_as],
            "closest": None if self.closest is None else self.closest.to_dict(),
            "filter": None if self.searched is None or self.searched.is_empty else self.searched.to_dict(),
            "time": None if self.time is None else self.time.to_dict(),
            "conflict": None if self.conflict is None else self.conflict.to_dict(),
        }

    def read_as_note(self) -> str:
        """'Also read “Pehsawar” as “Peshawar”.' (plain text; empty when no word was)."""
        if not self.read_as:
            return ""
        return "Also read " + ", ".join(f"“{w}” as “{r}”" for w, r in self.read_as) + "."


@dataclass(frozen=True)
class SearchHit:
    """A retrieved passage with its fused score and citation."""

    text: str
    score: float
    start: int
    end: int
    heading: str
    article: Citation
    passage: int

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(float(self.score), 4),
            "start": self.start,
            "end": self.end,
            "heading": self.heading,
            "article": self.article.to_dict(),
        }
