"""The words the front-ends share, so the terminal and the web page say the same thing the same
way: one confidence scale, where a quote stands in its article, and quotes grouped by article
(the headline once, its quotes numbered under it)."""

from __future__ import annotations

from ..records import Citation, Quote

# One scale. The answerability model's confidence is a probability; the bot declines below its
# threshold (40% by default), so an answer's quotes are mostly "high" or "medium".
HIGH, MEDIUM = 0.8, 0.5
CONFIDENCE_MEANING = (
    "The answerer's estimate that this passage answers the question: high is 80% or more, "
    "medium 50 to 80%, low below 50%."
)


NO_DATE = "date unknown"


def day(published: str) -> str:
    """An article's published date as a reader sees it: the date, or "date unknown" (never today's)."""
    return published[:10] if published else NO_DATE


def confidence_words(score: float) -> str:
    """'high', 'medium' or 'low' confidence."""
    level = "high" if score >= HIGH else "medium" if score >= MEDIUM else "low"
    return f"{level} confidence"


def position_words(quote: Quote) -> str:
    """Where the quote stands: 'section “Who are they?”, paragraph 3 of 12'."""
    parts = []
    if quote.section:
        parts.append(f"section “{quote.section}”")
    if quote.paragraphs:
        parts.append(f"paragraph {quote.paragraph} of {quote.paragraphs}")
    return ", ".join(parts) or f"characters {quote.start}–{quote.end}"


def earlier_words(quote: Quote) -> str:
    """'Earlier report, 2026-01-28' for a quote older than its answer's newest report (a question
    about now), else empty."""
    return f"Earlier report, {quote.article.published[:10]}" if quote.earlier_report else ""


ALSO_IN_SHOWN = 4  # copies named beside a quote; the JSON lists them all


def also_in_named(quote: Quote) -> tuple[list[tuple[str, Citation]], int]:
    """The copies named beside a quote, the newest ``ALSO_IN_SHOWN`` of them, each as its label
    ("Dawn (2026-02-03)": outlet, or headline without one, and date) and citation; and how many
    more there are."""
    named = [((c.source or c.title) + (f" ({c.published})" if c.published else ""), c)
             for c in quote.also_in[:ALSO_IN_SHOWN]]
    return named, len(quote.also_in) - len(named)


def also_in_words(quote: Quote) -> str:
    """'Also in: Dawn (2026-02-03), The Indian Express (2026-02-01)': the other copies of the
    quote's story that hold its words (plain text; empty when there are none)."""
    if not quote.also_in:
        return ""
    named, more = also_in_named(quote)
    return "Also in: " + ", ".join(label for label, _ in named) + (f" and {more} more" if more else "")


def by_article(quotes: list[Quote]) -> list[tuple[Citation, list[tuple[int, Quote]]]]:
    """The quotes grouped by article, in the order of each article's best quote, and numbered
    in the order they are shown (1, 2, ...), so that each headline is cited once."""
    groups: dict[str, tuple[Citation, list[Quote]]] = {}
    for quote in quotes:
        groups.setdefault(quote.article.id, (quote.article, []))[1].append(quote)
    out, n = [], 0
    for citation, members in groups.values():
        numbered = []
        for quote in members:
            n += 1
            numbered.append((n, quote))
        out.append((citation, numbered))
    return out
