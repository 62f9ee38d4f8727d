"""Can the candidates of news questions be ranked better? Two tries on RealTime QA q1 (the fitting
quarter), each against the shipped ranker, every question answered, a gold string in the first
quote (and the first three) as a whole word:

1. a recency bonus: the score plus w * exp(-days before as_of / tau) for articles published up
   to a day after the question's date;
2. the linear ranker refitted on q1's candidates (pairwise logistic regression over the shipped
   score and the 21 features, the positives the sentences holding a gold string), scored by
   4-fold cross-validation over the weeks.

    python -m tools.studies.news_ranker [--work /tmp/qa-q1] [--index DIR]

Also prints where the first gold-holding candidate ranks. Neither try was kept (docs/quality.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa_bot.bot import QABot
from qa_bot.evaluation.datasets import load_realtimeqa
from qa_bot.evaluation.run import contains_gold
from tools.studies import news_index

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "realtimeqa_2023"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-q1"))
    parser.add_argument("--index", type=Path)
    args = parser.parse_args()
    data = load_realtimeqa(DATA / "q1_questions.jsonl")
    bot = QABot.load(news_index(data.articles, args.work, args.index))
    bot = bot.with_config(replace(bot.config, min_confidence=0.0))
    qs = data.questions
    cands = [bot.candidates_batch([q.q], as_of=q.as_of)[0] for q in qs]
    text = bot.data.sentence_text
    labels = [np.array([contains_gold(text(int(s)), q.gold, whole_words=True) for s in c.sentences], bool)
              for q, c in zip(qs, cands)]

    def score(ids, scores_of) -> tuple[float, float]:
        at1 = at3 = 0
        for i in ids:
            if not len(cands[i].sentences):
                continue
            quotes = [x.text for x in bot.select(replace(cands[i], scores=scores_of(i))).quotes]
            at1 += bool(quotes) and contains_gold(quotes[0], qs[i].gold, whole_words=True)
            at3 += any(contains_gold(x, qs[i].gold, whole_words=True) for x in quotes[:3])
        return at1, at3

    ranks = [next((k for k, r in enumerate(c.ranked().tolist()) if y[r]), None) for c, y in zip(cands, labels)]
    print(f"q1: {len(qs)} questions; a gold-holding candidate for {sum(r is not None for r in ranks)}, "
          f"ranked first for {sum(r == 0 for r in ranks)}; ranks: "
          f"{sorted(Counter(min(r, 20) for r in ranks if r is not None).items())}\n")
    everyone = range(len(qs))
    base = score(everyone, lambda i: cands[i].scores)
    print(f"shipped ranker: acc@1 {base[0] / len(qs):.3f}, acc@3 {base[1] / len(qs):.3f}\n")

    published = np.array([dt.date.fromisoformat(a.published[:10]).toordinal() if a.published else -10**9
                          for a in bot.data.articles])
    article = bot.data.sentences["article"]
    print("| recency bonus w | tau (days) | acc@1 | acc@3 |\n|---|---|---|---|")
    for tau in (3, 7, 14, 30):
        for w in (0.25, 0.5, 1, 2, 4):
            def bonus(i, w=w, tau=tau):
                days = dt.date.fromisoformat(qs[i].as_of).toordinal() - published[article[cands[i].sentences]]
                return cands[i].scores + w * np.where(days >= -1, np.exp(-np.maximum(days, 0) / tau), 0.0)
            at1, at3 = score(everyone, bonus)
            print(f"| {w} | {tau} | {at1 / len(qs):.3f} | {at3 / len(qs):.3f} |")

    def rows(i):
        c = cands[i]
        return np.column_stack([c.scores, c.features])

    def pairs(ids, rng):
        diffs, ys = [], []
        for i in ids:
            c, y = cands[i], labels[i]
            if not len(c.sentences) or not y.any() or y.all():
                continue
            x, order = rows(i), np.argsort(-c.scores)[:30]
            positive = [j for j in order if y[j]] or list(np.flatnonzero(y))[:3]
            for p in positive[:3]:
                for n in (j for j in order if not y[j]):
                    flip = rng.random() < 0.5
                    diffs.append(x[n] - x[p] if flip else x[p] - x[n])
                    ys.append(0 if flip else 1)
        return np.array(diffs), np.array(ys)

    weeks = sorted({q.as_of for q in qs})
    folds = [set(weeks[k::4]) for k in range(4)]
    print("\n| refitted, C | acc@1 (4-fold by week) | acc@3 |\n|---|---|---|")
    for C in (0.001, 0.01, 0.1, 1.0):
        total = np.zeros(2)
        for fold in folds:
            test = [i for i, q in enumerate(qs) if q.as_of in fold]
            train = [i for i, q in enumerate(qs) if q.as_of not in fold]
            model = LogisticRegression(C=C, fit_intercept=False, max_iter=5000).fit(
                *pairs(train, np.random.default_rng(0)))
            total += score(test, lambda i, w=model.coef_[0]: rows(i) @ w)
        print(f"| {C} | {total[0] / len(qs):.3f} | {total[1] / len(qs):.3f} |")


if __name__ == "__main__":
    main()
