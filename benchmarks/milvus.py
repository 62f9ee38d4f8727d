"""Milvus Lite against FAISS on the same corpora, in one run: build time, query latency, accuracy.

    python -m benchmarks.milvus [--work /tmp/qa-milvus] [--sizes 20000 200000] [--questions 200]

- build: the same corpus built twice with the vectors already cached (corpora.CachingEncoder),
  once into the local FAISS files and once into Milvus Lite, so the difference is the store's
  write (and, for Milvus, its BM25 function over every passage).
- query: warm ``bot.ask`` on SQuAD dev questions (the report half) over each index, p50 and p95,
  and the number of Milvus round trips a question costs; "served" is the Milvus Lite index
  answered from Milvus alone (``QABot.load("milvus-lite://…")``, no index directory), with the
  article packets it fetches a question (store/served.py).
- incremental build: 1% of the articles edited, each index built again (FAISS: a new generation;
  Milvus Lite: the collection updated in place, only the edited articles' rows written).
- accuracy: XQuAD English and the dev questions on the seed article, each corpus embedded once
  with the real model and its index then moved to Milvus Lite (nothing embedded again), through
  ``evaluation.run_eval`` as ``qa-bot eval`` does.

Needs ../shared/data and the [milvus] extra. The scaled corpora repeat real SQuAD paragraphs
(corpora.py). Prints Markdown tables.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

from benchmarks import corpora, perf
from qa_bot.answer.config import AnswerConfig
from qa_bot.bot import QABot
from qa_bot.corpus.files import load_corpus, save_articles
from qa_bot.encoders.factory import make_encoder
from qa_bot.evaluation.baselines import FullSystem
from qa_bot.evaluation.datasets import questions_to_score
from qa_bot.evaluation.run import run_eval
from qa_bot.indexing.build import build_index
from qa_bot.store.vectors import milvus

SHARED = corpora.SHARED


class RoundTrips:
    """Counts the calls this process makes to Milvus (each one request and its answer)."""

    def __init__(self, location: str) -> None:
        self.count = 0
        client = milvus.client(milvus.MilvusLocation.parse(location).uri)
        for name in ("search", "hybrid_search", "query", "get"):
            inner = getattr(client, name)

            def counted(*a, _inner=inner, **k):
                self.count += 1
                return _inner(*a, **k)

            setattr(client, name, counted)


def bench_size(work: Path, size: int, n: int) -> list:
    encoder = corpora.CachingEncoder(make_encoder(), work / "scale" / "vectors")
    perf.scaled_index(work, size)  # the corpus, and every vector cached
    corpus = work / "scale" / f"n{size}" / "corpus"
    rows = []
    questions = perf.questions(n + 20)
    for leftover in work.glob(f"milvus-{size}.db*"):  # a run's collections start from an empty file
        shutil.rmtree(leftover) if leftover.is_dir() else leftover.unlink()
    for store in ("faiss", "milvus-lite", "milvus-lite, served"):
        location = f"milvus-lite://{work / f'milvus-{size}.db'}" if store != "faiss" else None
        if store == "milvus-lite, served":  # the index just built, answered from Milvus alone
            bot = QABot.load(location)
            built = "(the same build)"
        else:
            index = work / f"{store}-{size}"
            shutil.rmtree(index, ignore_errors=True)
            started = time.perf_counter()
            report = build_index(corpus, index, encoder, store=location)
            built = f"{time.perf_counter() - started:.1f}"
            bot = QABot.load(index)
        bot.warm_up()
        for q in questions[:20]:
            bot.ask(q)
        trips = RoundTrips(location) if store != "faiss" else None
        fetched = bot.served.fetched if bot.served is not None else 0
        times = []
        for q in questions[20:]:
            t = time.perf_counter()
            bot.ask(q)
            times.append(time.perf_counter() - t)
        per_question = f"{trips.count / len(times):.1f}" if trips else "0 (in process)"
        moved = f"{(bot.served.fetched - fetched) / len(times) / 1e3:,.0f}" if bot.served is not None else "-"
        rows.append([store, f"{report.passages:,}", built, f"{1000 * statistics.median(times):.1f}",
                     f"{1000 * float(np.percentile(times, 95)):.1f}", per_question, moved])
    return rows


def bench_incremental(work: Path, size: int, share: float = 0.01) -> list:
    """Each index of ``bench_size`` built again after editing ``share`` of the articles (a
    paragraph appended): FAISS writes a new generation, Milvus Lite updates its collection in
    place. The articles are put back afterwards."""
    encoder = corpora.CachingEncoder(make_encoder(), work / "scale" / "vectors")
    corpus = work / "scale" / f"n{size}" / "corpus"
    articles = load_corpus(corpus).articles
    chosen = articles[:: max(1, round(1 / share))]
    save_articles(corpus, [replace(a, text=a.text + "\n\nThis paragraph was added by an update.") for a in chosen],
                  overwrite=True)
    rows = []
    try:
        for store in ("faiss", "milvus-lite"):
            started = time.perf_counter()
            report = build_index(corpus, work / f"{store}-{size}", encoder)
            rows.append([store, f"{len(report.changed):,} of {report.articles:,}", f"{time.perf_counter() - started:.1f}",
                         f"{report.embedded_texts:,}"])
    finally:
        save_articles(corpus, chosen, overwrite=True)
    return rows


def bench_accuracy(work: Path) -> list:
    rows = []
    sets = [("XQuAD English", SHARED / "xquad.en.json"), ("dev questions", SHARED / "dev_questions.jsonl")]
    config = AnswerConfig(max_quotes=5, extra_quote_margin=float("inf"))
    for name, path in sets:
        eval_set, _ = questions_to_score(path)
        base = work / "accuracy" / path.stem
        if eval_set.articles:
            corpus = base / "corpus"
            if not corpus.exists():
                save_articles(corpus, eval_set.articles)
        else:
            corpus = corpora.ROOT / "corpus"
        faiss_index, milvus_index = base / "faiss", base / "milvus"
        shutil.rmtree(work / f"accuracy-{path.stem}.db", ignore_errors=True)
        build_index(corpus, faiss_index, make_encoder())
        shutil.rmtree(milvus_index, ignore_errors=True)
        shutil.copytree(faiss_index, milvus_index)
        moved = build_index(corpus, milvus_index, make_encoder(), store=f"milvus-lite://{work / f'accuracy-{path.stem}.db'}")
        assert moved.embedded_texts == 0, "moving an index to Milvus embeds nothing"
        spec = f"milvus-lite://{work / f'accuracy-{path.stem}.db'}"
        for store, index in (("faiss", faiss_index), ("milvus-lite", milvus_index), ("milvus-lite, served", spec)):
            bot = QABot.load(index, config=config)
            result = run_eval(FullSystem(bot), replace(eval_set), k=5)
            rows.append([name, store, f"{result.accuracy[1]:.3f}", f"{result.accuracy[5]:.3f}",
                         f"{result.latency_ms_p50:.1f}", f"{result.latency_ms_p95:.1f}"])
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-milvus"))
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--questions", type=int, default=200)
    parser.add_argument("--skip-accuracy", action="store_true")
    args = parser.parse_args()
    corpora.require_shared()
    print(perf.header().replace("benchmarks.perf", "benchmarks.milvus"), flush=True)
    rows = []
    for size in args.sizes:
        rows += bench_size(args.work, size, args.questions)
        print(perf.table(["store", "passages", "build s (vectors cached)", "ask p50 ms", "ask p95 ms",
                          "Milvus round trips / question", "KB fetched / question"], rows), flush=True)  # again after each size
        print()
        print(perf.table(["store (incremental build)", "articles edited", "build s", "texts embedded"],
                         bench_incremental(args.work, size)), flush=True)
    if not args.skip_accuracy:
        print()
        print(perf.table(["questions", "store", "acc@1", "acc@5", "p50 ms", "p95 ms"], bench_accuracy(args.work)),
              flush=True)


if __name__ == "__main__":
    main()
