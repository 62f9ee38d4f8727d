"""HTML and Markdown for answers, sources and the corpus list. Every piece of article or user
text goes through ``escape``/``html.escape`` here, so nothing a corpus or a reader supplies can
become markup in the page.

An answer cites each article once: its quotes as numbered block quotes, each with where it stands
and one confidence word (its percentage and meaning in a tooltip), then the headline, outlet and
date. A declined question says why, and shows the closest passage when there is one, marked as
not an answer. The sources of an answer are shown beside the chat on a wide screen and inside the
answer, folded, on a phone (CSS decides which).
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from ..answer.dates import annotate
from ..records import Answer, Article, Citation, Quote
from .wording import (
    CONFIDENCE_MEANING,
    also_in_named,
    also_in_words,
    by_article,
    confidence_words,
    day,
    earlier_words,
    position_words,
)

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


def source_line(citation: Citation) -> str:
    """Headline (linked when there is a URL), outlet and date, escaped HTML."""
    meta = " · ".join(html.escape(x) for x in (citation.source, day(citation.published)) if x)
    return _link(citation.title, citation.url) + (f" — {meta}" if meta else "")


def confidence_cue(score: float) -> str:
    """One confidence word, its percentage and meaning in the tooltip."""
    title = html.escape(f"Confidence {score:.0%}. {CONFIDENCE_MEANING}", quote=True)
    return f'<span class="qa-cue" title="{title}">{confidence_words(score)}</span>'


def _where(quote: Quote) -> str:
    return f'<span class="qa-where">{html.escape(position_words(quote))}</span>'


def followup_note(earlier: str | None) -> str:
    """'Read as a follow-up to “…”' above an answer to a question read with the one before it."""
    if not earlier:
        return ""
    return f'<span class="qa-followup">Read as a follow-up to “{escape(earlier)}”\\.</span>\n\n'


def answer_markdown(answer: Answer) -> str:
    """The chat message for an answer: per article, its quotes as numbered block quotes (where each
    stands, its confidence), then the article's source line once; or why it is declined, with the
    closest passage marked as not an answer. Folded sources follow, for a phone."""
    note = f'<span class="qa-read-as">{escape(answer.read_as_note())}</span>\n\n' if answer.read_as else ""
    if answer.time is not None:
        note += f'<span class="qa-time">{escape(answer.time.note())}</span>\n\n'
    if answer.conflict is not None:
        note += f'<span class="qa-conflict">{escape(answer.conflict.note())}</span>\n\n'
    if not answer.answered:
        text = note + f'<span class="qa-none">{escape(answer.message or "No answer.")}</span>'
        if answer.closest is None:
            return text
        quote = answer.closest
        return (
            text + f"\n\n> {_quote_text(quote)}\n\n"
            f'<span class="qa-closest">Closest passage, not a clear answer: {_where(quote)} · '
            f"{confidence_cue(quote.score)}</span>\n\n"
            f'<span class="qa-source">{source_line(quote.article)}</span>' + _inline_sources(answer)
        )
    parts = []
    for citation, numbered in by_article(answer.quotes):
        for n, quote in numbered:
            parts.append(f"> {_quote_text(quote)} <sup>[{n}]</sup>\n\n"
                         f'<span class="qa-quote-meta">[{n}] {_earlier(quote)}{_where(quote)}{_said(quote)} · '
                         f'{confidence_cue(quote.score)}</span>')
        parts.append(f'<span class="qa-source">{source_line(citation)}</span>')
    return note + "\n\n".join(parts) + _inline_sources(answer)


def _said(quote: Quote) -> str:
    """' · according to the Pakistani military' and ' · Also in: Dawn (2026-02-03)' (escaped), or nothing."""
    said = ""
    if quote.attribution is not None:
        said += f' · <span class="qa-attribution">{escape(quote.attribution.words())}</span>'
    if quote.also_in:
        said += f' · <span class="qa-also-in">{escape(also_in_words(quote))}</span>'
    return said


def _earlier(quote: Quote) -> str:
    """'Earlier report, 2026-01-28 · ' before an older quote to a question about now, or nothing."""
    words = earlier_words(quote)
    return f'<span class="qa-earlier">{escape(words)}</span> · ' if words else ""


def _also_in_links(quote: Quote) -> str:
    """The other copies holding a quote's words, each linked to its page where it has one (HTML)."""
    if not quote.also_in:
        return ""
    named, more = also_in_named(quote)
    links = [_link(label, c.url) for label, c in named]
    return f'<div class="qa-also-in">Also in: {", ".join(links)}{f" and {more} more" if more else ""}</div>'


def _quote_text(quote: Quote) -> str:
    """The quote, escaped, with each relative date's day beside it as an editor's insertion, after
    the earlier sentence naming what it refers to (or followed by the headline that does)."""
    text = annotate(quote.text, quote.dates, piece=escape,
                    mark=lambda words: f' <span class="qa-date">[{escape(words)}]</span>')
    if quote.lead is not None and quote.lead.kind == "sentence":
        return f'<span class="qa-lead">{escape(quote.lead.text)}</span> … {text}'
    if quote.lead is not None:
        return text + f' <span class="qa-lead">(named in the headline: “{escape(quote.lead.text)}”)</span>'
    return text


