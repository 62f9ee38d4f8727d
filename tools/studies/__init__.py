"""One-off studies behind the design decisions in docs/ (run as ``python -m tools.studies.NAME``)."""

from __future__ import annotations

from pathlib import Path


def news_index(articles: list, work: Path, index: Path | None) -> Path:
    """``index`` if given (an index of these articles built before), else the index of
    ``articles`` written as a corpus in ``work`` and built (or brought up to date) there."""
    if index is not None:
        return index
    from qa_bot.bot import QABot
    from qa_bot.corpus.files import save_articles

    save_articles(work / "corpus", articles, overwrite=True)
    QABot.build(work / "corpus", work / "index")
    return work / "index"
