"""Builds on Ray: the new and edited articles are embedded by a pool of encoder actors on a Ray
cluster (Ray Data ``map_batches`` with ``ActorPoolStrategy``), and the driver writes the index
from what they return, in article order, exactly as a local build writes what it embeds.

Each actor loads the encoder once (an encoder travels as its model name and is loaded where it
lands; any other encoder object is pickled as it is) and runs the local build's own embedding
pass (``embed.embed_group``) over a batch of articles, so a Ray build's vectors are the local
build's. Only the embedding moves: chunking, the plan, the vector store and the files stay with
the driver. Ray is an extra (``pip install 'qa-bot[ray]'``); this is the only module that imports it.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from ..encoders.base import Encoder
from .embed import Job, Progress, TokenPlan, embed_group
from .rows import ArticleRows

INSTALL = "pip install 'qa-bot[ray]'"
ARTICLES_PER_BATCH = 16  # articles an actor embeds per call


@dataclass(frozen=True)
class Embedded:
    """What one article's embedding gave: the vectors its rows take."""

    passage_vectors: np.ndarray
    sentence_vectors: np.ndarray
    tokens: object  # PackedTokens or None


def portable(encoder: Encoder):
    """A zero-argument callable that makes ``encoder`` again in another process: the bundled
    encoders by their model name (the model loads where the actor runs), any other as itself."""
    from ..encoders.factory import AutoEncoder, make_encoder
    from ..encoders.onnx_encoder import OnnxEncoder
    from ..encoders.torch_encoder import SentenceTransformerEncoder

    if isinstance(encoder, AutoEncoder | OnnxEncoder):
        return functools.partial(make_encoder, encoder.name)
    if isinstance(encoder, SentenceTransformerEncoder):
        return functools.partial(make_encoder, encoder.name, backend="torch")
    return lambda: encoder


class _Embedder:
    """A Ray actor: an encoder, loaded once, that embeds batches of articles."""

    def __init__(self, make, dim: int, mode: str, tokens: TokenPlan | None, batch_size: int) -> None:
        self.encoder = make()
        self.dim, self.mode, self.tokens, self.batch_size = dim, mode, tokens, batch_size

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        parts = list(batch["rows"])
        jobs = [Job(k, *job) for k, job in enumerate(batch["job"])]
        texts = embed_group(self.encoder, jobs, parts, self.dim, self.mode, self.tokens, None, self.batch_size)
        results = np.empty(len(parts), dtype=object)
        results[:] = [Embedded(p.passage_vectors, p.sentence_vectors, p.tokens) for p in parts]
        counts = np.zeros(len(parts), dtype=np.int64)
        counts[0] = texts  # the batch's texts, counted once
        return {"position": batch["position"], "result": results, "texts": counts}


def embed_on_ray(
    address: str | None, encoder: Encoder, work: list[tuple[int, Job, ArticleRows]], dim: int, mode: str,
    tokens: TokenPlan | None, batch_size: int, progress: Progress | None, total: int, actors: int | None = None,
) -> Iterator[tuple[int, Embedded, int]]:
    """Embed ``work`` (article position, its job, its rows) on the Ray cluster at ``address``
    (None: a local one started here), yielding each article's vectors in the order given, with
    the texts that went through the model for it (a batch's count on its first article)."""
    try:
        import ray
        from ray.data import ActorPoolStrategy, DataContext
    except ImportError:
        raise ImportError(f"a build on Ray needs Ray: {INSTALL}") from None
    if not work:
        return
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # the build prints its own progress
    if not ray.is_initialized():
        ray.init(address=address, include_dashboard=False, log_to_driver=False, configure_logging=False)
    context = DataContext.get_current()
    context.execution_options.preserve_order = True  # the index is written in article order
    context.enable_progress_bars = False
    size = actors or max(1, int(ray.cluster_resources().get("CPU", 1)))
    # Ray Data carries the jobs and rows as Python objects (it serialises them itself).
    rows = [{"position": position, "job": (job.passages, job.spans, job.sentences, job.units), "rows": part}
            for position, job, part in work]
    dataset = ray.data.from_items(rows).map_batches(
        _Embedder, fn_constructor_args=(portable(encoder), dim, mode, tokens, batch_size),
        compute=ActorPoolStrategy(size=min(size, len(work))), batch_size=ARTICLES_PER_BATCH,
        batch_format="numpy", num_cpus=1,
    )
    done = 0
    for row in dataset.iter_rows():
        texts = int(row["texts"])
        done += texts
        if progress is not None and texts:
            progress(done, max(total, done))
        yield int(row["position"]), row["result"], texts


def take_embedded(remote: Iterator[tuple[int, Embedded, int]], positions: list[int], rows: list) -> int:
    """Give the articles at ``positions`` the vectors ``embed_on_ray`` returns for them (in article
    order); return how many texts went through the model for them."""
    texts = 0
    for i in positions:
        position, embedded, count = next(remote)
        texts += count
        if position != i:
            raise RuntimeError(f"the Ray actors returned article {position} where {i} was due")
        part = rows[i]
        part.passage_vectors, part.sentence_vectors = embedded.passage_vectors, embedded.sentence_vectors
        part.tokens = embedded.tokens
    return texts
