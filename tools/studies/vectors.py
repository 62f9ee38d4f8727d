"""How sentence and passage vectors are made, and what it does to answers (docs/decisions/sentence-vectors.md).

    python -m tools.studies.vectors [--work /tmp/qa-vectors]

On the FIT paragraphs of tools/fit/answerer.py (never the reported sets), with an index whose sentences
were embedded on their own (SEPARATE), it swaps in other vectors and refits the ranker on 2,500
FIT questions, measuring accuracy@1 on 1,500 others (abstention off), as tools/studies/ranker.py does:

- sentences: embedded alone (SEPARATE) | pooled from the passages' token states (LATE, late
  chunking: the builder's default, one forward pass per passage) | the mean of the two;
- passages: embedded (the default) | the mean of their sentence vectors (plain, by length,
  by square root of length), which would spare the passage forward pass instead.

Also prints dense passage recall@5 (the gold paragraph among the 5 nearest passages).
"""

from __future__ import annotations

import argparse
import random
from pathlib import Path

import numpy as np

from qa_bot.answer.config import AnswerConfig
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.encoders.factory import make_encoder
from qa_bot.encoders.pooling import normalise_rows
from qa_bot.indexing.build import build_index
from qa_bot.indexing.chunking import ChunkParams
from qa_bot.indexing.rows import chunk, passage_texts
from qa_bot.store.vectors import make_vector_store
from tools.fit.answerer import candidates, fit_split, gold_labels, pairwise_held_out


class Separate:
    """The encoder without span pooling, so the builder embeds every sentence on its own."""

    def __init__(self, inner) -> None:
        self.inner, self.name = inner, inner.name

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts, **kw):
        return self.inner.encode(texts, **kw)


def passage_inputs(data) -> tuple[list[str], list[list[tuple[int, int]]]]:
    """The passage texts of an index as the builder embeds them, with their sentences' spans
    (``parts.passage_texts`` on each article, chunked again with the index's parameters)."""
    params = ChunkParams(**data.manifest["chunking"])
    texts, spans = [], []
    for article in data.articles:
        article_texts, article_spans = passage_texts(article, chunk(article, params))
        texts += article_texts
        spans += article_spans
    if len(texts) != len(data.passages):
        raise RuntimeError("chunking again does not give the index's passages")
    return texts, spans


def held_out_accuracy(bot: QABot, questions) -> float:
    cands = candidates(bot, [q.q for q in questions])
    return pairwise_held_out([c.features for c in cands], gold_labels(bot.data, cands, questions))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-vectors"))
    args = parser.parse_args()
    articles, questions, _ = fit_split()
    random.Random(0).shuffle(questions)
    questions = questions[:4000]
    encoder = make_encoder()
    corpus, index = args.work / "corpus", args.work / "index"
    if not corpus.exists():
        save_articles(corpus, articles)
    build_index(corpus, index, Separate(encoder))
    bot = QABot.load(index, encoder=encoder)
    bot.config = AnswerConfig(min_confidence=0.0)
    data = bot.data
    separate, encoded = data.sentence_vectors.copy(), data.all_passage_vectors()

    texts, spans = passage_inputs(data)
    _, pooled = encoder.encode_with_spans(texts, spans)
    late = np.zeros_like(separate)
    row = 0
    for _, first, last, _, _ in data.passages.tolist():
        late[first:last] += pooled[row : row + last - first]
        row += last - first
    late = normalise_rows(late)
    late[~late.any(axis=1)] = separate[~late.any(axis=1)]
    lengths = (data.sentences["end"] - data.sentences["start"]).astype(np.float32)

    def mean_of_sentences(weight: np.ndarray) -> np.ndarray:
        out = np.vstack([(separate[f:last] * weight[f:last, None]).sum(0) for _, f, last, _, _ in data.passages.tolist()])
        return normalise_rows(out)

    dense_q = encoder.encode([q.q for q in questions[2500:]])
    variants = [
        ("sentences embedded alone (SEPARATE)", separate, encoded),
        ("sentences pooled from passages (LATE, default)", late, encoded),
        ("mean of SEPARATE and LATE", normalise_rows(separate + late), encoded),
        ("SEPARATE; passages = mean of sentences", separate, mean_of_sentences(np.ones_like(lengths))),
        ("SEPARATE; passages = length-weighted mean", separate, mean_of_sentences(lengths)),
        ("SEPARATE; passages = sqrt-length-weighted mean", separate, mean_of_sentences(np.sqrt(lengths))),
    ]
    print("| vectors | FIT held-out accuracy@1 (1,500 q) | dense passage recall@5 | cosine to SEPARATE sentences / embedded passages (mean) |")
    print("|---|---|---|---|")
    for name, sentences, passages in variants:
        data.sentence_vectors = np.ascontiguousarray(sentences, dtype=np.float32)
        data.passage_vectors = make_vector_store("faiss", passages.shape[1])
        data.passage_vectors.build(np.arange(len(passages)), passages)
        _, ids = data.passage_vectors.search(dense_q, 5)
        recall = np.mean([any(data.article_of_passage(p).id == q.article for p in row)
                          for q, row in zip(questions[2500:], ids)])
        cos = f"{np.mean(np.sum(sentences * separate, 1)):.3f} / {np.mean(np.sum(passages * encoded, 1)):.3f}"
        print(f"| {name} | {held_out_accuracy(bot, questions):.3f} | {recall:.3f} | {cos} |", flush=True)


if __name__ == "__main__":
    main()
