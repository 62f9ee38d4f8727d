"""A smaller index: what storing token states, sentence vectors and passage vectors in fewer bytes costs.

    python -m tools.studies.compact_index [--questions 204] [--fit-questions 1500] [--work /tmp/qa-compact]

Issue 20 asks for at most 120 KB per news article on disk; a shipped index held 470 KB, most of it
token states (128 int8 dimensions and a scale per token, for MaxSim), then sentence vectors
(float16) and passage vectors (float32 in FAISS). Each variant here is simulated on two indexes
built once, by storing its parts as the variant would and reading them back, then answering with
the shipped weights (no refit):

- FIT: the SQuAD dev paragraphs tools/fit/answerer.py fits on, ``--fit-questions`` of their
  questions (seeded shuffle);
- NEWS: the RealTime QA 2023 ``q1`` quarter (fitting data; ``q2`` reports), its first
  ``--questions`` questions over the articles they cite.

Token variants: product quantisation of the 128 projected dimensions (M sub-vectors of 128/M
dimensions, 256 centroids each, trained on FIT token states; M bytes a token), and dropping the
tokens of the most frequent vocabulary ids of the FIT sentences (function words and punctuation)
from the sentences and from the question. Vector variants: int8 with one scale per row (sentence
vectors), FAISS's 8-bit scalar quantiser (passage vectors). Printed: accuracy@1 (answer-all,
first quote holding a gold answer, as ``qa-bot eval`` scores it) on both, accuracy@3 on NEWS, and
the stored size per NEWS article of the three parts. Nothing here reads the reported sets.
"""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass, replace
from pathlib import Path

import faiss
import numpy as np

from qa_bot.answer.config import AnswerConfig
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.evaluation.baselines import System, make_system
from qa_bot.evaluation.datasets import EvalSet, load_realtimeqa
from qa_bot.evaluation.run import run_eval
from qa_bot.store.quantised import quantise
from qa_bot.store.token_states import TokenStore
from qa_bot.store.vectors.faiss import FaissVectorStore
from tools.fit.answerer import SHARED, fit_split
from tools.fit.answerer import build as build_fit

QUARTER = SHARED / "realtimeqa_2023" / "q1_questions.jsonl"


@dataclass
class FilteredTokens(TokenStore):
    """A token store whose question tokens of ``skip`` ids are left out (as are the sentences')."""

    skip: np.ndarray | None = None

    def maxsim(self, question, sentences):
        states, ids = question
        if self.skip is not None:
            keep = ~np.isin(ids, self.skip)
            if keep.any():
                states, ids = states[keep], ids[keep]
        return super().maxsim((states, ids), sentences)


def pq_codec(sample: np.ndarray, m: int, opq: bool) -> faiss.Index:
    """Product quantisation (``PQm``), after a learned rotation if ``opq`` (``OPQm,PQm``)."""
    codec = faiss.index_factory(sample.shape[1], (f"OPQ{m},PQ{m}" if opq else f"PQ{m}"), faiss.METRIC_INNER_PRODUCT)
    codec.train(np.ascontiguousarray(sample, dtype=np.float32))
    return codec


def scalar_round_trip(vectors: np.ndarray, kind: str) -> np.ndarray:
    """``vectors`` through a FAISS scalar quantiser (``sq8``, ``sq4``) or int8 with a scale per row."""
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    if kind == "int8":
        return int8_rows(vectors)
    sq = faiss.IndexScalarQuantizer(vectors.shape[1], {"sq8": faiss.ScalarQuantizer.QT_8bit,
                                                       "sq4": faiss.ScalarQuantizer.QT_4bit}[kind],
                                    faiss.METRIC_INNER_PRODUCT)
    sq.train(vectors)
    return sq.sa_decode(sq.sa_encode(vectors))


def token_variant(store: TokenStore, *, pq: faiss.Index | None = None,
                  skip: np.ndarray | None = None) -> TokenStore:
    """``store`` as it would be read back from the variant's storage."""
    vectors = store.vectors[:].astype(np.float32) * store.scales[:, None]
    ids, counts = np.asarray(store.ids), store.bounds[:, 1] - store.bounds[:, 0]
    if skip is not None:
        keep = ~np.isin(ids, skip)
        sentence = np.repeat(np.arange(len(counts)), counts)
        counts = np.bincount(sentence[keep], minlength=len(counts))
        vectors, ids = vectors[keep], ids[keep]
    if pq is not None:
        vectors = pq.sa_decode(pq.sa_encode(np.ascontiguousarray(vectors)))
        vectors /= np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-9)
    return FilteredTokens(vectors.astype(np.float32), np.ones(len(vectors), np.float32), ids,
                          TokenStore.bounds_of(counts), TokenStore.document_frequency(ids, counts),
                          store.projection, store.adapter, skip=skip)


def int8_rows(m: np.ndarray) -> np.ndarray:
    q, scales = quantise(np.asarray(m, dtype=np.float32))
    return q.astype(np.float32) * scales[:, None]


def quantised_store(store: FaissVectorStore, kind: str) -> FaissVectorStore:
    out = FaissVectorStore(store.dimension)
    out.build(store.ids(), scalar_round_trip(store.vectors(store.ids()), kind))
    return out


