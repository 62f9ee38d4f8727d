"""A build's memory must grow with the corpus by less than the index it writes, and never with what
the model's forward pass gives.

Each build runs in a fresh process (its own peak resident memory, VmHWM) on a synthetic
corpus, with a fake encoder that hands out 384-dimension float32 token states for every word, as
the real one does per token. Before builds embedded a group at a time (indexing/embed.py), every
passage's states were held at once: about 1.5 KB per word of every passage, 10 times the size of
what the index keeps; until the index was written as it was built (store/writer.py,
``GenerationWriter``), the whole index was held while it was written, twice its size on disk. The
control run sets the group size past the corpus and must show the growth the test forbids, so the
test can fail.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

from qa_bot.corpus.files import save_articles
from qa_bot.records import Article

ROOT = Path(__file__).resolve().parents[1]
BUILD = """
import json, sys
sys.path[:0] = [{tests!r}, {root!r}]
from conftest import SpanFakeEncoder
from qa_bot.indexing import embed
from qa_bot.indexing.build import build_index
embed.GROUP_TEXTS = {group}
encoder = SpanFakeEncoder(dim=384)
encoder._bigrams = False  # the fake's cache of word-pair vectors would grow with the corpus
build_index({corpus!r}, {index!r}, encoder)
# VmHWM, this program's own peak: getrusage's ru_maxrss survives execve and so starts at the
# forking parent's size (a test process that has grown past a small build's peak).
peak_kb = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps(peak_kb // 1024))
"""


def corpus(path: Path, articles: int) -> Path:
    rng = random.Random(articles)
    words = [f"w{n}" for n in range(3000)]
    save_articles(path, [
        Article(id=f"a{n:04d}", title=f"Article {n}", text="\n\n".join(
            " ".join(" ".join(rng.choices(words, k=18)).capitalize() + "." for _ in range(3)) for _ in range(12)
        ))
        for n in range(articles)
    ])
    return path


def peak_mb(corpus_dir: Path, index: Path, group: int) -> int:
    script = BUILD.format(tests=str(ROOT / "tests"), root=str(ROOT), group=group, corpus=str(corpus_dir),
                          index=str(index))
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def index_mb(index: Path) -> float:
    return sum(p.stat().st_size for p in index.rglob("*") if p.is_file()) / 2**20


def test_a_builds_memory_grows_by_less_than_the_index_it_writes(tmp_path):
    small, large = corpus(tmp_path / "small", 20), corpus(tmp_path / "large", 200)
    grouped = peak_mb(large, tmp_path / "i1", 64) - peak_mb(small, tmp_path / "i2", 64)
    whole = peak_mb(large, tmp_path / "i3", 10**9) - peak_mb(small, tmp_path / "i4", 10**9)
    kept = index_mb(tmp_path / "i1") - index_mb(tmp_path / "i2")
    # What a build still holds whole is the passage vector store and BM25's term ids (and the fake
    # encoder's caches). Holding the whole index while writing it grew by twice the files; the
    # forward pass's float32 states, held at once, by about twice them now that the per-token
    # tables are streamed too (2.7 times before). The control must grow by twice the bound below.
    bound = 0.75 * kept
    assert whole > 2 * bound, f"the control (one group) grew by only {whole} MB for {kept:.0f} MB kept: the test cannot tell"
    assert grouped < bound, f"peak memory grew by {grouped} MB from 20 to 200 articles for {kept:.0f} MB kept"
