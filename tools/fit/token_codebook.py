"""Fit the product quantiser token states are stored under (qa_bot/fitted/token_codebook.npy).

    python -m tools.fit.token_codebook [--codes 16] [--write]

Token states of the default model, read in their paragraphs, from the FIT paragraphs of SQuAD dev
only (as tools/fit/token_basis.py), projected with the shipped basis and made unit length: 100,000
of them sampled, and FAISS's product quantiser trained on them (``--codes`` sub-vectors of
128 / codes dimensions, 256 centroids each; one byte per sub-vector). The file holds the centroids,
float32 (codes, 256, 128 / codes). An index records which codebook its token codes use; a build
with another one re-embeds everything. Why 16 codes: docs/decisions/compact-index.md.
"""

from __future__ import annotations

import argparse

import faiss
import numpy as np

from qa_bot.encoders.factory import make_encoder
from qa_bot.encoders.models import DEFAULT_MODEL
from qa_bot.store.token_states import CODEBOOK_FILE, Codebook, projection_for
from tools.fit.answerer import ROOT, fit_split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--codes", type=int, default=16)
    parser.add_argument("--sample", type=int, default=100_000)
    parser.add_argument("--write", action="store_true", help=f"write {CODEBOOK_FILE.relative_to(ROOT)}")
    args = parser.parse_args()
    articles, _, fit_ids = fit_split()
    texts = [a.text for a in articles if a.id in fit_ids]
    encoder = make_encoder(DEFAULT_MODEL, backend="onnx")
    projection = projection_for(DEFAULT_MODEL, encoder.dimension)
    _, tokens = encoder.encode_tokens(texts, batch_size=8)
    states = projection(np.vstack([s for s, _ in tokens]))
    rng = np.random.default_rng(0)
    order = rng.permutation(len(states))
    sample, held = states[order[: args.sample]], states[order[args.sample :][:4000]]
    pq = faiss.ProductQuantizer(states.shape[1], args.codes, 8)
    pq.train(np.ascontiguousarray(sample, dtype=np.float32))
    centroids = faiss.vector_to_array(pq.centroids).reshape(args.codes, pq.ksub, pq.dsub).astype(np.float32)
    codebook = Codebook(centroids)
    print(f"{len(texts)} FIT paragraphs, {len(states)} tokens, {len(sample)} sampled; "
          f"{args.codes} codes of {pq.dsub} dimensions")
    # How well cosines between held-out tokens survive the codes (against the projected states).
    a, b = held[:2000], held[2000:4000]
    exact = np.sum(a * b, axis=1)
    approx = np.sum(codebook.decode(codebook.encode(a)) * codebook.decode(codebook.encode(b)), axis=1)
    same = np.array_equal(codebook.encode(a), pq.compute_codes(np.ascontiguousarray(a)))
    print(f"token pair cosines, coded against projected: correlation {np.corrcoef(exact, approx)[0, 1]:.3f}; "
          f"codes as FAISS gives them: {same}")
    if args.write:
        np.save(CODEBOOK_FILE, centroids, allow_pickle=False)
        print(f"wrote {CODEBOOK_FILE} (codebook {codebook.key})")


if __name__ == "__main__":
    main()
