"""Where the answerer loses: a study behind docs/decisions/ranker.md.

    python -m tools.studies.ranker [--work /tmp/qa-fit]

Prints, on FIT questions held out from this script's own fitting (see tools/fit/answerer.py for FIT):
  - accuracy@1 of the linear pairwise ranker, a pointwise linear one, and gradient-boosted trees
    on the same features (fitted on 2,500 questions, measured on 1,500 others);
  - the share of top-1 errors that come from another paragraph;
and, on XQuAD (read only, nothing fitted): the top-1 of the shipped ranker with abstention
switched off, and how often a right sentence is among the candidates at all.
Needs the indexes that tools/fit/answerer.py builds in --work.
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from qa_bot.answer.config import AnswerConfig
from qa_bot.evaluation.datasets import load_squad
from tools.fit.answerer import SHARED, build, candidates, fit_split, gold_labels


def labelled(bot, questions):
    cands = candidates(bot, [q.q for q in questions])
    return list(zip(questions, cands, gold_labels(bot.data, cands, questions)))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    args = parser.parse_args()
    no_abstain = AnswerConfig(min_confidence=0.0)

    articles, questions, _ = fit_split()
    random.Random(0).shuffle(questions)
    bot = build(articles, args.work, "squad-fit")
    bot.config = no_abstain
    rows = labelled(bot, questions[:4000])
    train, test = rows[:2500], rows[2500:]

    def accuracy(score) -> float:
        return float(np.mean([lab[np.argmax(score(c.features))] if len(lab) else 0.0 for _, c, lab in test]))

    rng = np.random.default_rng(0)
    diffs = []
    for _, c, lab in train:
        pos, neg = np.flatnonzero(lab), np.flatnonzero(~lab)
        if len(pos) and len(neg):
            diffs += [c.features[rng.choice(pos)] - c.features[rng.choice(neg)] for _ in range(20)]
    X = np.vstack([diffs, -np.asarray(diffs)])
    y = np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]
    pairwise = LogisticRegression(fit_intercept=False, max_iter=5000).fit(X, y)
    Xp = np.vstack([c.features for _, c, _ in train])
    yp = np.concatenate([lab for _, _, lab in train])
    pointwise = LogisticRegression(max_iter=5000).fit(Xp, yp)
    trees = HistGradientBoostingClassifier(max_depth=3, max_iter=300, learning_rate=0.05).fit(Xp, yp)
    print(f"FIT held-out ({len(test)} q) accuracy@1: linear pairwise {accuracy(lambda f: f @ pairwise.coef_[0]):.3f}, "
          f"linear pointwise {accuracy(pointwise.decision_function):.3f}, "
          f"gradient-boosted trees {accuracy(trees.decision_function):.3f}")

    errors = other = 0
    for q, c, lab in rows:
        if not len(lab) or lab[np.argmax(c.scores)]:
            continue
        errors += 1
        top = int(c.sentences[np.argmax(c.scores)])
        other += bot.data.article_of_sentence(top).id != q.article
    print(f"shipped ranker on {len(rows)} FIT questions: {errors} top-1 errors, {other / errors:.0%} from another paragraph")

    xquad = load_squad(SHARED / "xquad.en.json")
    xbot = build(xquad.articles, args.work, "xquad")
    xbot.config = no_abstain
    xrows = labelled(xbot, xquad.questions)
    top1 = np.mean([lab[np.argmax(c.scores)] if len(lab) else 0.0 for _, c, lab in xrows])
    reachable = np.mean([lab.any() for _, _, lab in xrows])
    print(f"XQuAD, abstention off: accuracy@1 {top1:.3f}; a right sentence among the candidates {reachable:.3f}")


if __name__ == "__main__":
    main()
