"""Text for the terminal: answers as readable blocks, progress bars, and command-line arguments read
as text."""

from __future__ import annotations

import sys
import textwrap
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..records import Answer, SearchHit


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
    """Readable terminal output for an answer."""
    lines = [f"Q: {answer.question}", *([answer.read_as_note()] if answer.read_as else []), ""]
    if not answer.answered:
        lines.append(answer.message or "No answer.")
        return "\n".join(lines)
    for n, quote in enumerate(answer.quotes, 1):
        wrapped = textwrap.fill(f"“{quote.text}”", width=96, initial_indent=f"[{n}] ", subsequent_indent="    ")
        lines.append(wrapped)
        art = quote.article
        meta = ", ".join(x for x in (art.source, art.published) if x)
        lines.append(f"    — {art.title}" + (f" ({meta})" if meta else ""))
        where = f"characters {quote.start}–{quote.end}"
        if quote.section:
            where = f"section “{quote.section}”, {where}"
        lines.append(f"    {where}; confidence {quote.score:.2f}")
        if art.url:
            lines.append(f"    {art.url}")
        lines.append("")
    return "\n".join(lines).rstrip()


def format_hits(hits: list[SearchHit]) -> str:
    """Readable terminal output for retrieved passages, best first."""
    lines = []
    for n, hit in enumerate(hits, 1):
        head = f" [{hit.heading}]" if hit.heading else ""
        lines.append(f"{n}. {hit.article.title}{head}  (score {hit.score:.4f}, chars {hit.start}–{hit.end})")
        lines.append(textwrap.indent(textwrap.fill(hit.text, 96), "   "))
    return "\n".join(lines)