def _inline_sources(answer: Answer) -> str:
    """The sources folded into the answer, shown on narrow screens only (CSS)."""
    return f'\n\n<details class="qa-inline-sources"><summary>Sources</summary>{_cards(answer)}</details>'


def _highlighted(quote: Quote) -> str:
    context = quote.context
    at = context.find(quote.text)
    if at < 0:
        return f"<mark>{html.escape(quote.text)}</mark>"
    return (html.escape(context[:at]) + f"<mark>{html.escape(quote.text)}</mark>"
            + html.escape(context[at + len(quote.text):]))


def _cards(answer: Answer) -> str:
    """One card per article: its headline once, then each quote in its paragraph, highlighted."""
    if answer.answered:
        groups = by_article(answer.quotes)
        label = ""
    elif answer.closest is not None:
        groups = [(answer.closest.article, [(0, answer.closest)])]
        label = '<div class="qa-closest">Closest passage, not a clear answer</div>'
    else:
        return ""
    cards = []
    for citation, numbered in groups:
        body = []
        for n, quote in numbered:
            marker = f"[{n}] " if n else ""
            body.append(
                f'<div class="qa-where">{marker}{html.escape(position_words(quote))} · {confidence_cue(quote.score)}'
                f'</div><p class="qa-context">{_highlighted(quote)}</p>{_also_in_links(quote)}'
            )
        cards.append(f'<div class="qa-card">{label}<div class="qa-card-head">{source_line(citation)}</div>'
                     f'{"".join(body)}</div>')
    return "".join(cards)


def sources_html(answer: Answer | None) -> str:
    """The sources panel: each cited article once, its quotes highlighted in their paragraphs."""
    if answer is None:
        return '<div class="qa-sources-empty">Ask a question: the passages it quotes appear here.</div>'
    question = f'<div class="qa-q">“{html.escape(answer.question)}”</div>'
    if not answer.answered and answer.closest is None:
        return (f'<div class="qa-sources">{question}<div class="qa-sources-empty">'
                f"{html.escape(answer.message or 'No passage answers it.')}</div></div>")
    return f'<div class="qa-sources">{question}{_cards(answer)}</div>'


def corpus_html(articles: Sequence[Article]) -> str:
    """The articles of the corpus, newest first, with their full headlines."""
    rows = sorted(articles, key=lambda a: a.published or "", reverse=True)
    items = "".join(
        f'<li><span class="qa-article-meta">{html.escape(day(a.published))} · '
        f'{html.escape(a.source or "outlet unknown")}</span><br>{_link(a.title, a.url)}</li>'
        for a in rows
    )
    return f'<ul class="qa-articles">{items}</ul>'


CSS = """
.qa-cue { color: #555; font-size: 0.85em; white-space: nowrap; text-decoration: underline dotted; cursor: help; }
.qa-where, .qa-quote-meta { font-size: 0.85em; color: #666; }
.qa-source { font-size: 0.9em; display: block; margin-bottom: 6px; }
.qa-none { color: #8a4b00; }
.qa-closest { color: #8a4b00; font-size: 0.85em; }
.qa-date { color: #555; font-size: 0.9em; font-style: normal; }
.qa-lead { color: #444; }
.qa-conflict { color: #8a4b00; font-weight: 600; font-size: 0.95rem; line-height: 1.4; display: block; }
.qa-also-in { font-size: 0.85em; color: #666; }
.qa-earlier { color: #8a4b00; }
.qa-read-as, .qa-time, .qa-followup { color: #555; font-style: italic; display: block; }
.qa-card { border: 1px solid #ddd; border-radius: 8px; padding: 10px 12px; margin-bottom: 10px; }
.qa-card-head { font-weight: 600; font-size: 0.95em; margin-bottom: 4px; }
.qa-context { line-height: 1.45; margin: 4px 0 8px; }
.qa-context mark { background: #fff2a8; padding: 0 2px; }
.qa-q { font-style: italic; margin-bottom: 8px; }
.qa-sources-empty { color: #666; padding: 8px; }
.qa-articles { list-style: none; padding: 0; margin: 0; max-height: 320px; overflow-y: auto; }
.qa-articles li { padding: 6px 0; border-bottom: 1px solid #eee; overflow-wrap: anywhere; }
.qa-article-meta { font-size: 0.8em; color: #777; }
#qa-examples { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
#qa-examples > * { flex: 0 1 auto !important; min-width: 0 !important; width: auto !important; }
.qa-inline-sources { display: none; margin-top: 8px; }
@media (max-width: 768px) {
  .qa-inline-sources { display: block; }
  #qa-side-sources { display: none; }
  #qa-chat { height: auto !important; max-height: none !important; }
}
"""
