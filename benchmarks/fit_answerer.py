"""Fit the answerer's feature weights and abstention threshold on held-out data.

Fitting data: SQuAD v1.1 dev (MRQA copy) *minus* the 240 paragraphs that XQuAD shares with it
(matched by paragraph text), so XQuAD and NewsQA stay untouched for reporting. Unanswerable
questions for the threshold are the same fitting questions asked against the Wikinews corpus,
which does not hold their answers.

    python benchmarks/fit_answerer.py [--work /tmp/qa-fit] [--write]

Prints the fitted weights and a threshold table; with --write stores them in
qa_bot/weights.json, which AnswerConfig loads by default.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa_bot.answer import FEATURES, AnswerConfig
from qa_bot.bot import QABot
from qa_bot.corpus import save_articles
from qa_bot.evaluate import contains_gold, load_mrqa, load_squad
from qa_bot.ingest import read_sources

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"


def build(articles, work: Path, name: str) -> QABot:
    corpus, index = work / name / "corpus", work / name / "index"
    if not corpus.exists():
        save_articles(corpus, articles)
    t = time.perf_counter()
    report = QABot.build(corpus, index)
    print(f"[{name}] {report.articles} articles, {report.passages} passages, built in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    return QABot.load(index)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    parser.add_argument("--questions", type=int, default=4000, help="fitting questions to sample")
    parser.add_argument("--write", action="store_true", help="write qa_bot/weights.json")
    args = parser.parse_args()

    xquad = load_squad(SHARED / "xquad.en.json")
    held_out = {a.text for a in xquad.articles}
    squad = load_mrqa(SHARED / "mrqa_squad_dev.jsonl.gz")
    fit_articles = [a for a in squad.articles if a.text not in held_out]
    fit_ids = {a.id for a in fit_articles}
    questions = [q for q in squad.questions if q.article in fit_ids and q.gold]
    random.Random(0).shuffle(questions)
    questions = questions[: args.questions]
    print(f"fitting on {len(fit_articles)} SQuAD dev paragraphs not in XQuAD, {len(questions)} questions", file=sys.stderr)

    bot = build(fit_articles, args.work, "squad-fit")
    texts = [q.q for q in questions]
    X, y, groups = [], [], []
    t = time.perf_counter()
    for start in range(0, len(texts), 256):
        for qi, cand in enumerate(bot.candidates_batch(texts[start : start + 256]), start):
            for s, f in zip(cand.sentences.tolist(), cand.features):
                X.append(f)
                y.append(contains_gold(bot.data.sentence_text(s), questions[qi].gold))
                groups.append(qi)
    print(f"{len(X)} candidates in {time.perf_counter() - t:.0f} s", file=sys.stderr)
    X, y, groups = np.asarray(X), np.asarray(y), np.asarray(groups)
    model = LogisticRegression(C=1.0, max_iter=2000).fit(X, y)
    weights = {"bias": float(model.intercept_[0])} | {n: float(w) for n, w in zip(FEATURES, model.coef_[0])}
    print(json.dumps({k: round(v, 3) for k, v in weights.items()}))

    # Top-1 scores of answerable questions (correct or not) under the fitted weights.
    w = np.array([weights[n] for n in FEATURES])
    scores = X @ w + weights["bias"]
    top_score, top_ok = [], []
    for qi in range(len(questions)):
        rows = np.flatnonzero(groups == qi)
        if len(rows) == 0:
            top_score.append(-np.inf), top_ok.append(False)
            continue
        best = rows[np.argmax(scores[rows])]
        top_score.append(scores[best]), top_ok.append(bool(y[best]))
    top_score, top_ok = np.asarray(top_score), np.asarray(top_ok)
    print(f"fit-set accuracy@1 with fitted weights: {top_ok.mean():.3f}", file=sys.stderr)

    # Out-of-corpus questions: the same questions against the Wikinews corpus.
    news, errors = read_sources([str(SHARED / "gum_wikinews.jsonl")])
    news_bot = QABot(build([n.article for n in news], args.work, "wikinews").data, bot.encoder, AnswerConfig(weights=weights))
    neg = []
    for start in range(0, min(len(texts), 2000), 256):
        for cand in news_bot.candidates_batch(texts[start : start + 256]):
            neg.append(float(cand.scores.max()) if len(cand.scores) else -np.inf)
    neg = np.asarray(neg)

    print("\nconfidence  answered-correct  answered-wrong  false-abstain  unanswerable-answered  utility")
    best = None
    for conf in np.arange(0.05, 0.96, 0.05):
        thr = np.log(conf / (1 - conf))
        answered = top_score >= thr
        correct = (answered & top_ok).mean()
        wrong = (answered & ~top_ok).mean()
        false_abstain = (~answered & top_ok).mean()
        neg_answered = (neg >= thr).mean()
        # A wrong answer costs as much as a right one gains; half the traffic is unanswerable.
        utility = 0.5 * (correct - wrong) + 0.5 * (-neg_answered)
        print(f"{conf:10.2f}  {correct:16.3f}  {wrong:14.3f}  {false_abstain:13.3f}  {neg_answered:21.3f}  {utility:7.3f}")
        if best is None or utility > best[1]:
            best = (round(float(conf), 2), utility)
    print(f"\nchosen min_confidence: {best[0]}")
    if args.write:
        out = {
            "fitted_on": "SQuAD v1.1 dev (MRQA) minus XQuAD paragraphs; negatives: same questions vs Wikinews",
            "command": "python benchmarks/fit_answerer.py --write",
            "weights": weights,
            "min_confidence": best[0],
        }
        (ROOT / "qa_bot" / "weights.json").write_text(json.dumps(out, indent=2) + "\n")
        print("wrote qa_bot/weights.json", file=sys.stderr)


if __name__ == "__main__":
    main()
