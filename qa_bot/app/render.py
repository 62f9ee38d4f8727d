"""HTML and Markdown for answers, sources and the corpus list. Every piece of article or user
text goes through ``escape``/``html.escape`` here, so nothing a corpus or a reader supplies can
become markup in the page."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from ..records import Answer, Article, Quote

STRONG = 0.6  # confidence at which a quote is labelled a strong match
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")


def escape(text: str) -> str:
    """Text safe inside the chat's Markdown: HTML-escaped and Markdown punctuation backslashed."""
    # quote=False: entities such as &#x27; would have their "#" backslashed and show literally.
    return _MD_SPECIAL.sub(r"\\\1", html.escape(text, quote=False))


def _link(title: str, url: str) -> str:
    safe_title = html.escape(title)
    if url.startswith(("http://", "https://")):
        return f'<a href="{html.escape(url, quote=True)}" target="_blank" rel="noopener noreferrer">{safe_title}</a>'
    return safe_title


def confidence_label(score: float) -> str:
    return "strong match" if score >= STRONG else "partial match"


def _meter(score: float) -> str:
    filled = max(1, min(5, round(score * 5)))
    return "●" * filled + "○" * (5 - filled)


def source_line(quote: Quote) -> str:
    """Headline (linked when there is a URL), outlet and date, escaped HTML."""
    art = quote.article
    meta = " · ".join(html.escape(x) for x in (art.source, art.published) if x)
    return _link(art.title, art.url) + (f" — {meta}" if meta else "")


def answer_markdown(answer: Answer) -> str:
    """The chat message for an answer: each quote as a block quote with a numbered marker, its
    source line underneath and a confidence cue; or the plain no-answer message."""
    note = f'<span class="qa-read-as">{escape(answer.read_as_note())}</span>\n\n' if answer.read_as else ""
    if not answer.answered:
        return note + f'<span class="qa-none">{escape(answer.message or "No answer.")}</span>'
    parts = []
    for n, quote in enumerate(answer.quotes, 1):
        label = f"{_meter(quote.score)} {confidence_label(quote.score)}"
        cue = f'<span class="qa-cue" title="confidence {quote.score:.0%}">{label}</span>'
        parts.append(
            f"> {escape(quote.text)} <sup>[{n}]</sup>\n\n"
            f'<span class="qa-source">[{n}] {source_line(quote)}</span> {cue}'
        )
    return note + "\n\n".join(parts)


def sources_html(answer: Answer | None) -> str:
    """The sources panel: each cited passage in context with the quoted sentences highlighted."""
    if answer is None:
        return '<div class="qa-sources-empty">Ask a question: the passages it quotes appear here.</div>'
    if not answer.answered:
        return (
            f'<div class="qa-sources-empty">No passage answers “{html.escape(answer.question)}”. '
            "Try other words, or check the articles listed below.</div>"
        )
    cards = []
    for n, quote in enumerate(answer.quotes, 1):
        context = quote.context
        at = context.find(quote.text)
        if at >= 0:
            body = (
                html.escape(context[:at])
                + f"<mark>{html.escape(quote.text)}</mark>"
                + html.escape(context[at + len(quote.text):])
            )
        else:
            body = f"<mark>{html.escape(quote.text)}</mark>"
        section = f'<div class="qa-section">{html.escape(quote.section)}</div>' if quote.section else ""
        cards.append(
            f'<div class="qa-card"><div class="qa-card-head">[{n}] {source_line(quote)}</div>{section}'
            f'<p class="qa-context">{body}</p>'
            f'<div class="qa-where">characters {quote.start}–{quote.end} of the article · '
            f"{confidence_label(quote.score)} ({quote.score:.0%})</div></div>"
        )
    return f'<div class="qa-sources"><div class="qa-q">“{html.escape(answer.question)}”</div>{"".join(cards)}</div>'


def corpus_rows(articles: Sequence[Article]) -> list[list[str]]:
    """Rows for the corpus table: date, outlet, headline (plain text: the table escapes it)."""
    rows = [[a.published or "—", a.source or "—", a.title] for a in articles]
    return sorted(rows, key=lambda r: r[0], reverse=True)


CSS = """
.qa-cue { color: #555; font-size: 0.85em; white-space: nowrap; }
.qa-source { font-size: 0.9em; }
.qa-none { color: #8a4b00; }
.qa-read-as { color: #555; font-style: italic; }
.qa-card { border: 1px solid #ddd; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; }
.qa-card-head { font-weight: 600; margin-bottom: 4px; }
.qa-section { font-size: 0.85em; color: #666; margin-bottom: 4px; }
.qa-context { line-height: 1.45; margin: 6px 0; }
.qa-context mark { background: #fff2a8; padding: 0 2px; }
.qa-where { font-size: 0.8em; color: #777; }
.qa-q { font-style: italic; margin-bottom: 8px; }
.qa-sources-empty { color: #666; padding: 8px; }
"""
