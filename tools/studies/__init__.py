"""One-off studies behind the design decisions in docs/ (run as ``python -m tools.studies.NAME``)."""

from __future__ import annotations

import argparse
from pathlib import Path

REALTIMEQA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "realtimeqa_2023"


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


def quarter_study(doc: str):
    """A study of one RealTime QA quarter: its command line (--work, --index, --quarter; ``doc``
    the help) parsed, then ``(quarter name, its questions and articles, a bot over their index)``."""
    from qa_bot.bot import QABot
    from qa_bot.evaluation.datasets import load_realtimeqa

    parser = argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-q1"))
    parser.add_argument("--index", type=Path)
    parser.add_argument("--quarter", default="q1", choices=("q1", "q2"))
    args = parser.parse_args()
    data = load_realtimeqa(REALTIMEQA / f"{args.quarter}_questions.jsonl")
    return args.quarter, data, QABot.load(news_index(data.articles, args.work, args.index))
