"""Fit the projection that token states are stored under (qa_bot/fitted/token_basis.npy).

    python -m tools.fit.token_basis [--dims 128] [--write]

Token states of the default model, read in their paragraphs, from the FIT paragraphs of SQuAD dev
only (the same ones tools/fit/answerer.py fits on; see its docstring): 50,000 of them sampled, centred,
and their first ``--dims`` principal axes kept. The file holds the mean token state, then the
basis's columns (float32, (384, dims + 1)). An index records which basis its token vectors use; a build with
another one re-embeds everything.
"""

from __future__ import annotations

import argparse

import numpy as np

from qa_bot.encoders.factory import make_encoder
from qa_bot.encoders.models import DEFAULT_MODEL
from qa_bot.store.token_states import BASIS_FILE, Projection
from tools.fit.answerer import ROOT, fit_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dims", type=int, default=128)
    parser.add_argument("--sample", type=int, default=50_000)
    parser.add_argument("--write", action="store_true", help=f"write {BASIS_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    articles, _, fit_ids = fit_split()
    texts = [a.text for a in articles if a.id in fit_ids]
    encoder = make_encoder(DEFAULT_MODEL, backend="onnx")
    _, tokens = encoder.encode_tokens(texts, batch_size=8)
    states = np.vstack([s for s, _ in tokens])
    rng = np.random.default_rng(0)
    sample = states[rng.choice(len(states), min(args.sample, len(states)), replace=False)]
    mean = sample.mean(axis=0)
    _, singular, axes = np.linalg.svd(sample - mean, full_matrices=False)
    kept = float((singular[: args.dims] ** 2).sum() / (singular**2).sum())
    projection = Projection(mean.astype(np.float32), axes[: args.dims].T.astype(np.float32))
    print(f"{len(texts)} FIT paragraphs, {len(states)} tokens, {len(sample)} sampled; "
          f"{args.dims} of {states.shape[1]} dimensions keep {kept:.1%} of the variance")
    # How well cosines between tokens survive projection and int8 rounding.
    a, b = sample[:2000], sample[2000:4000]
    from qa_bot.store.quantised import quantise

    qa, sa = quantise(projection(a))
    qb, sb = quantise(projection(b))
    exact = np.sum(a * b, axis=1)
    approx = np.sum((qa * sa[:, None]) * (qb * sb[:, None]), axis=1)
    print(f"token pair cosines, stored against exact: correlation {np.corrcoef(exact, approx)[0, 1]:.3f}")
    if args.write:
        np.save(BASIS_FILE, projection.to_array(), allow_pickle=False)
        print(f"wrote {BASIS_FILE} (basis {projection.key})")


if __name__ == "__main__":
    main()
