"""Does the answerability model hold on small corpora? (docs/decisions/small-corpora.md)

    python -m tools.studies.corpus_size --work /tmp/qa-fit2

The answerability model is fitted on FIT questions asked of the whole FIT corpus (1,827
paragraphs), and its negatives of another topic are asked of 43 Wikinews articles. A newsroom's
corpus may hold a few articles. Some of the evidence changes with the corpus's size: BM25 and
the leads over other candidates read a different field. (Until commit af2391e the model also read
the share of question terms the corpus had never seen, ``unknown_terms``, larger in a small corpus
for answerable questions too; the refits that replaced or qualified it are in the decision's
history.)

Held out here: the FIT questions after the first 4,000 (used by no fit: not the ranker, not the
answerability model, not the query adapter), asked of the whole FIT corpus and of runs of 50 and
240 consecutive FIT paragraphs (SQuAD keeps a Wikipedia article's paragraphs together, so a run
covers a few articles). Answerable: the questions on a run's paragraphs; unanswerable: the
questions on the paragraphs half the FIT corpus away (other Wikipedia articles). Rows:

- shipped: ``qa_bot/fitted/weights.json`` as it is;
- the same fit (the ranking weights shipped, negatives pooled as ``tools/fit/answerer.py`` pools
  them) with examples from small corpora added: FIT questions asked of runs of 25, 100 and 400
  paragraphs holding their paragraph (answerable) and of the run half the corpus away;
- the same fit with more of the best candidate's evidence (``MORE``: ranking features the model
  does not read, its lead over the third candidate, the number of candidates).

Each refit picks its threshold by the rule of tools/fit/answerer.py on its own fitting data. Run
``tools/fit/answerer.py --work DIR`` first (its indexes are reused).

The second table is the rule for choosing among these models for corpora of every size, fixed
(2026-11-30) before it was first printed, though after the first table had been read: for each
size (the whole FIT corpus with Wikinews; the two runs of 240 paragraphs; the two of 50), the
utility the threshold is fitted with (``fit_answerer.utility``), and their mean. Another model
replaces the shipped one only if its mean is higher by more than 0.01.
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from qa_bot.answer.candidates import confidence
from qa_bot.answer.features import ABSTAIN_FEATURES, RANK_FEATURES
from qa_bot.bot import QABot
from qa_bot.fitted import WEIGHTS_FILE
from tools.fit.answerer import (
    THRESHOLDS,
    abstain_rows,
    build,
    candidates,
    fit_split,
    gold_labels,
    pick_threshold,
    top_right,
    topic_negatives,
    utility,
)

MORE = ("maxsim_adapted", "ctx_lex", "type_miss", "type_match", "bigram", "neighbour_cos", "pass_bm25", "pass_rrf")
# The columns group() gives.
EVIDENCE = (*ABSTAIN_FEATURES, *MORE, "third_gap", "log_candidates")
FIT_RUNS = (25, 100, 400)  # sizes of the small corpora added to the fit, in turn
HELD_OUT_RUNS = ((50, 100), (50, 600), (240, 200), (240, 650))  # (paragraphs, first paragraph)


def group(bot: QABot, questions, rank: dict, answerable: bool = True):
    """The abstention features of ``questions`` asked of ``bot`` and the rest of ``EVIDENCE``,
    and (answerable) whether the best candidate is right."""
    cands = candidates(bot, [q.q for q in questions])
    rows, scores = abstain_rows(cands, rank)
    more = np.zeros((len(rows), len(EVIDENCE) - len(ABSTAIN_FEATURES)))
    for i, (c, sc) in enumerate(zip(cands, scores)):
        if len(sc):
            order = np.argsort(-sc, kind="stable")
            third = sc[order[0]] - sc[order[2]] if len(sc) > 2 else 1.0
            more[i] = [*c.features[order[0], [RANK_FEATURES.index(n) for n in MORE]], third, np.log(len(sc))]
    rows = np.hstack([rows, more])
    if not answerable:
        return rows, None
    return rows, top_right(scores, gold_labels(bot.data, cands, questions))


def refit(pos: list, neg: list, drop: tuple[str, ...] = ()):
    """The answerability model over answerable groups ``pos`` and unanswerable ``neg`` (pooled,
    unweighted, as fit_answerer's default) on the ``EVIDENCE`` columns not in ``drop``, its
    threshold by the same utility and rule."""
    keep = [i for i, name in enumerate(EVIDENCE) if name not in drop]
    A_pos, right = np.vstack([a for a, _ in pos])[:, keep], np.concatenate([r for _, r in pos])
    A_neg = np.vstack([a for a, _ in neg])[:, keep]
    model = LogisticRegression(C=1.0, max_iter=5000).fit(
        np.vstack([A_pos, A_neg]), np.r_[np.ones(len(A_pos)), np.zeros(len(A_neg))])
    p_pos, p_neg = model.predict_proba(A_pos)[:, 1], model.predict_proba(A_neg)[:, 1]
    threshold = pick_threshold([(float(t), utility(p_pos >= t, right, (p_neg >= t).mean()))
                                for t in THRESHOLDS])
    return lambda rows: model.predict_proba(rows[:, keep])[:, 1], threshold


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    args = parser.parse_args()
    weights = json.loads(WEIGHTS_FILE.read_text())
    rank = weights["rank"]

    articles, questions, fit_ids = fit_split()
    random.Random(0).shuffle(questions)  # as tools/fit/answerer.py: its first 4,000 are the FIT questions
    fit_q, held_q = questions[:4000], questions[4000:]
    by_id = {a.id: a for a in articles}
    order = [a.id for a in articles if a.id in fit_ids]  # consecutive paragraphs, as in SQuAD
    n = len(order)
    whole = build(articles, args.work, "squad-fit")
    encoder = whole.encoder
    news, not_b, half_b = topic_negatives(articles, fit_ids, args.work, encoder)

    def run(start: int, size: int, name: str) -> tuple[QABot, set[str], set[str]]:
        ids = order[start : start + size]
        away = start + n // 2
        far = set((order + order)[away : away + min(size, 240)])
        return QABot(build([by_id[i] for i in ids], args.work, name).data, encoder), set(ids), far

    # Fitting data: as tools/fit/answerer.py's default, and the small-corpus examples.
    fit = {"answerable": group(whole, fit_q, rank),
           "other-domain": group(news, fit_q[:2000], rank, False),
           "not-covered": group(not_b, [q for q in fit_q if q.article not in half_b], rank, False)}
    small_pos, small_neg, start = [], [], 0
    while start < n:
        size = FIT_RUNS[len(small_pos) % len(FIT_RUNS)]
        bot, own, far = run(start, size, f"run-fit-{start}-{size}")
        small_pos.append(group(bot, [q for q in fit_q if q.article in own], rank))
        small_neg.append(group(bot, [q for q in fit_q if q.article in far][:400], rank, False))
        start += size

    held = {"whole FIT corpus": (group(whole, held_q, rank),
                                 group(not_b, [q for q in held_q if q.article not in half_b], rank, False)),
            "Wikinews": (None, group(news, held_q, rank, False))}
    for size, start in HELD_OUT_RUNS:
        bot, own, far = run(start, size, f"run-{size}-{start}")
        held[f"{size} paragraphs from {start}"] = (group(bot, [q for q in held_q if q.article in own], rank),
                                                   group(bot, [q for q in held_q if q.article in far], rank, False))

    def shipped(rows: np.ndarray) -> np.ndarray:
        return np.array([confidence(r[: len(ABSTAIN_FEATURES)], weights["abstain"]) for r in rows])

    base_pos, base_neg = [fit["answerable"]], [fit["other-domain"], fit["not-covered"]]
    models = {f"shipped (threshold {weights['min_confidence']})": (shipped, weights["min_confidence"])}
    extra = EVIDENCE[len(ABSTAIN_FEATURES):]
    for label, model in (("refit with small-corpus examples", refit(base_pos + small_pos, base_neg + small_neg, extra)),
                         ("refit with more evidence", refit(base_pos, base_neg))):
        models[f"{label} (threshold {model[1]})"] = model

    print(f"held out: {len(held_q)} FIT questions used by no fit. Each cell: false abstention on the "
          "answerable questions / share answered of the unanswerable ones (their numbers in the header). "
          "AUC: how well the confidence ranks all the answerable above all the unanswerable (1 = perfectly)\n")
    print("| model | " + " | ".join(f"{name} ({len(p[0]) if p else 0} / {len(g[0]) if g else 0})"
                                   for name, (p, g) in held.items()) + " | AUC |")
    print("|---|" + "---|" * (len(held) + 1))
    for label, (proba, threshold) in models.items():
        scored = [[None if g is None else proba(g[0]) for g in pair] for pair in held.values()]
        cells = [" / ".join(f"{(p < threshold).mean():.3f}" if kind == 0 else f"{(p >= threshold).mean():.3f}"
                            for kind, p in enumerate(pair) if p is not None) for pair in scored]
        pos = np.concatenate([p for p, _ in scored if p is not None])
        neg = np.concatenate([g for _, g in scored])
        auc = roc_auc_score(np.r_[np.ones(len(pos)), np.zeros(len(neg))], np.r_[pos, neg])
        print(f"| {label} | " + " | ".join(cells) + f" | {auc:.4f} |")

    # The rule for choosing among these models for corpora of every size (fixed before this table
    # was first printed): the mean over the three sizes of the utility the threshold is fitted with.
    sizes = {"whole FIT corpus": ("whole FIT corpus", "Wikinews"),
             **{f"{size} paragraphs": tuple(k for k in held if k.startswith(f"{size} paragraphs"))
                for size in dict(HELD_OUT_RUNS)}}
    print("\nheld-out utility by corpus size (fit_answerer.utility: right minus wrong answers to the answerable "
          "questions, minus the share of the unanswerable ones answered, each half; the runs of a size pooled)\n")
    print("| model | " + " | ".join(sizes) + " | mean |")
    print("|---|" + "---|" * (len(sizes) + 1))
    for label, (proba, threshold) in models.items():
        cells = []
        for names in sizes.values():
            pos = [held[k][0] for k in names if held[k][0] is not None]
            answered = np.concatenate([proba(rows) >= threshold for rows, _ in pos])
            right = np.concatenate([r for _, r in pos])
            unanswerable = np.concatenate([proba(held[k][1][0]) >= threshold for k in names]).mean()
            cells.append(utility(answered, right, unanswerable))
        print(f"| {label} | " + " | ".join(f"{u:.3f}" for u in cells) + f" | {np.mean(cells):.3f} |")


if __name__ == "__main__":
    main()
