"""How far back should the time words of a news question reach, and is the window worth it?

    python -m tools.studies.time_windows [--work /tmp/qa-q1] [--index DIR]

Asks the RealTime QA 2023 ``q1`` questions (weeks 1-13, the fitting and choosing quarter; ``q2``
is never read here) of all the q1 articles as one corpus, each with its date (``as_of``), as the
bot answers them (``QABot.candidates_batch``): without time windows, then with them under several
reaches of "this week" (``WEEK_DAYS``), "recently" (``RECENT_DAYS``) and the day allowed past a
window's end (``LATE_DAYS``); with a window whose answer is never taken (the fallback asks the
question as written: the same figures as without windows); and with the window's answer taken at
other confidences than the fitted threshold. Prints accuracy@1 and @3 (a gold string as a whole word in the first
one or three quotes, every question answered) over all questions and over those with time words,
and how many of the latter were answered from inside their window. ``--index`` reuses an index of
the q1 articles (e.g. the one ``benchmarks.news_build --articles 2388`` leaves); else it is built
in ``--work``.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from qa_bot.bot import QABot
from qa_bot.evaluation.datasets import load_realtimeqa
from qa_bot.evaluation.run import contains_gold
from qa_bot.retrieval import timewords
from tools.studies import news_index

ROOT = Path(__file__).resolve().parents[2]
Q1 = ROOT.parent / "shared" / "data" / "realtimeqa_2023" / "q1_questions.jsonl"


def run(bot: QABot, questions) -> list[tuple[bool, bool, bool | None]]:
    """Per question: right at 1, right at 3, answered from inside its window (None: no window)."""
    out = []
    for q in questions:
        cand = bot.candidates_batch([q.q], as_of=q.as_of)[0]
        quotes = [quote.text for quote in bot.select(cand).quotes]
        right = [contains_gold(text, q.gold, whole_words=True) for text in quotes[:3]]
        out.append((any(right[:1]), any(right), None if cand.time is None else cand.time.inside))
    return out


def row(name: str, results, windowed: list[int]) -> str:
    n, w = len(results), len(windowed)
    at1, at3 = sum(r[0] for r in results), sum(r[1] for r in results)
    w1, w3 = sum(results[i][0] for i in windowed), sum(results[i][1] for i in windowed)
    inside = sum(bool(results[i][2]) for i in windowed)
    return (f"| {name} | {at1 / n:.3f} | {at3 / n:.3f} | {w1 / w:.3f} | {w3 / w:.3f} | {inside} / {w} |"
            if w else f"| {name} | {at1 / n:.3f} | {at3 / n:.3f} | - | - | - |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-q1"))
    parser.add_argument("--index", type=Path)
    args = parser.parse_args()
    data = load_realtimeqa(Q1)
    bot = QABot.load(news_index(data.articles, args.work, args.index))
    bot = bot.with_config(replace(bot.config, min_confidence=0.0, max_quotes=3, extra_quote_margin=float("inf")))
    questions = data.questions
    windowed = [i for i, q in enumerate(questions) if timewords.time_window(q.q, q.as_of) is not None]
    print(f"{len(questions)} q1 questions, {len(windowed)} with time words; every question answered (answer-all)\n")
    print("| setting | acc@1 | acc@3 | acc@1 (time words) | acc@3 (time words) | answered inside the window |")
    print("|---|---|---|---|---|---|")
    print(row("no windows", run(bot.with_config(replace(bot.config, time_windows=False)), questions), windowed))
    # A window whose answer is never taken: the fallback asks the question as written, so this
    # must equal "no windows" (a check of that).
    print(row("window never taken", run(bot.with_config(replace(bot.config, window_confidence=2.0)),
                                        questions), windowed))
    shipped = (timewords.WEEK_DAYS, timewords.RECENT_DAYS, timewords.LATE_DAYS)
    for week, recent, late in itertools.product((6, 7, 9), (7, 14, 30), (0, 1, 2)):
        timewords.WEEK_DAYS, timewords.RECENT_DAYS, timewords.LATE_DAYS = week, recent, late
        mark = " (shipped)" if (week, recent, late) == shipped else ""
        print(row(f"week {week}, recent {recent}, late {late}{mark}", run(bot, questions), windowed), flush=True)
    timewords.WEEK_DAYS, timewords.RECENT_DAYS, timewords.LATE_DAYS = shipped
    # The confidence at which the window's answer is taken (the fitted threshold by default).
    fitted = bot.config.window_confidence
    for taken in sorted({0.0, 0.2, fitted, 0.6}):
        mark = " (shipped: the fitted threshold)" if taken == fitted else ""
        setting = bot.with_config(replace(bot.config, window_confidence=taken))
        print(row(f"window answer taken at confidence {taken:.2f}{mark}", run(setting, questions), windowed), flush=True)


if __name__ == "__main__":
    main()
