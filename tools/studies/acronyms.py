"""Acronym expansion (qa_bot/acronyms.py) on the FIT questions it changes: on or off.

    python -m tools.studies.acronyms [--work /tmp/qa-fit]

Uses the FIT index that tools/fit/answerer.py builds in --work (built here if missing). Every FIT
question (all of them, not only the 4,000 the weights were fitted on; see tools/fit/answerer.py) that
names an acronym the corpus defines, or spells out one, is asked twice with the shipped weights:
searched as written, and with the other form added. Expansion has no fitted parameter, so the
ranking weights, fitted without it, are the same in both runs. Nothing here reads the reported sets.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa_bot.evaluation.run import contains_gold
from tools.fit.answerer import build, candidates, fit_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    args = parser.parse_args()
    articles, questions, _ = fit_split()
    bot = build(articles, args.work, "squad-fit")
    acronyms = bot.data.acronyms
    changed = [q for q in questions if acronyms.expand(q.q) != q.q]
    print(f"{len(acronyms)} acronyms learned from {len(articles)} paragraphs; "
          f"{len(changed)} of {len(questions)} FIT questions name one or spell one out")
    print("\n| search | accuracy@1, abstention off | accuracy@1 as shipped | declined |")
    print("|---|---|---|---|")
    shipped = bot.config
    for label, expand in (("as written", False), ("with the other form added (default)", True)):
        bot.config = replace(shipped, expand_acronyms=expand)
        cands = candidates(bot, [q.q for q in changed])
        top = [bool(len(c.sentences)) and contains_gold(bot.data.sentence_text(int(c.sentences[np.argmax(c.scores)])), q.gold)
               for c, q in zip(cands, changed)]
        answered = np.array([c.confidence >= shipped.min_confidence for c in cands])
        print(f"| {label} | {np.mean(top):.3f} | {np.mean(np.array(top) & answered):.3f} | {1 - answered.mean():.3f} |")


if __name__ == "__main__":
    main()
