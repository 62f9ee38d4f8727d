"""Text for the terminal: answers as readable blocks, progress bars, and command-line arguments read
as text."""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING

from ..answer.dates import annotate
from .wording import also_in_words, by_article, confidence_words, day, earlier_words, position_words

if TYPE_CHECKING:
    from ..records import Answer, Citation, Quote, SearchHit


def progress_bar(desc: str):
    """A ``progress(done, total)`` callback drawing a tqdm bar on stderr, created on first call."""
    from tqdm import tqdm

    state: dict[str, tqdm] = {}

    def progress(done: int, total: int) -> None:
        bar = state.get("bar")
        if bar is None:
            bar = state["bar"] = tqdm(total=total, desc=desc, unit="text", file=sys.stderr, leave=False)
        bar.update(done - bar.n)
        if done >= total:
            bar.close()

    return progress


def argument_text(value: str) -> str:
    """A command-line argument as text: bytes that are not UTF-8 (which Python keeps as lone
    surrogates) become U+FFFD, so a question holding them is answered rather than crashing the
    tokenizer."""
    try:
        raw = value.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:  # surrogates that did not come from undecodable bytes
        raw = value.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "replace")


def format_answer(answer: Answer) -> str:
    """Readable terminal output for an answer: the quotes grouped by article, each headline once
    under its quotes; or why the question is declined, with the closest passage if there is one."""
    notes = [answer.read_as_note()] if answer.read_as else []
    notes += [textwrap.fill(answer.time.note(), width=96)] if answer.time is not None else []
    notes += [textwrap.fill(answer.conflict.note(), width=96)] if answer.conflict is not None else []
    lines = [f"Q: {answer.question}", *notes, ""]
    if not answer.answered:
        lines.append(textwrap.fill(answer.message or "No answer.", width=96))
        if answer.closest is not None:
            lines += ["", *_quote_lines("[closest]", answer.closest), *_source_lines(answer.closest.article)]
        return "\n".join(lines).rstrip()
    for citation, numbered in by_article(answer.quotes):
        for n, quote in numbered:
            lines += _quote_lines(f"[{n}]", quote)
        lines += [*_source_lines(citation), ""]
    return "\n".join(lines).rstrip()


def _quote_lines(marker: str, quote: Quote) -> list[str]:
    pad = " " * (len(marker) + 1)
    text = f"“{annotate(quote.text, quote.dates)}”"
    if quote.lead is not None and quote.lead.kind == "sentence":
        text = f"“{quote.lead.text}” … {text}"  # the earlier sentence naming what it refers to
    elif quote.lead is not None:
        text += f" (named in the headline: “{quote.lead.text}”)"
    if quote.attribution is not None:
        text += f" — {quote.attribution.words()}"
    wrapped = textwrap.fill(text, width=96, initial_indent=f"{marker} ", subsequent_indent=pad)
    earlier = earlier_words(quote)
    where = (f"{earlier[:1].lower()}{earlier[1:]}; " if earlier else "") + position_words(quote)
    lines = [wrapped, f"{pad}{where}; {confidence_words(quote.score)} ({quote.score:.0%})"]
    if quote.also_in:
        also = also_in_words(quote)
        lines.append(textwrap.fill(also[:1].lower() + also[1:], width=96, initial_indent=pad, subsequent_indent=pad))
    return lines


def _source_lines(citation: Citation) -> list[str]:
    meta = ", ".join(x for x in (citation.source, day(citation.published)) if x)
    line = f"    — {citation.title}" + (f" ({meta})" if meta else "")
    return [line, f"      {citation.url}"] if citation.url else [line]


def format_hits(hits: list[SearchHit]) -> str:
    """Readable terminal output for retrieved passages, best first (ranked by fused retrieval; the
    raw fusion scores mean nothing to a reader and are left to --json)."""
    lines = []
    for n, hit in enumerate(hits, 1):
        head = f", section “{hit.heading}”" if hit.heading else ""
        meta = ", ".join(x for x in (hit.article.source, day(hit.article.published)) if x)
        lines.append(f"{n}. {hit.article.title}" + (f" ({meta})" if meta else "") + head)
        lines.append(textwrap.indent(textwrap.fill(hit.text, 96), "   "))
    return "\n".join(lines)
