"""The question side of the encoder tuned with the query adapter (BitFit): measured, not shipped.

    python benchmarks/bitfit_study.py [--work /tmp/qa-fit2] [--rates 1e-4 1e-3]

The query adapter (fit_token_adapter.py) is a linear map of the question's token states. Could the
encoder itself read questions better? BitFit (Ben Zaken et al., 2022) trains only the model's
biases (26,112 numbers for all-MiniLM-L6-v2), which would ship as a small file and leave the
index untouched: the question tokens would come from a tuned copy of the model, the sentences'
from the index. Here the biases train in the adapter's own joint softmax (fit_token_adapter.train
with --joint: same questions, stopping set, epochs and adapter rate), at each bias learning rate
given, and the ranker is refitted with the adapted MaxSim of the tuned question states, as
fit_token_adapter.py measures the adapter alone (its "both" row is this script's rate-0 row).
Nothing here reads the reported sets.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import numpy as np
import torch

from tools.fit.answerer import pairwise_held_out
from tools.fit.token_adapter import ADAPTED, EPOCHS, prepare, train

from qa_bot.encoders.base import DEFAULT_MODEL, resolve_model


class QuestionBiases:
    """A copy of the default model whose biases train; it reads the questions ``texts``."""

    def __init__(self, texts: list[str], projection, rate: float) -> None:
        from sentence_transformers import SentenceTransformer

        self.model = SentenceTransformer(resolve_model(DEFAULT_MODEL), device="cpu").eval()
        self.texts, self.rate = texts, rate
        self.mean, self.basis = torch.tensor(projection.mean), torch.tensor(projection.basis)
        self.parameters = []
        for name, p in self.model.named_parameters():
            p.requires_grad = name.endswith("bias")
            if p.requires_grad:
                self.parameters.append(p)
        self._best = None

    def raw(self, rows: list[int]) -> list[torch.Tensor]:
        """The questions' own token states (special tokens left out), unit rows, as the bot reads them."""
        tok = self.model.tokenizer
        encoded = tok([self.texts[i] for i in rows], padding=True, truncation=True, return_tensors="pt",
                      max_length=self.model.max_seq_length, return_special_tokens_mask=True)
        hidden = self.model.forward({k: encoded[k] for k in ("input_ids", "attention_mask", "token_type_ids")
                                     if k in encoded})["token_embeddings"]
        keep = encoded["attention_mask"].bool() & ~encoded["special_tokens_mask"].bool()
        return [h[k] / h[k].norm(dim=1, keepdim=True) for h, k in zip(hidden, keep)]

    def states(self, rows: list[int]) -> list[torch.Tensor]:
        """``raw`` in the stored projection's space (as TokenStore.projection does)."""
        out = []
        for s in self.raw(rows):
            q = (s - self.mean) @ self.basis
            out.append(q / q.norm(dim=1, keepdim=True))
        return out

    def keep(self) -> None:
        self._best = [p.detach().clone() for p in self.parameters]

    def restore(self) -> None:
        with torch.no_grad():
            for p, best in zip(self.parameters, self._best):
                p.copy_(best)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    parser.add_argument("--rates", type=float, nargs="+", default=[1e-4, 1e-3], help="bias learning rates")
    parser.add_argument("--epochs", type=int, default=EPOCHS)
    args = parser.parse_args()
    torch.set_num_threads(2)
    bot, questions, cands, labels, states, fit, stop = prepare(args.work)
    store = bot.data.tokens
    texts = [q.q for q in questions]

    print("| question side trained | bias learning rate | best epoch | FIT held-out accuracy@1 (1,500 q) |")
    print("|---|---|---|---|")
    for rate in [0.0, *args.rates]:
        tuned = QuestionBiases(texts, store.projection, rate) if rate else None
        adapter, epoch = train(store, states, cands, labels, fit, stop, joint=True, epochs=args.epochs, tuned=tuned)
        adapted = dataclasses.replace(store, adapter=adapter)
        read = states
        if tuned is not None:
            tuned.restore()
            with torch.no_grad():
                raw = [s.numpy() for b in range(0, len(texts), 128)
                       for s in tuned.raw(list(range(b, min(b + 128, len(texts)))))]
            read = [(r, ids) for r, (_, ids) in zip(raw, states)]
        features = []
        for c, st in zip(cands, read):
            f = c.features.copy()
            a = adapted.maxsim(st, c.sentences)[1]
            if len(a):
                f[:, ADAPTED] = np.c_[a, a - a.max()]
            features.append(f)
        what = f"adapter and biases ({sum(p.numel() for p in tuned.parameters)})" if tuned else "adapter (shipped)"
        accuracy = pairwise_held_out(features, labels)
        print(f"| {what} | {rate:g} | {epoch} of {args.epochs} | {accuracy:.3f} |", flush=True)


if __name__ == "__main__":
    main()
