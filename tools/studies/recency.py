"""Does putting the newest report first help questions about now ("current", "latest", "so far")?

    python -m tools.studies.recency [--work /tmp/qa-q1] [--index DIR] [--quarter q1]

Asks the RealTime QA 2023 questions of a quarter (``q1`` by default) that ``recency.wants_latest``
reads as about now, of all its articles as one corpus, each on its date and answered, with the
newest-first order off and on, and counts the first quotes holding a gold string as a whole word.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

from qa_bot.answer.recency import wants_latest
from qa_bot.bot import QABot
from qa_bot.evaluation.datasets import load_realtimeqa
from qa_bot.evaluation.run import contains_gold
from tools.studies import news_index

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data" / "realtimeqa_2023"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-q1"))
    parser.add_argument("--index", type=Path)
    parser.add_argument("--quarter", default="q1", choices=("q1", "q2"))
    args = parser.parse_args()
    data = load_realtimeqa(DATA / f"{args.quarter}_questions.jsonl")
    bot = QABot.load(news_index(data.articles, args.work, args.index))
    about_now = [q for q in data.questions if wants_latest(q.q)]
    print(f"{args.quarter}: {len(data.questions)} questions, {len(about_now)} about now; every question answered\n")
    print("| newest first | first quote holds the gold | reordered |")
    print("|---|---|---|")
    firsts: dict[bool, list[str]] = {}
    for on in (False, True):
        b = bot.with_config(replace(bot.config, min_confidence=0.0, newest_first=on))
        answers = [b.ask(q.q, as_of=q.as_of) for q in about_now]
        firsts[on] = [a.quotes[0].text for a in answers]
        right = sum(contains_gold(text, q.gold, whole_words=True) for text, q in zip(firsts[on], about_now))
        moved = sum(a != b for a, b in zip(firsts[False], firsts[on])) if on else 0
        print(f"| {'on' if on else 'off'} | {right} / {len(about_now)} | {moved} |")


if __name__ == "__main__":
    main()
