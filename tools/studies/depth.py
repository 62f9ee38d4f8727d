"""How many retrieved passages the answerer should read: FIT held-out accuracy per depth.

    python -m tools.studies.depth [--work /tmp/qa-fit]

Uses the FIT index that tools/fit/answerer.py builds in --work (built here if missing). For each number
of passages whose sentences become candidates, the ranker is refitted on 2,500 FIT questions and
measured on 1,500 others (abstention off), as tools/studies/vectors.py and tools/studies/maxsim.py do. Nothing here
reads the reported sets.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path

import numpy as np

from tools.fit.answerer import build, candidates, fit_split, gold_labels, pairwise_held_out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    parser.add_argument("--depths", type=int, nargs="+", default=[4, 6, 8, 12, 16, 24, 32, 48])
    args = parser.parse_args()
    articles, questions, _ = fit_split()
    random.Random(0).shuffle(questions)
    questions = questions[:4000]
    bot = build(articles, args.work, "squad-fit")
    shipped = bot.config
    print("| passages read | FIT held-out accuracy@1 (1,500 q) | a right sentence among the candidates | candidates per question |")
    print("|---|---|---|---|")
    for depth in args.depths:
        bot.config = replace(shipped, passages=depth, min_confidence=0.0)
        cands = candidates(bot, [q.q for q in questions])
        labels = gold_labels(bot.data, cands, questions)
        reachable = np.mean([labs.any() for labs in labels[2500:]])
        size = np.mean([len(c.sentences) for c in cands])
        print(f"| {depth}{' (default)' if depth == shipped.passages else ''} | "
              f"{pairwise_held_out([c.features for c in cands], labels):.3f} | {reachable:.3f} | {size:.1f} |", flush=True)


if __name__ == "__main__":
    main()
