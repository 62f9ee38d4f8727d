"""Fit the query adapter of MaxSim, and measure what it adds (docs/decisions/query-adapter.md).

    python -m tools.fit.token_adapter [--work /tmp/qa-fit] [--joint] [--write]

MaxSim (tokens.py) matches each question token with its most similar token of a sentence, both as
the model read them. The model was never taught that a question's "who founded" should find a
sentence's "was established by": the adapter is a learnt linear map of the question's token
states (``q + q @ A``, A 128 x 128, in the stored projection's space; sentence tokens untouched, so
no index is rebuilt) trained so that MaxSim puts the sentence answering a FIT question above the
other candidates (softmax over each question's candidates, temperature 0.05, L2 penalty on A).
Both the plain and the adapted MaxSim are ranking features. With --joint (what ships) the
training logit is a learnt linear score of the adapted MaxSim and the other ranking features, so
the adapter learns what they miss:

    python -m tools.fit.token_adapter --joint --work /tmp/qa-fit2 --write

Data: the FIT questions of tools/fit/answerer.py, shuffled as there. The adapter is trained on the
first 2,200, with the next 300 to stop training when their loss stops falling; the ranker is then
refitted on the first 2,500 with and without the adapted MaxSim and measured on the 1,500 after
(abstention off, as the other studies). Nothing here reads the reported sets. With --write the
adapter goes to qa_bot/fitted/token_adapter.npy (then refit the weights: tools/fit/answerer.py --write).
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import sys
import time
from pathlib import Path

import numpy as np
import torch

from qa_bot.answer.config import AnswerConfig
from qa_bot.answer.features import RANK_FEATURES
from qa_bot.store.token_states import ADAPTER_FILE, TokenStore
from tools.fit.answerer import build, candidates, fit_split, gold_labels, pairwise_held_out

ADAPTED = [RANK_FEATURES.index("maxsim_adapted"), RANK_FEATURES.index("maxsim_adapted_gap")]
TEMPERATURE, PENALTY, EPOCHS, RATE = 0.05, 1e-2, 30, 2e-3


def train(store: TokenStore, questions, cands, labels, fit: list[int], stop: list[int],
          joint: bool = False, epochs: int = EPOCHS) -> tuple[np.ndarray, int]:
    """The adapter minimising the candidates' softmax loss on ``fit``, at the epoch where the loss
    on ``stop`` was lowest. With ``joint``, a candidate's logit is not its adapted MaxSim alone but
    a linear score of it and the other ranking features, learnt together with the adapter, so the
    adapter learns what those features miss."""
    torch.manual_seed(0)
    packed = {}
    for i in fit + stop:
        mats = [store.sentence(int(s)) for s in cands[i].sentences]
        width = max(1, max(len(m) for m in mats))
        X = np.zeros((len(mats), width, store.dimension), np.float32)
        mask = np.zeros((len(mats), width), bool)
        for j, m in enumerate(mats):
            X[j, : len(m)], mask[j, : len(m)] = m, True
        states, ids = questions[i]
        w = store.idf(ids)
        packed[i] = (torch.tensor(store.projection(states)), torch.tensor(w / w.sum(), dtype=torch.float32),
                     torch.tensor(X), torch.tensor(mask), torch.tensor(labels[i]),
                     torch.tensor(np.delete(cands[i].features, ADAPTED, axis=1), dtype=torch.float32))

    A = torch.zeros(store.dimension, store.dimension, requires_grad=True)
    others = torch.zeros(len(RANK_FEATURES) - len(ADAPTED), requires_grad=joint)
    scale = torch.tensor(1 / TEMPERATURE, requires_grad=joint)
    optimiser = torch.optim.Adam([A, others, scale] if joint else [A], lr=RATE)

    def loss(rows: list[int]) -> torch.Tensor:
        total = torch.zeros(())
        for i in rows:
            q, w, X, mask, y, features = packed[i]
            qa = q + q @ A
            qa = qa / qa.norm(dim=1, keepdim=True)
            sims = torch.einsum("td,nld->ntl", qa, X).masked_fill(~mask[:, None, :], -1e4)
            maxsim = sims.max(dim=2).values @ w
            logits = features @ others + scale * maxsim if joint else maxsim / TEMPERATURE
            total = total + torch.logsumexp(logits, 0) - torch.logsumexp(logits[y], 0)
        return total / len(rows)

    best, best_epoch, best_loss = np.zeros((store.dimension,) * 2, np.float32), -1, float("inf")
    order = list(fit)
    for epoch in range(epochs):
        started = time.perf_counter()
        random.Random(epoch).shuffle(order)
        for b in range(0, len(order), 64):
            optimiser.zero_grad()
            (loss(order[b : b + 64]) + PENALTY * (A**2).sum()).backward()
            optimiser.step()
        with torch.no_grad():
            stop_loss = float(loss(stop))
        print(f"epoch {epoch}: stopping-set loss {stop_loss:.4f} ({time.perf_counter() - started:.0f} s)", file=sys.stderr)
        if stop_loss < best_loss:
            best, best_epoch, best_loss = A.detach().numpy().copy(), epoch, stop_loss
    return best, best_epoch


def prepare(work: Path):
    """The FIT index (built in ``work`` if missing), the 4,000 FIT questions, their candidates, gold
    labels and token states, and which of the first 2,500 train and stop the adapter (those with
    a right and a wrong candidate)."""
    articles, questions, _ = fit_split()
    random.Random(0).shuffle(questions)
    questions = questions[:4000]
    bot = build(articles, work, "squad-fit")
    bot.config = AnswerConfig(min_confidence=0.0)
    if bot.data.tokens is None or bot.data.tokens.projection is None:
        sys.exit("the FIT index holds no projected token states: build it with the default model")
    cands = candidates(bot, [q.q for q in questions])
    labels = gold_labels(bot.data, cands, questions)
    states = bot.reader.read([q.q for q in questions], tokens=True).states
    usable = [i for i in range(2500) if labels[i].any() and not labels[i].all()]
    return bot, questions, cands, labels, states, [i for i in usable if i < 2200], [i for i in usable if i >= 2200]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    parser.add_argument("--write", action="store_true", help="write qa_bot/fitted/token_adapter.npy")
    parser.add_argument("--joint", action="store_true",
                        help="train the adapter together with a linear score of the other features (see train)")
    parser.add_argument("--epochs", type=int, default=EPOCHS, help=f"at most this many epochs (default {EPOCHS})")
    args = parser.parse_args()
    torch.set_num_threads(2)
    bot, _, cands, labels, states, fit, stop = prepare(args.work)
    adapter, epoch = train(bot.data.tokens, states, cands, labels, fit, stop, joint=args.joint, epochs=args.epochs)
    store = dataclasses.replace(bot.data.tokens, adapter=adapter)

    plain = [np.delete(c.features, ADAPTED, axis=1) for c in cands]
    plain_cols = [RANK_FEATURES.index("maxsim"), RANK_FEATURES.index("maxsim_gap")]
    with_adapter, replaced, alone_plain, alone_adapted = [], [], [], []
    for i, (c, st) in enumerate(zip(cands, states)):
        m, a = store.maxsim(st, c.sentences)
        both, instead = c.features.copy(), plain[i].copy()
        if len(a):
            both[:, ADAPTED] = np.c_[a, a - a.max()]
            instead[:, plain_cols] = np.c_[a, a - a.max()]
        with_adapter.append(both)
        replaced.append(instead)
        if i >= 2500 and len(labels[i]):
            alone_plain.append(labels[i][np.argmax(m)])
            alone_adapted.append(labels[i][np.argmax(a)])
    print(f"adapter: {len(fit) + len(stop)} questions ({len(fit)} to train, the rest to stop), "
          f"best epoch {epoch} of {args.epochs}\n")
    print("| ranking features | FIT held-out accuracy@1 (1,500 q) |")
    print("|---|---|")
    print(f"| MaxSim alone, plain | {np.mean(alone_plain):.3f} |")
    print(f"| MaxSim alone, adapted | {np.mean(alone_adapted):.3f} |")
    print(f"| shipped features without the adapted MaxSim | {pairwise_held_out(plain, labels):.3f} |")
    print(f"| the adapted MaxSim in place of the plain one | {pairwise_held_out(replaced, labels):.3f} |")
    print(f"| both (default) | {pairwise_held_out(with_adapter, labels):.3f} |")
    if args.write:
        np.save(ADAPTER_FILE, adapter.astype(np.float32))
        print(f"wrote {ADAPTER_FILE}", file=sys.stderr)


if __name__ == "__main__":
    main()
