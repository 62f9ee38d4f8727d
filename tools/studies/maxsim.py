"""Token-level late interaction (MaxSim) as a ranking feature: the study that decided to ship it.

    python -m tools.studies.maxsim [--work /tmp/qa-fit]

Uses the FIT index that tools/fit/answerer.py builds in --work (built here if missing). Every sentence
keeps the token states it had in the first passage holding it (late chunking, as the builder
pools them); a question's token states come from its own forward pass. For each candidate
sentence, MaxSim = the IDF-weighted mean over question tokens of their best cosine with a token
of the sentence (ColBERT's score), and its lead over the best candidate. The ranker is refitted
with and without these two features on 2,500 FIT questions and measured on 1,500 others
(abstention off), for full 384-dimension token vectors (float16 and int8 with a per-token scale)
and for 128 dimensions after a PCA fitted on FIT tokens. Nothing here reads the reported sets.
The engine now ships the last row's storage (tokens.py, with the basis of tools/fit/token_basis.py);
the baseline row here drops the shipped MaxSim columns, and every row adds the study's own.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from pathlib import Path

import numpy as np

from qa_bot.answer.config import AnswerConfig
from qa_bot.answer.features import RANK_FEATURES, TOKEN_FEATURES
from tools.fit.answerer import build, candidates, fit_split, gold_labels, pairwise_held_out
from tools.studies.vectors import passage_inputs


def token_states(encoder, texts: list[str], batch_size: int = 32):
    """Per text: (L2-normalised token states, token ids, character offsets) of its non-special tokens."""
    out: list = [None] * len(texts)
    order = np.argsort([len(t) for t in texts])
    for lo in range(0, len(texts), batch_size):
        rows = order[lo : lo + batch_size]
        hidden, _, batch = encoder._forward([texts[i] for i in rows])
        for h, e, i in zip(hidden, batch, rows):
            keep = np.array(e.attention_mask, bool) & ~np.array(e.special_tokens_mask, bool)
            states = h[keep]
            out[i] = (states / np.linalg.norm(states, axis=1, keepdims=True), np.array(e.ids)[keep],
                      np.array(e.offsets)[keep])
    return out


def int8_rows(m: np.ndarray) -> np.ndarray:
    """Round trip through int8 with one scale per row (what an index would store)."""
    scale = np.abs(m).max(axis=1, keepdims=True) / 127
    return np.round(m / scale).astype(np.int8).astype(np.float32) * scale


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    args = parser.parse_args()
    articles, questions, _ = fit_split()
    random.Random(0).shuffle(questions)
    questions = questions[:4000]
    bot = build(articles, args.work, "squad-fit")
    bot.config = AnswerConfig(min_confidence=0.0)
    data, encoder = bot.data, bot.encoder.warm_up()
    if not hasattr(encoder, "_forward"):
        sys.exit("this study needs the ONNX encoder (QA_BOT_BACKEND=onnx or auto)")

    # Sentence token states, from the first passage holding each sentence.
    texts, spans = passage_inputs(data)
    owners = [[(first + k, a, b) for k, (a, b) in enumerate(passage_spans)]
              for (_, first, _, _, _), passage_spans in zip(data.passages, spans)]
    tokens: list = [None] * len(data.sentences)
    for (states, ids, offsets), owned in zip(token_states(encoder, texts), owners):
        for s, a, b in owned:
            inside = (offsets[:, 0] >= a) & (offsets[:, 1] <= b) & (offsets[:, 1] > offsets[:, 0])
            if tokens[s] is None and inside.any():
                tokens[s] = (states[inside], ids[inside])
    df: dict[int, int] = {}
    for entry in tokens:
        for t in set(entry[1].tolist()) if entry else ():
            df[t] = df.get(t, 0) + 1
    n = len(tokens)

    def idf(t: int) -> float:
        return math.log(1 + (n - df.get(t, 0) + 0.5) / (df.get(t, 0) + 0.5))

    count = sum(len(e[0]) for e in tokens if e)
    print(f"{n} sentences, {count} tokens ({count / n:.1f} per sentence); "
          f"{sum(e is None for e in tokens)} sentences without tokens")

    sample = np.vstack([e[0] for e in tokens if e])
    sample = sample[np.random.default_rng(0).choice(len(sample), min(50_000, len(sample)), replace=False)]
    mean = sample.mean(axis=0)
    basis = np.linalg.svd(sample - mean, full_matrices=False)[2][:128].T

    def pca(m: np.ndarray) -> np.ndarray:
        r = (m - mean) @ basis
        return r / np.linalg.norm(r, axis=1, keepdims=True)

    q_tokens = token_states(encoder, [q.q for q in questions], batch_size=64)
    cands = candidates(bot, [q.q for q in questions])
    labels = gold_labels(data, cands, questions)

    def maxsim(store, project=lambda m: m) -> list[np.ndarray]:
        out = []
        for (states, ids, _), c in zip(q_tokens, cands):
            q, w = project(states), np.array([idf(t) for t in ids.tolist()])
            w = w / w.sum()
            ms = np.array([float(w @ (q @ store[int(s)].T).max(axis=1)) if store[int(s)] is not None else 0.0
                           for s in c.sentences])
            out.append(np.c_[ms, ms - ms.max()] if len(ms) else np.zeros((0, 2)))
        return out

    base = [i for i, name in enumerate(RANK_FEATURES) if name not in TOKEN_FEATURES]

    def accuracy(extra) -> float:
        return pairwise_held_out([c.features[:, base] if e is None else np.c_[c.features[:, base], e]
                                  for c, e in zip(cands, extra)], labels)

    full = [e[0].astype(np.float16).astype(np.float32) if e else None for e in tokens]
    small = [pca(e[0]) if e else None for e in tokens]
    rows = [
        ("current features (no MaxSim)", [None] * len(cands), "-"),
        ("+ MaxSim, 384 dims, float16", maxsim(full), f"{384 * 2}"),
        ("+ MaxSim, 384 dims, int8 + scale", maxsim([int8_rows(m) if m is not None else None for m in full]), f"{384 + 4}"),
        ("+ MaxSim, 128 dims (PCA), int8 + scale", maxsim([int8_rows(m) if m is not None else None for m in small], pca),
         f"{128 + 4}"),
    ]
    print("\n| ranking features | FIT held-out accuracy@1 (1,500 q) | bytes per token stored |")
    print("|---|---|---|")
    for name, extra, size in rows:
        print(f"| {name} | {accuracy(extra):.3f} | {size} |", flush=True)


if __name__ == "__main__":
    main()
