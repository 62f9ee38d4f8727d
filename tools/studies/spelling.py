"""Misspelt question words read as corpus words: does the second reading help? (docs/decisions/spelling.md)

    python -m tools.studies.spelling --work /tmp/qa-fit2

Held out as in tools/studies/corpus_size.py: the FIT questions after the first 4,000 (used by no fit),
asked of the whole FIT corpus (answerable), of the FIT half that does not hold their paragraph
and of 43 Wikinews articles (unanswerable). Each is asked with the corrected reading off (as
before), on (as shipped: one edit, two from eight letters) and on with two edits from six
letters. Columns: questions with a word read as another; answered with the first quote right;
answered; unanswerable questions answered. Run ``tools/fit/answerer.py --work DIR`` first (its indexes
are reused).
"""

from __future__ import annotations

import argparse
import random
import time
import tracemalloc
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa_bot.retrieval.spelling import Spelling
from tools.fit.answerer import build, candidates, fit_split, gold_labels, top_right, topic_negatives

VARIANTS = [  # name, second reading on, letters from which two edits are allowed
    ("as written only", False, 8), ("with corrections (shipped)", True, 8), ("two edits from 6 letters", True, 6),
]


def configure(bot, on: bool, long_word: int) -> None:
    bot.config = replace(bot.config, correct_spelling=on)
    bot.reader.spelling.long_word = long_word


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    args = parser.parse_args()
    articles, questions, fit_ids = fit_split()
    random.Random(0).shuffle(questions)  # as tools/fit/answerer.py: its first 4,000 are the FIT questions
    held = questions[4000:]
    whole = build(articles, args.work, "squad-fit")
    news, not_b, half_b = topic_negatives(articles, fit_ids, args.work, whole.encoder)
    uncovered = [q for q in held if q.article not in half_b]

    started = time.perf_counter()
    whole.reader.spelling.correct("warmup")
    seconds = time.perf_counter() - started
    tracemalloc.start()  # again, to count what it holds (tracing slows it down)
    whole.reader.spelling = Spelling.of(whole.data)
    whole.reader.spelling.correct("warmup")
    holds = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    print(f"vocabulary of the FIT corpus: {len(whole.reader.spelling.counts):,} words; counted and indexed in "
          f"{seconds:.1f} s; it holds {holds / 2**20:.0f} MiB\n")
    print(f"| reading | rewritten (of {len(held)}) | answered, first quote right | answered "
          f"| unanswerable answered: other FIT half ({len(uncovered)}) | Wikinews ({len(held)}) |")
    print("|---|---|---|---|---|---|")
    examples = []
    for name, on, long_word in VARIANTS:
        for bot in (whole, not_b, news):
            configure(bot, on, long_word)
        c = candidates(whole, [q.q for q in held])
        answered = np.array([x.confidence >= whole.config.min_confidence for x in c])
        right = top_right([x.scores for x in c], gold_labels(whole.data, c, held))
        rewritten = [pairs for pairs in (whole.reader.spelling.read(q.q)[1] for q in held) if pairs] if on else []
        if on and long_word == 8:
            examples = rewritten
        neg = [np.mean([x.confidence >= bot.config.min_confidence for x in candidates(bot, [q.q for q in qs])])
               for bot, qs in ((not_b, uncovered), (news, held))]
        print(f"| {name} | {len(rewritten)} | {(answered & right).mean():.3f} | {answered.mean():.3f} "
              f"| {neg[0]:.3f} | {neg[1]:.3f} |", flush=True)
    print("\nwords read as others (shipped):", "; ".join(f"{a} -> {b}" for pairs in examples for a, b in pairs))


if __name__ == "__main__":
    main()
