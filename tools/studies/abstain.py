"""Does the answerability model decline a question whose topic the corpus covers but whose answer it
lacks? The study behind strict abstention (docs/decisions/strict-abstention.md).

    python -m tools.studies.abstain [--work /tmp/qa-fit]

tools/fit/answerer.py fits the default answerability model on questions asked of a corpus on *another*
topic (other-domain: Wikinews; not-covered: the other half of the FIT paragraphs). A reader's
unanswerable question is often on the right topic: "Who leads the BLA?" of an article about the
BLA that names no leader. The answer-cut questions are of that kind: for one question of each FIT
paragraph, the sentences holding its answer are cut from the paragraph, and the question is asked
of the corpus so cut (fit_answerer.redacted_negatives).

Every model here is fitted on the questions of 60% of the FIT paragraphs and measured on the
questions of the other 40% (answerable and unanswerable alike, split by paragraph), its threshold
chosen on its own fitting questions by tools/fit/answerer.py's rule; the ranking weights are the shipped
ones. The rows:
  - the shipped default model, and that model refitted here (negatives pooled, as shipped);
  - the strict model: the answer-cut negatives too, the three kinds weighing alike (as shipped);
  - the strict model with six more features of the best candidates (EXTRA);
  - and with six features of how well the question's tokens are matched in the best sentence
    (WEAK: the IDF-weighted share of question tokens whose best cosine is under a bound, and the
    worst-matched tokens).
Then the strict model's curve over thresholds on the measured questions. Nothing here reads
XQuAD, NewsQA or the SQuAD questions `qa-bot eval` reports.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from qa_bot.answer.config import fitted
from qa_bot.answer.features import ABSTAIN_FEATURES, RANK_FEATURES, abstain_features
from qa_bot.bot import QABot
from tools.fit.answerer import (
    THRESHOLDS,
    build,
    candidates,
    fit_split,
    gold_labels,
    pick_threshold,
    redacted_negatives,
    top_right,
    topic_negatives,
    utility,
)

EXTRA = ("top_type_miss", "top_ctx_lex", "top_bigram", "best_lex", "top_neighbour_cos", "second_maxsim")
WEAK = ("weak_share@0.4", "weak_share@0.5", "weak_share@0.6", "weak_share@0.7", "min_of_3_heaviest", "min")
KINDS = ("other-domain", "not-covered", "answer-cut")


def rows(cands) -> np.ndarray:
    """Per question: ABSTAIN_FEATURES, then EXTRA."""
    col = RANK_FEATURES.index
    out = []
    for c in cands:
        if not len(c.scores):
            out.append(np.zeros(len(ABSTAIN_FEATURES) + len(EXTRA)))
            continue
        order = np.argsort(-c.scores, kind="stable")
        f, best = c.features, order[0]
        second = f[order[1], col("maxsim")] if len(order) > 1 else 0.0
        extra = [f[best, col("type_miss")], f[best, col("ctx_lex")], f[best, col("bigram")],
                 f[:, col("sent_lex")].max(), f[best, col("neighbour_cos")], second]
        out.append(np.r_[abstain_features(f, c.scores, c.article_lex), extra])
    return np.vstack(out)


def weakest(bot: QABot, cands, texts: list[str]) -> np.ndarray:
    """Per question (WEAK): how well its tokens are matched in its best candidate, one by one."""
    store, out = bot.data.tokens, []
    for start in range(0, len(texts), 256):
        states = bot.reader.read(texts[start : start + 256], tokens=True).states
        for (st, ids), c in zip(states, cands[start : start + 256]):
            if not len(c.scores) or not len(ids):
                out.append(np.zeros(len(WEAK)))
                continue
            q = store.projection(st) if store.projection is not None else st
            w = store.idf(ids)
            w = w / w.sum() if w.sum() > 0 else np.full(len(ids), 1 / len(ids))
            toks = store.sentence(int(c.sentences[np.argmax(c.scores)]))
            sims = (q @ toks.T).max(axis=1) if len(toks) else np.zeros(len(ids))
            heavy = w >= np.sort(w)[-min(3, len(w))]
            out.append(np.array([w[sims < b].sum() for b in (0.4, 0.5, 0.6, 0.7)] + [sims[heavy].min(), sims.min()]))
    return np.vstack(out)


def utility_at(p_pos, right, p_neg: dict[str, np.ndarray], share: dict[str, float], t: float) -> float:
    """tools/fit/answerer.py's utility at threshold ``t``; ``share``: each kind's part of the unanswerable."""
    return utility(p_pos >= t, right, sum(share[k] * (p >= t).mean() for k, p in p_neg.items()))


def choose(p_pos, right, p_neg, share) -> float:
    """tools/fit/answerer.py's rule: the lowest threshold within 0.01 of the best utility."""
    return pick_threshold([(float(t), utility_at(p_pos, right, p_neg, share, t))
                           for t in THRESHOLDS])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    args = parser.parse_args()

    articles, questions, fit_ids = fit_split()
    random.Random(0).shuffle(questions)
    fit_order = [a for a in articles if a.id in fit_ids]
    train_ids = {a.id for i, a in enumerate(fit_order) if i % 5 < 3}  # 60%, from both halves

    squad_bot = build(articles, args.work, "squad-fit")
    _, shipped, shipped_threshold = fitted(True)
    pos_q = questions[:4000]
    pos = candidates(squad_bot, [q.q for q in pos_q])
    labels = gold_labels(squad_bot.data, pos, pos_q)
    right = top_right([c.scores for c in pos], labels)

    # The three kinds of unanswerable question, as tools/fit/answerer.py makes them.
    news_bot, b_bot, half_b_ids = topic_negatives(articles, fit_ids, args.work, squad_bot.encoder)
    cut_bot, cut_q, cut = redacted_negatives(articles, questions, fit_ids, args.work, squad_bot.encoder)
    neg_q = {"other-domain": pos_q[:2000], "not-covered": [q for q in pos_q if q.article not in half_b_ids],
             "answer-cut": cut_q}
    bots = {"other-domain": news_bot, "not-covered": b_bot, "answer-cut": cut_bot}
    neg = {k: (cut if k == "answer-cut" else candidates(bots[k], [q.q for q in neg_q[k]])) for k in KINDS}

    X = {"answerable": np.hstack([rows(pos), weakest(squad_bot, pos, [q.q for q in pos_q])])}
    X |= {k: np.hstack([rows(neg[k]), weakest(bots[k], neg[k], [q.q for q in neg_q[k]])]) for k in KINDS}
    fit = {"answerable": np.array([q.article in train_ids for q in pos_q])}
    fit |= {k: np.array([q.article in train_ids for q in neg_q[k]]) for k in KINDS}
    print("\nfitted on the questions of 60% of the FIT paragraphs, measured on the rest: "
          + ", ".join(f"{k} {fit[k].sum()} / {(~fit[k]).sum()}" for k in ["answerable", *KINDS]) + "\n")

    n_base, n_extra = len(ABSTAIN_FEATURES), len(ABSTAIN_FEATURES) + len(EXTRA)
    print("| answerability model | threshold | answered right | answered wrong | declined (answerable) | "
          + " | ".join(f"{k} answered" for k in KINDS) + " | AUC answerable vs answer-cut |")
    print("|---|---|---|---|---|---|---|---|---|")

    def report(name: str, p: dict[str, np.ndarray], threshold: float) -> None:
        a, r = p["answerable"][~fit["answerable"]] >= threshold, right[~fit["answerable"]]
        held = {k: p[k][~fit[k]] for k in KINDS}
        auc = roc_auc_score(np.r_[np.ones(len(a)), np.zeros(len(held["answer-cut"]))],
                            np.r_[p["answerable"][~fit["answerable"]], held["answer-cut"]])
        print(f"| {name} | {threshold:.2f} | {(a & r).mean():.3f} | {(a & ~r).mean():.3f} | {(~a).mean():.3f} | "
              + " | ".join(f"{(held[k] >= threshold).mean():.3f}" for k in KINDS) + f" | {auc:.3f} |")

    w = np.array([shipped.get(n, 0.0) for n in ABSTAIN_FEATURES])
    report("shipped default", {k: 1 / (1 + np.exp(-(v[:, :n_base] @ w + shipped["bias"]))) for k, v in X.items()},
           shipped_threshold)
    models = {}
    for name, cols, kinds in (
        ("default, refitted", n_base, KINDS[:2]),
        ("strict", n_base, KINDS),
        ("strict + EXTRA", n_extra, KINDS),
        ("strict + EXTRA + WEAK", n_extra + len(WEAK), KINDS),
    ):
        pooled = name.startswith("default")  # as shipped: the default pools its negatives
        n_neg = sum(fit[k].sum() for k in kinds)
        share = {k: (fit[k].sum() / n_neg if pooled else 1 / len(kinds)) for k in kinds}
        weight = np.r_[np.ones(fit["answerable"].sum()),
                       *[np.full(fit[k].sum(), share[k] * fit["answerable"].sum() / fit[k].sum()) for k in kinds]]
        Xf = np.vstack([X["answerable"][fit["answerable"], :cols], *[X[k][fit[k], :cols] for k in kinds]])
        y = np.r_[np.ones(fit["answerable"].sum()), np.zeros(len(Xf) - fit["answerable"].sum())]
        model = LogisticRegression(C=1.0, max_iter=5000).fit(Xf, y, sample_weight=None if pooled else weight)
        p = {k: model.predict_proba(v[:, :cols])[:, 1] for k, v in X.items()}
        threshold = choose(p["answerable"][fit["answerable"]], right[fit["answerable"]],
                           {k: p[k][fit[k]] for k in kinds}, share)
        report(name, p, threshold)
        models[name] = (model, cols, p)

    print("\nthe strict model over thresholds, on the measured questions:\n")
    print("| threshold | answered right | answered wrong | declined (answerable) | "
          + " | ".join(f"{k} answered" for k in KINDS) + " |")
    print("|---|---|---|---|---|---|---|")
    _, _, p = models["strict"]
    for t in THRESHOLDS:
        a, r = p["answerable"][~fit["answerable"]] >= t, right[~fit["answerable"]]
        print(f"| {t:.2f} | {(a & r).mean():.3f} | {(a & ~r).mean():.3f} | {(~a).mean():.3f} | "
              + " | ".join(f"{(p[k][~fit[k]] >= t).mean():.3f}" for k in KINDS) + " |")
    model, cols, _ = models["strict + EXTRA + WEAK"]
    names = [*ABSTAIN_FEATURES, *EXTRA, *WEAK]
    print("\nweights of strict + EXTRA + WEAK:", json.dumps({n: round(float(v), 2) for n, v in zip(names, model.coef_[0])}))


if __name__ == "__main__":
    main()
