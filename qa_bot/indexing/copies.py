"""Copies: articles that tell one story in near-identical words (wire copy carried by several
outlets, the same story in several editions, an updated version), grouped at build time.

Each article body (not its headline: outlets retitle wire copy) is reduced to a MinHash
signature of its word 5-shingles (datasketch); MinHash LSH finds the pairs whose estimated
Jaccard similarity reaches ``THRESHOLD``, and the groups are the connected pieces of those pairs.
A group is a candidate set, not a verdict: the answerer only says a quote is "also in" another
member when that member holds the quote's exact text (``answer.copies``), so two pages that share
boilerplate but tell different stories never share a quote they do not both hold.

The signatures are kept in the index so an incremental build signs only the new and edited
articles; ``RECIPE`` is recorded in the manifest and a different recipe signs everything again.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np
from datasketch import MinHash, MinHashLSH

SHINGLE = 5  # words per shingle
NUM_PERM = 128  # hash functions per signature (512 bytes an article)
THRESHOLD = 0.5  # estimated Jaccard similarity of two bodies' shingles that makes them copies
SCHEME = "affine32"  # datasketch's hashing scheme: signatures of different schemes do not compare
RECIPE = {"shingle": SHINGLE, "num_perm": NUM_PERM, "threshold": THRESHOLD, "scheme": SCHEME}

_WORD = re.compile(r"\w+")


def shingles(text: str) -> set[bytes]:
    """The body's lower-cased word 5-shingles (the whole body as one shingle when shorter)."""
    words = _WORD.findall(text.lower())
    return {" ".join(words[i : i + SHINGLE]).encode() for i in range(max(1, len(words) - SHINGLE + 1))}


def signatures(texts: Sequence[str]) -> np.ndarray:
    """(len(texts), NUM_PERM) uint32: each body's MinHash signature."""
    if not texts:
        return np.zeros((0, NUM_PERM), np.uint32)
    hashes = MinHash.bulk([shingles(t) for t in texts], num_perm=NUM_PERM, scheme=SCHEME)
    return np.stack([h.hashvalues for h in hashes]).astype(np.uint32)


def groups(sigs: np.ndarray) -> np.ndarray:
    """Each article's group: the position of the group's first article (its own position when it
    has no copy). Pairs come from LSH and are kept only when their estimated similarity reaches
    ``THRESHOLD`` (LSH lets some lower pairs through)."""
    n = len(sigs)
    parent = np.arange(n)

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = int(parent[i])
        return i

    lsh = MinHashLSH(threshold=THRESHOLD, num_perm=NUM_PERM)
    hashes = [MinHash(hashvalues=s, scheme=SCHEME) for s in sigs]
    for i, h in enumerate(hashes):
        lsh.insert(i, h)
    for i, h in enumerate(hashes):
        for j in lsh.query(h):
            if j > i and float(np.mean(sigs[i] == sigs[j])) >= THRESHOLD:
                a, b = root(i), root(j)
                if a != b:
                    parent[max(a, b)] = min(a, b)
    return np.array([root(i) for i in range(n)], dtype=np.int64)
