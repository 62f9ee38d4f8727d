"""Does putting the newest report first help questions about now ("current", "latest", "so far")?

    python -m tools.studies.recency [--work /tmp/qa-q1] [--index DIR] [--quarter q1]

Asks the RealTime QA 2023 questions of a quarter (``q1`` by default) that ``recency.wants_latest``
reads as about now, of all its articles as one corpus, each on its date and answered, with the
newest-first order off and on, and counts the first quotes holding a gold string as a whole word.
"""

from __future__ import annotations

from dataclasses import replace

from qa_bot.answer.recency import wants_latest
from qa_bot.evaluation.run import contains_gold
from tools.studies import quarter_study


def main() -> None:
    quarter, data, bot = quarter_study(__doc__)
    about_now = [q for q in data.questions if wants_latest(q.q)]
    print(f"{quarter}: {len(data.questions)} questions, {len(about_now)} about now; every question answered\n")
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
