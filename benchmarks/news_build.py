"""Build benchmark on real news articles: wall time, characters per second, peak memory and disk.

    python -m benchmarks.news_build [--articles 300] [--source q1|q2|year] [--work /tmp/qa-news-build]
                                    [--keep] [--open] [--add 100 --add-source q2]

Takes the first ``--articles`` articles of a RealTime QA 2023 articles file
(``../shared/data/realtimeqa_2023/<source>_articles.jsonl.gz``: CNN, USA Today, The Week; long
articles of many short paragraphs), writes them as a corpus and runs ``qa-bot build`` on it in a
fresh process, from an empty index. Prints one Markdown row: articles, characters, passages,
sentences, wall seconds, characters per second, the build process's peak resident memory
(getrusage of the child: what the operating system saw, model and Python included) and the index
on disk (per article). Run it on a quiet machine: the time is one run.

``--keep`` measures an index already built there instead of building it again. ``--open`` then
times a fresh ``qa-bot ask`` process on the index (start-up, opening the index, loading the
model and answering one question) and ``load_index`` alone. ``--add N`` copies N articles of
``--add-source`` (the first N not in the corpus) into the corpus, times the incremental build that
embeds them, then removes them and times that build too, leaving the corpus as it was.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from qa_bot.corpus.files import save_articles
from qa_bot.evaluation.datasets import read_realtimeqa_articles

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "realtimeqa_2023"


ENV = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--source", default="q1", choices=("q1", "q2", "year"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-news-build"))
    parser.add_argument("--keep", action="store_true", help="measure the index already built there")
    parser.add_argument("--open", action="store_true", help="time opening the index and a first answer")
    parser.add_argument("--add", type=int, default=0, help="time adding (then removing) this many articles")
    parser.add_argument("--add-source", default="q2", choices=("q1", "q2", "year"))
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs {DATA} (../shared beside the repository)")
    articles = read_realtimeqa_articles(DATA / f"{args.source}_articles.jsonl.gz", args.articles)
    work = args.work / f"{args.source}-{len(articles)}"
    corpus, index = work / "corpus", work / "index"
    if not corpus.exists():
        save_articles(corpus, articles)
    chars = sum(len(a.text) for a in articles)
    if not (args.keep and index.exists()):
        shutil.rmtree(index, ignore_errors=True)
        seconds, output = build(corpus, index)
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        found = re.search(r"(\d+) passages, (\d+) sentences", output)
        passages, sentences = (found.group(1), found.group(2)) if found else ("?", "?")
        disk = directory_bytes(index)
        print("| articles | characters | passages | sentences | build s | chars/s | peak RSS MB | index MB "
              "| KB per article |")
        print("|---|---|---|---|---|---|---|---|---|")
        print(f"| {len(articles)} | {chars:,} | {passages} | {sentences} | {seconds:.1f} | {chars / seconds:,.0f} "
              f"| {peak_mb:,.0f} | {disk / 1e6:.1f} | {disk / 1e3 / len(articles):.0f} |", flush=True)
    print_sizes(index, len(articles))
    if args.open:
        open_index(index)
    if args.add:
        add_and_remove(corpus, index, args.add, args.add_source, {a.id for a in articles})


def print_sizes(index: Path, articles: int) -> None:
    """KB per article of each part of the live generation (token states, vectors, BM25, text)."""
    gen = index / (index / "CURRENT").read_text().strip()
    groups = {"token states": "token_", "sentence vectors": "sentence_vectors", "passage vectors": "passages.faiss",
              "BM25": "bm25/", "articles and acronyms": ("articles.json", "acronyms.json")}
    sizes = dict.fromkeys([*groups, "rows and manifest"], 0)
    for path in gen.rglob("*"):
        if path.is_file():
            rel = path.relative_to(gen).as_posix()
            kind = next((k for k, prefix in groups.items() if rel.startswith(prefix)), "rows and manifest")
            sizes[kind] += path.stat().st_size
    print("\nKB per article: " + "; ".join(f"{k} {v / 1e3 / articles:.1f}" for k, v in sizes.items())
          + f"; total {sum(sizes.values()) / 1e3 / articles:.1f}", flush=True)


def build(corpus: Path, index: Path) -> tuple[float, str]:
    """``qa-bot build`` in a fresh process: (wall seconds, what it printed)."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "build", "--corpus", str(corpus),
                           "--index", str(index)], capture_output=True, text=True, env=ENV, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(done.stderr)
    return seconds, done.stdout + done.stderr


def open_index(index: Path) -> None:
    question = "What did the Federal Reserve decide?"
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "ask", "--index", str(index), question],
                          capture_output=True, text=True, env=ENV, check=False)
    cold = time.perf_counter() - started
    if done.returncode:
        sys.exit(done.stderr)
    load = subprocess.run([sys.executable, "-c", LOAD.format(index=str(index))], capture_output=True, text=True,
                          env=ENV, check=True).stdout.strip()
    print(f"\nopen: a fresh `qa-bot ask` process (start-up, index, model, one answer) {cold:.2f} s; "
          f"load_index alone {load} s", flush=True)


LOAD = """
import time
from qa_bot.store.files import load_index
started = time.perf_counter()
load_index({index!r})
print(f"{{time.perf_counter() - started:.2f}}")
"""


def add_and_remove(corpus: Path, index: Path, n: int, source: str, held: set[str]) -> None:
    extra = [a for a in read_realtimeqa_articles(DATA / f"{source}_articles.jsonl.gz", n + len(held))
             if a.id not in held][:n]
    chars = sum(len(a.text) for a in extra)
    paths = save_articles(corpus, extra)
    try:
        added, _ = build(corpus, index)
    finally:
        for path in paths:
            path.unlink()
    removed, _ = build(corpus, index)
    print(f"\nincremental: adding {len(extra)} articles of {source} ({chars:,} characters) {added:.1f} s; "
          f"removing them again {removed:.1f} s", flush=True)


if __name__ == "__main__":
    main()