def frequent_ids(store: TokenStore, top: int) -> np.ndarray:
    return np.argsort(-store.df)[:top].astype(np.int64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=204)
    parser.add_argument("--fit-questions", type=int, default=1500)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-compact"))
    args = parser.parse_args()
    config = AnswerConfig(max_quotes=3, extra_quote_margin=float("inf"))

    articles, fit_questions, _ = fit_split()
    random.Random(0).shuffle(fit_questions)
    fit_set = EvalSet("fit", fit_questions[: args.fit_questions], [])
    fit = build_fit(articles, args.work, "squad-fit").with_config(config)

    quarter = load_realtimeqa(QUARTER)
    questions = quarter.questions[: args.questions]
    wanted = {d for q in questions for d in (q.article, *q.also) if d}
    news_articles = [a for a in quarter.articles if a.id in wanted]
    news_set = EvalSet(quarter.name, questions, news_articles, whole_words=True)
    corpus, index = args.work / "news" / "corpus", args.work / "news" / "index"
    if not corpus.exists():
        save_articles(corpus, news_articles)
    if not index.exists():
        QABot.build(corpus, index)
    news = QABot.load(index, config=config)

    base_fit, base_news = fit.data, news.data
    rng = np.random.default_rng(0)
    sample = base_fit.tokens.vectors[:].astype(np.float32) * base_fit.tokens.scales[:, None]
    sample = sample[rng.choice(len(sample), min(100_000, len(sample)), replace=False)]
    codecs = {(m, opq): pq_codec(sample, m, opq) for m in (16, 32) for opq in (False, True)}
    n_art = len(base_news.articles)
    n_tok = len(base_news.tokens.ids)
    n_sent, n_pass = len(base_news.sentences), len(base_news.passages)
    dim = base_news.dimension
    print(f"NEWS: {len(questions)} q1 questions over {n_art} articles: {n_sent / n_art:.0f} sentences, "
          f"{n_pass / n_art:.0f} passages, {n_tok / n_art:.0f} tokens per article; "
          f"FIT: {len(fit_set.questions)} questions over {len(base_fit.articles)} paragraphs")

    def kb(token_bytes: float, kept_share: float, sentence_bytes: float, passage_bytes: float) -> str:
        per = n_tok * kept_share * token_bytes + n_sent * sentence_bytes + n_pass * passage_bytes
        return f"{per / n_art / 1000:.0f}"

    shipped = (132 + 4, 2 * dim, 4 * dim)
    variants: list[tuple[str, dict, tuple[float, float, float]]] = [
        ("shipped: tokens 128 int8 + scale, sentences float16, passages float32", {}, shipped),
        ("tokens without the 100 most frequent ids", {"skip": 100}, shipped),
        ("tokens PQ 32 bytes", {"pq": 32}, (32 + 4, 2 * dim, 4 * dim)),
        ("tokens PQ 16 bytes", {"pq": 16}, (16 + 4, 2 * dim, 4 * dim)),
        ("tokens OPQ 32 bytes", {"pq": 32, "opq": True}, (32 + 4, 2 * dim, 4 * dim)),
        ("tokens OPQ 16 bytes", {"pq": 16, "opq": True}, (16 + 4, 2 * dim, 4 * dim)),
        ("sentence vectors int8 + scale", {"sentences": "int8"}, (136, dim + 4, 4 * dim)),
        ("sentence vectors 4-bit (FAISS SQ4)", {"sentences": "sq4"}, (136, dim / 2, 4 * dim)),
        ("passage vectors 8-bit (FAISS SQ8)", {"passages": "sq8"}, (136, 2 * dim, dim)),
        ("passage vectors 4-bit (FAISS SQ4)", {"passages": "sq4"}, (136, 2 * dim, dim / 2)),
        ("OPQ 16 + sentences int8 + passages SQ8",
         {"pq": 16, "opq": True, "sentences": "int8", "passages": "sq8"}, (16 + 4, dim + 4, dim)),
        ("OPQ 16 + sentences SQ4 + passages SQ4",
         {"pq": 16, "opq": True, "sentences": "sq4", "passages": "sq4"}, (16 + 4, dim / 2, dim / 2)),
    ]
    print("\n| storage | FIT acc@1 | NEWS acc@1 | NEWS acc@3 | tokens kept | KB per NEWS article (tokens, vectors) |")
    print("|---|---|---|---|---|---|")
    for name, v, sizes in variants:
        row = []
        kept = 1.0
        for bot, data, eval_set in ((fit, base_fit, fit_set), (news, base_news, news_set)):
            skip = frequent_ids(base_fit.tokens, v["skip"]) if "skip" in v else None
            tokens = token_variant(data.tokens, pq=codecs.get((v.get("pq"), v.get("opq", False))), skip=skip) if v else data.tokens
            if data is base_news:
                kept = len(tokens.ids) / n_tok
            variant = bot.with_data(replace(
                data, tokens=tokens,
                sentence_vectors=(scalar_round_trip(data.sentence_vectors[:], v["sentences"]) if "sentences" in v
                                  else data.sentence_vectors),
                passage_vectors=(quantised_store(data.passage_vectors, v["passages"]) if "passages" in v
                                 else data.passage_vectors),
            ))
            result = run_eval(make_system(variant, System.ANSWER_ALL), eval_set, k=3)
            row.append(result)
        print(f"| {name} | {row[0].accuracy[1]:.3f} | {row[1].accuracy[1]:.3f} | {row[1].accuracy[3]:.3f} "
              f"| {kept:.2f} | {kb(*sizes[:1], kept, *sizes[1:])} |", flush=True)


if __name__ == "__main__":
    main()
