"""Token states in fewer bytes, with the ranker refitted for each form: what a smaller index would cost.

    python -m tools.studies.token_refit [--fit-questions 4000] [--questions 204] [--work /tmp/qa-compact]

tools/studies/compact_index.py answers with the shipped weights, fitted for token states as they
are stored now (128 int8 dimensions a token); a smaller form changes the MaxSim features those
weights read. Here the pairwise ranker is refitted for each form, as tools/fit/answerer.py fits
it, on the candidates of the first 2,500 of ``--fit-questions`` shuffled FIT questions, and
measured on the rest (FIT held-out accuracy@1, abstention off), and on the first ``--questions``
questions of the RealTime QA 2023 ``q1`` quarter (first candidate holding a gold answer as a whole
word). The query adapter is not refitted. Forms: product quantisation (M bytes a token, trained on
FIT token states), and token pooling (each sentence's tokens clustered, Ward, into n / factor
groups, each group's mean kept), alone and together. Uses the two indexes of compact_index.py in
``--work`` (built there if missing). Nothing here reads the reported sets.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa_bot.answer.features import RANK_FEATURES
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.evaluation.datasets import load_realtimeqa
from qa_bot.evaluation.run import contains_gold
from tools.fit.answerer import build as build_fit
from tools.fit.answerer import candidates, fit_split, gold_labels
from tools.studies.compact_index import QUARTER, pq_codec, token_variant

N_FIT = 2500


def fit_ranker(features: list[np.ndarray], labels: list[np.ndarray]) -> np.ndarray:
    """Pairwise logistic ranker (as tools/fit/answerer.py fit_rank): right minus wrong sentence."""
    rng, diffs = np.random.default_rng(0), []
    for f, labs in zip(features, labels):
        pos, neg = np.flatnonzero(labs), np.flatnonzero(~labs)
        if len(pos) and len(neg):
            diffs += [f[rng.choice(pos)] - f[rng.choice(neg)] for _ in range(20)]
    X = np.vstack([diffs, -np.asarray(diffs)])
    y = np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]
    return LogisticRegression(fit_intercept=False, max_iter=5000).fit(X, y).coef_[0]


def top1(features: list[np.ndarray], labels: list[np.ndarray], w: np.ndarray) -> float:
    return float(np.mean([labs[np.argmax(f @ w)] if len(labs) else 0.0 for f, labs in zip(features, labels)]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fit-questions", type=int, default=4000)
    parser.add_argument("--questions", type=int, default=204)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-compact"))
    args = parser.parse_args()

    articles, fit_questions, _ = fit_split()
    random.Random(0).shuffle(fit_questions)
    fit_questions = fit_questions[: args.fit_questions]
    fit = build_fit(articles, args.work, "squad-fit")
    quarter = load_realtimeqa(QUARTER)
    questions = quarter.questions[: args.questions]
    wanted = {d for q in questions for d in (q.article, *q.also) if d}
    corpus, index = args.work / "news" / "corpus", args.work / "news" / "index"
    if not corpus.exists():
        save_articles(corpus, [a for a in quarter.articles if a.id in wanted])
    if not index.exists():
        QABot.build(corpus, index)
    news = QABot.load(index)

    rng = np.random.default_rng(0)
    sample = fit.data.tokens.vectors[:].astype(np.float32) * fit.data.tokens.scales[:, None]
    sample = sample[rng.choice(len(sample), min(100_000, len(sample)), replace=False)]
    codecs = {m: pq_codec(sample, m, False) for m in (16, 32)}
    n_tok = len(news.data.tokens.ids)
    forms = [
        ("as stored now: 128 int8 + scale", {}, 132),
        ("PQ 32", {"pq": 32}, 32),
        ("PQ 16", {"pq": 16}, 16),
        ("pooled by 2", {"pool": 2.0}, 132),
        ("pooled by 2, PQ 32", {"pool": 2.0, "pq": 32}, 32),
        ("pooled by 2, PQ 16", {"pool": 2.0, "pq": 16}, 16),
        ("pooled by 1.5, PQ 16", {"pool": 1.5, "pq": 16}, 16),
    ]
    print(f"FIT: {len(fit_questions)} questions (ranker fitted on {N_FIT}); NEWS: {len(questions)} q1 questions "
          f"over {len(news.data.articles)} articles, {n_tok / len(news.data.articles):.0f} tokens per article")
    print("\n| token states | FIT held-out acc@1, refitted | NEWS acc@1, refitted | NEWS acc@1, shipped weights "
          "| vectors kept | token KB per NEWS article (+2 B id a token) |")
    print("|---|---|---|---|---|---|")
    shipped = np.array([fit.config.rank_weights.get(name, 0.0) for name in RANK_FEATURES])
    for name, v, size in forms:
        out = {}
        for key, bot in (("fit", fit), ("news", news)):
            data = bot.data
            tokens = token_variant(data.tokens, pq=codecs.get(v.get("pq")), pool=v.get("pool")) if v else data.tokens
            variant = bot.with_data(replace(data, tokens=tokens))
            texts = [q.q for q in (fit_questions if key == "fit" else questions)]
            cands = candidates(variant, texts)
            if key == "fit":
                labels = gold_labels(data, cands, fit_questions)
            else:
                labels = [np.array([contains_gold(data.sentence_text(int(s)), q.gold, whole_words=True)
                                    for s in c.sentences], dtype=bool) for c, q in zip(cands, questions)]
            out[key] = ([c.features for c in cands], labels, len(tokens.bounds) and int(tokens.bounds[-1, 1]))
        (ff, fl, _), (nf, nl, kept) = out["fit"], out["news"]
        w = fit_ranker(ff[:N_FIT], fl[:N_FIT])
        kb = kept * (size + (4 if size == 132 else 0) + 2) / len(news.data.articles) / 1000
        print(f"| {name} | {top1(ff[N_FIT:], fl[N_FIT:], w):.3f} | {top1(nf, nl, w):.3f} | {top1(nf, nl, shipped):.3f} "
              f"| {kept / n_tok:.2f} | {kb:.0f} |", flush=True)


if __name__ == "__main__":
    main()
