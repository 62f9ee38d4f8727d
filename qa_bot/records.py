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
        if self.published_from and not (article.published and article.published >= self.published_from):
            return False
        return not self.published_to or bool(article.published and article.published <= self.published_to)

    @property
    def is_empty(self) -> bool:
        return self.sources is None and not self.published_from and not self.published_to


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
class Quote:
    """A verbatim quote: ``text == article.text[start:end]``."""

    text: str
    score: float
    start: int
    end: int
    context: str
    article: Citation
    section: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "score": round(float(self.score), 4),
            "start": self.start,
            "end": self.end,
            "context": self.context,
            "article": self.article.to_dict(),
        }


@dataclass(frozen=True)
class Answer:
    """What ``QABot.ask`` returns. ``to_dict()`` is the ``qa-bot ask --json`` contract."""

    question: str
    answered: bool
    message: str | None
    quotes: list[Quote] = field(default_factory=list)
    # Words of the question the bot also read as corpus words: (as written, read as), e.g.
    # ("Pehsawar", "Peshawar") (spelling.py). The question itself is never changed.
    read_as: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answered": self.answered,
            "message": self.message,
            "quotes": [q.to_dict() for q in self.quotes],
            "read_as": [{"written": written, "read_as": read} for written, read in self.read_as],
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
