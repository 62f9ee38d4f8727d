"""Build benchmark on real news articles: wall time, characters per second, peak memory and disk.

    python -m benchmarks.news_build [--articles 300] [--source q1|q2|year] [--work /tmp/qa-news-build]
                                    [--keep] [--open] [--add 100 --add-source q2]
                                    [--race] [--backends onnx,torch,onnx-int8]

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

``--race`` builds the same articles, each in a fresh process, with every encoder backend of
``--backends`` (``QA_BOT_BACKEND``), with txtai (``Embeddings``, hybrid, faiss, the same bundled
model through sentence-transformers, over the articles' paragraphs: the ``bench`` extra) and as
the floor, one fp32 torch pass of the model over every token of the articles once, in windows of
128 and of 256 tokens (batches of 8 sorted by length, tokenising included); it prints each one's
seconds, characters per second and its time over the fastest floor.
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
    parser.add_argument("--race", action="store_true", help="race the backends, txtai and the one-pass floor")
    parser.add_argument("--backends", default="onnx,torch,onnx-int8")
    args = parser.parse_args()
    if not DATA.is_dir():
        sys.exit(f"needs {DATA} (../shared beside the repository)")
    articles = read_realtimeqa_articles(DATA / f"{args.source}_articles.jsonl.gz", args.articles)
    work = args.work / f"{args.source}-{len(articles)}"
    corpus, index = work / "corpus", work / "index"
    if not corpus.exists():
        save_articles(corpus, articles)
    chars = sum(len(a.text) for a in articles)
    built = None
    if not (args.keep and index.exists()):
        shutil.rmtree(index, ignore_errors=True)
        seconds, output = build(corpus, index)
        built = seconds
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
    if args.race:
        race(corpus, work, chars, args.backends.split(","), built)


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


def build(corpus: Path, index: Path, backend: str | None = None) -> tuple[float, str]:
    """``qa-bot build`` in a fresh process: (wall seconds, what it printed)."""
    env = dict(ENV, QA_BOT_BACKEND=backend) if backend else ENV
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "build", "--corpus", str(corpus),
                           "--index", str(index)], capture_output=True, text=True, env=env, check=False)
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


def race(corpus: Path, work: Path, chars: int, backends: list[str], built: float | None) -> None:
    rows = [("qa-bot build, default (onnx), above", built)] if built is not None else []
    for backend in backends:
        if built is not None and backend == "onnx":
            continue
        index = work / f"race-{backend}"
        shutil.rmtree(index, ignore_errors=True)
        rows.append((f"qa-bot build, {backend}", build(corpus, index, backend)[0]))
        shutil.rmtree(index, ignore_errors=True)
    for name, script in (("txtai 9, hybrid, faiss, over paragraphs", TXTAI),
                         ("floor: one fp32 torch pass, 128-token windows", FLOOR.replace("WINDOW", "128")),
                         ("floor: one fp32 torch pass, 256-token windows", FLOOR.replace("WINDOW", "256"))):
        done = subprocess.run([sys.executable, "-c", script, str(corpus)], capture_output=True, text=True, env=ENV,
                              check=False)
        if done.returncode:
            sys.exit(done.stderr)
        rows.append((name, float(done.stdout.strip().splitlines()[-1])))
    floor = min(seconds for name, seconds in rows if name.startswith("floor"))
    print("\n| build | seconds | chars/s | time over the floor |\n|---|---|---|---|")
    for name, seconds in rows:
        print(f"| {name} | {seconds:.1f} | {chars / seconds:,.0f} | {seconds / floor:.2f} |", flush=True)


_READ = """
import sys, time
from pathlib import Path
from qa_bot.corpus.files import load_corpus
from qa_bot.encoders.models import resolve_model
articles = load_corpus(Path(sys.argv[1])).articles
model = resolve_model("all-MiniLM-L6-v2")
"""

TXTAI = _READ + """
from txtai import Embeddings
paragraphs = [p for a in articles for p in a.text.split("\\n\\n") if p.strip()]
started = time.perf_counter()
embeddings = Embeddings(path=model, backend="faiss", hybrid=True, content=False)
embeddings.index([(i, text, None) for i, text in enumerate(paragraphs)])
print(time.perf_counter() - started)
"""

FLOOR = _READ + """
import torch
from sentence_transformers import SentenceTransformer
st = SentenceTransformer(model, device="cpu", local_files_only=True)
tokenizer, bert = st.tokenizer, st[0].auto_model.eval()
started = time.perf_counter()
windows = []
for a in articles:
    ids = tokenizer(a.text, add_special_tokens=False)["input_ids"]
    windows += [ids[i : i + WINDOW - 2] for i in range(0, len(ids), WINDOW - 2)]
windows.sort(key=len, reverse=True)
with torch.inference_mode():
    for lo in range(0, len(windows), 8):
        batch = [[tokenizer.cls_token_id, *w, tokenizer.sep_token_id] for w in windows[lo : lo + 8]]
        width = max(map(len, batch))
        ids = torch.tensor([b + [0] * (width - len(b)) for b in batch])
        mask = torch.tensor([[1] * len(b) + [0] * (width - len(b)) for b in batch])
        bert(input_ids=ids, attention_mask=mask)
print(time.perf_counter() - started)
"""


if __name__ == "__main__":
    main()
