"""What a cross-encoder adds to the answerer's ranking, and how much weight it gets.

    python -m tools.studies.rerank --cross-encoder /tmp/qa-ce [--work /tmp/qa-fit]

The reranker (qa_bot/rerank.py) re-orders the ranker's best candidates by the sum of both scores,
each standardised over those candidates, the cross-encoder's times a weight. On FIT questions
(see tools/fit/answerer.py), shuffled as tools/studies/ranker.py does:
  - the linear ranker is refitted on the first 2,500 (which tools/fit/cross_encoder.py also trains on);
  - the weight and the number of candidates read are chosen on the last 955 (CHOOSE);
  - accuracy@1 is reported on the 1,500 between them (HELD-OUT), with abstention off.
Prints accuracy@1 for each setting on both splits, the chosen one, and the cross-encoder's time.
"""

from __future__ import annotations

import argparse
import random
import time
from pathlib import Path

import numpy as np

from qa_bot.answer.config import AnswerConfig
from qa_bot.answer.features import RANK_FEATURES, linear
from qa_bot.answer.rerank import CrossEncoderReranker, rerank_order
from tools.fit.answerer import build, candidates, fit_rank, fit_split, gold_labels

TOPS = (4, 8, 12, 16)
WEIGHTS = (0.0, 0.25, 0.5, 0.75, 1.0, 1.5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cross-encoder", required=True)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    args = parser.parse_args()

    articles, questions, _ = fit_split()
    random.Random(0).shuffle(questions)
    bot = build(articles, args.work, "squad-fit")
    bot.config = AnswerConfig(min_confidence=0.0)
    cands = candidates(bot, [q.q for q in questions])
    labels = gold_labels(bot.data, cands, questions)
    rank = fit_rank([c.features for c in cands[:2500]], labels[:2500], np.random.default_rng(0), RANK_FEATURES)

    reranker = CrossEncoderReranker(args.cross_encoder)
    reranker.warm_up()
    splits = {"HELD-OUT": range(2500, 4000), "CHOOSE": range(4000, len(questions))}
    read: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # question -> (ranker scores, reranker scores of the top)
    started = time.perf_counter()
    for i in [i for rows in splits.values() for i in rows]:
        scores = linear(cands[i].features, RANK_FEATURES, rank)
        head = np.argsort(-scores, kind="stable")[: max(TOPS)]
        texts = [bot.data.sentence_text(int(s)) for s in cands[i].sentences[head]]
        read[i] = scores, reranker.score(questions[i].q, texts)
    seconds = time.perf_counter() - started
    print(f"cross-encoder: {len(read)} questions, {max(TOPS)} sentences each, "
          f"{1000 * seconds / len(read):.0f} ms per question")

    def accuracy(rows, top: int, weight: float) -> float:
        right = []
        for i in rows:
            scores, reranked = read[i]
            if not len(scores):
                right.append(False)
                continue
            first = rerank_order(scores, reranked[:top], top, weight)[0] if weight else int(np.argmax(scores))
            right.append(bool(labels[i][first]))
        return float(np.mean(right))

    print("\n| candidates read | weight | CHOOSE accuracy@1 | HELD-OUT accuracy@1 |")
    print("|---|---|---|---|")
    table = {}
    for top in TOPS:
        for weight in WEIGHTS:
            table[top, weight] = tuple(accuracy(rows, top, weight) for rows in splits.values())
            held, choose = table[top, weight]
            print(f"| {top} | {weight} | {choose:.3f} | {held:.3f} |")
    reach = np.mean([labels[i][np.argsort(-read[i][0], kind="stable")[: max(TOPS)]].any() for i in splits["HELD-OUT"]])
    best = max(table, key=lambda k: (table[k][1], -k[0], -k[1]))
    print(f"\nchosen on CHOOSE: {best[0]} candidates, weight {best[1]} "
          f"(CHOOSE {table[best][1]:.3f}); HELD-OUT {table[best][0]:.3f} against the ranker alone's "
          f"{table[best[0], 0.0][0]:.3f}; a right sentence among the {max(TOPS)} read: {reach:.3f}")


if __name__ == "__main__":
    main()
