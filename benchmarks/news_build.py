"""Build benchmark on real news articles: wall time, characters per second, peak memory and disk.

    python -m benchmarks.news_build [--articles 300] [--source q1|q2|year] [--work /tmp/qa-news-build]

Takes the first ``--articles`` articles of a RealTime QA 2023 articles file
(``../shared/data/realtimeqa_2023/<source>_articles.jsonl.gz``: CNN, USA Today, The Week; long
articles of many short paragraphs), writes them as a corpus and runs ``qa-bot build`` on it in a
fresh process, from an empty index. Prints one Markdown row: articles, characters, passages,
sentences, wall seconds, characters per second, the build process's peak resident memory
(getrusage of the child: what the operating system saw, model and Python included) and the index
on disk (per article). Run it on a quiet machine: the time is one run.
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


def directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--articles", type=int, default=300)
    parser.add_argument("--source", default="q1", choices=("q1", "q2", "year"))
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-news-build"))
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs {DATA} (../shared beside the repository)")
    articles = read_realtimeqa_articles(DATA / f"{args.source}_articles.jsonl.gz", args.articles)
    work = args.work / f"{args.source}-{len(articles)}"
    corpus, index = work / "corpus", work / "index"
    if not corpus.exists():
        save_articles(corpus, articles)
    shutil.rmtree(index, ignore_errors=True)
    chars = sum(len(a.text) for a in articles)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "build", "--corpus", str(corpus),
                           "--index", str(index)], capture_output=True, text=True, env=env, check=False)
    seconds = time.perf_counter() - started
    if done.returncode:
        sys.exit(done.stderr)
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    found = re.search(r"(\d+) passages, (\d+) sentences", done.stdout + done.stderr)
    passages, sentences = (found.group(1), found.group(2)) if found else ("?", "?")
    disk = directory_bytes(index)
    print("| articles | characters | passages | sentences | build s | chars/s | peak RSS MB | index MB | KB per article |")
    print("|---|---|---|---|---|---|---|---|---|")
    print(f"| {len(articles)} | {chars:,} | {passages} | {sentences} | {seconds:.1f} | {chars / seconds:,.0f} "
          f"| {peak_mb:,.0f} | {disk / 1e6:.1f} | {disk / 1e3 / len(articles):.0f} |")


if __name__ == "__main__":
    main()
