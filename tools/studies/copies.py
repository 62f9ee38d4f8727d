"""Copies in the public news sets: how many articles the build groups as one story, how long
signing and grouping take, and what the groups hold (docs/decisions/news-answers.md, "One story,
many outlets").

    python -m tools.studies.copies [--source q1|q2|year] [--show 12]

Prints the number of articles, of groups with more than one member and of articles in them, the
largest groups, the groups that span outlets, and a sample of groups with their members' outlets,
dates and headlines. Reads ../shared/data/realtimeqa_2023 (research use only; nothing is copied).
"""

from __future__ import annotations

import argparse
import time
from collections import Counter
from pathlib import Path

import numpy as np

from qa_bot.evaluation.datasets import read_realtimeqa_articles
from qa_bot.indexing import copies

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "realtimeqa_2023"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--source", default="q1", choices=["q1", "q2", "year"])
    parser.add_argument("--show", type=int, default=12, help="groups to list")
    args = parser.parse_args()
    articles = read_realtimeqa_articles(DATA / f"{args.source}_articles.jsonl.gz")
    started = time.perf_counter()
    sigs = copies.signatures([a.text for a in articles])
    signed = time.perf_counter() - started
    groups = copies.groups(sigs)
    grouped = time.perf_counter() - started - signed
    sizes = Counter(groups.tolist())
    multi = {g: n for g, n in sizes.items() if n > 1}
    members = {g: [i for i in np.flatnonzero(groups == g)] for g in multi}
    outlets = {g: {articles[i].source for i in m} for g, m in members.items()}
    print(f"{args.source}: {len(articles)} articles; signed in {signed:.1f} s "
          f"({1000 * signed / len(articles):.2f} ms an article), grouped in {grouped:.1f} s")
    print(f"groups of copies: {len(multi)}, holding {sum(multi.values())} articles "
          f"({sum(multi.values()) / len(articles):.1%}); largest {sorted(multi.values(), reverse=True)[:8]}")
    print(f"groups spanning outlets: {sum(len(o) > 1 for o in outlets.values())}; "
          f"groups whose members share one body word for word: "
          f"{sum(len({articles[i].text for i in m}) == 1 for m in members.values())}")
    print()
    for g in sorted(multi, key=lambda g: -multi[g])[: args.show]:
        print(f"group of {multi[g]}:")
        for i in members[g][:4]:
            a = articles[i]
            print(f"  {a.published[:10]}  {a.source[:16]:16}  {len(a.text):6} chars  {a.title[:70]}")
        if multi[g] > 4:
            print(f"  ... and {multi[g] - 4} more")


if __name__ == "__main__":
    main()
