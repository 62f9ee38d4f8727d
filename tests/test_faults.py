"""Faults with real processes: a build SIGKILLed part-way, a disk that fills during a build, and
the corpus changing under a running app. (Damaged index files, other models and builds failing
in-process are in test_index.py.)

The builds run as subprocesses of the real command line (tests/fake_cli.py: the fake encoder in
place of the model, and optional pause points so that the kill lands at a known step).
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import SMALL_ARTICLES, FakeEncoder, make_corpus

from qa_bot.answer.config import FALLBACK_ABSTAIN, FALLBACK_RANK, AnswerConfig
from qa_bot.app.live import LiveBot
from qa_bot.bot import QABot
from qa_bot.indexing.build import build_index
from qa_bot.store.files import load_index
from qa_bot.store.generations import current_generation

FAKE_CLI = [sys.executable, str(Path(__file__).with_name("fake_cli.py"))]
CONFIG = AnswerConfig(rank_weights=FALLBACK_RANK, abstain_weights=FALLBACK_ABSTAIN, min_confidence=0.05)
QUESTION = "What does the BLA want?"
FLOOD = "riverton-floods"


def extra_articles(n: int) -> dict[str, tuple[str, str]]:
    """``n`` more articles, enough texts together that embedding takes several batches."""
    body = "\n\n".join(
        f"Paragraph {p} of the harbour report says the ferry number {p} left the quay at dawn. "
        f"Inspectors counted {p * 7} containers on the pier. Nobody was hurt on day {p}."
        for p in range(1, 6)
    )
    return {f"harbour-report-{i}": (f"Harbour report {i}", body.replace("harbour", f"harbour {i}")) for i in range(n)}


@pytest.fixture
def built(tmp_path):
    """The small corpus and its index, built in-process; the answer the index gives to QUESTION."""
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    index = tmp_path / "index"
    build_index(corpus, index, FakeEncoder())
    return corpus, index, answer_of(index)


def answer_of(index: Path, question: str = QUESTION) -> dict:
    return QABot(load_index(index), FakeEncoder(), CONFIG).ask(question).to_dict()


def live_files(index: Path) -> dict[str, bytes]:
    gen = current_generation(index)
    return {p.relative_to(index).as_posix(): p.read_bytes() for p in sorted(gen.rglob("*")) if p.is_file()}


def cli(*args: str, env: dict | None = None, **kwargs) -> subprocess.CompletedProcess:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", **(env or {}))
    return subprocess.run([*FAKE_CLI, *args], check=False, capture_output=True, text=True, timeout=120, env=env, **kwargs)


def kill_at(step: str, corpus: Path, index: Path, marker: Path) -> None:
    """Start a build that pauses at ``step``, wait until it is there, SIGKILL it."""
    env = dict(os.environ, QA_BOT_TEST_PAUSE=step, QA_BOT_TEST_MARKER=str(marker), PYTHONDONTWRITEBYTECODE="1")
    proc = subprocess.Popen([*FAKE_CLI, "build", "--corpus", str(corpus), "--index", str(index)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.monotonic() + 60
    while not marker.exists():
        if proc.poll() is not None:
            pytest.fail(f"the build ended before reaching {step!r}: {proc.stderr.read().decode()[-2000:]}")
        if time.monotonic() > deadline:
            proc.kill()
            pytest.fail(f"the build did not reach {step!r} in 60 s")
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL
    proc.stderr.close()


# ---------------------------------------------------------------------------- SIGKILL


@pytest.mark.parametrize("step, leftover", [
    ("embedding", None),
    ("writing", ".build-gen-"),  # a half-written staging directory is left behind
    ("publishing", "gen-"),  # a complete new generation that CURRENT does not name yet
])
def test_build_killed_part_way_keeps_the_previous_index(built, tmp_path, step, leftover):
    corpus, index, before = built
    live, files = current_generation(index).name, live_files(index)
    make_corpus(tmp_path, extra_articles(8))
    kill_at(step, corpus, index, tmp_path / "paused")

    if leftover:
        left = [p.name for p in index.iterdir() if p.name.startswith(leftover) and p.name != live]
        assert left, f"the kill should have left a {leftover}* directory behind (it landed too late)"
    assert current_generation(index).name == live and live_files(index) == files
    assert answer_of(index) == before, "the previous index answers as before"

    # The lock died with the process: the next build runs, completes and clears the leftovers.
    result = cli("build", "--corpus", str(corpus), "--index", str(index))
    assert result.returncode == 0, result.stderr
    assert "added 8" in result.stderr
    assert [p.name for p in index.iterdir() if p.is_dir()] == [current_generation(index).name]
    assert len(load_index(index).articles) == len(SMALL_ARTICLES) + 8


@pytest.mark.e2e
def test_real_build_sigkilled_while_embedding(tmp_path):
    """The real command and model, killed as soon as its progress bar shows embedding under way."""
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    index = tmp_path / "index"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    qa_bot = [sys.executable, "-m", "qa_bot.app.cli"]
    ask = [*qa_bot, "ask", QUESTION, "--json", "--index", str(index), "--corpus", str(corpus)]
    before = subprocess.run([*ask, "--build"], check=False, capture_output=True, text=True, timeout=300, env=env)
    assert before.returncode == 0 and "building the index" in before.stderr, before.stderr
    live = current_generation(index).name

    make_corpus(tmp_path, extra_articles(5))  # ~160 texts: three batches of 64
    proc = subprocess.Popen([*qa_bot, "build", "--corpus", str(corpus), "--index", str(index)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    seen = b""
    while b"embedding:" not in seen and proc.poll() is None:
        seen += proc.stderr.read1(4096)
    os.kill(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=10) == -signal.SIGKILL, "the build finished before it could be killed"
    proc.stderr.close()

    assert current_generation(index).name == live
    after = subprocess.run(ask, check=False, capture_output=True, text=True, timeout=300, env=env)
    assert after.returncode == 0 and "building" not in after.stderr, after.stderr
    assert after.stdout == before.stdout, "the previous index answers exactly as before"
    again = subprocess.run([*qa_bot, "build", "--corpus", str(corpus), "--index", str(index)],
                           check=False, capture_output=True, text=True, timeout=600, env=env)
    assert again.returncode == 0 and "added 5" in again.stderr, again.stderr
    assert current_generation(index).name != live


# ---------------------------------------------------------------------------- disk full


def assert_clean_failure(result: subprocess.CompletedProcess, problem: str) -> None:
    assert result.returncode == 1, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    assert problem in result.stderr and "cannot write the index" in result.stderr, result.stderr
    assert "previous index was left as it was" in result.stderr


def test_disk_full_on_a_small_tmpfs(tmp_path):
    """A 1 MiB tmpfs holding the index fills up while the next build writes its generation."""
    mount = tmp_path / "small-disk"
    mount.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount)],
                             check=False, capture_output=True, text=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root with CAP_SYS_ADMIN): {mounted.stderr.strip()}")
    try:
        corpus = make_corpus(tmp_path, SMALL_ARTICLES)
        index = mount / "index"
        assert cli("build", "--corpus", str(corpus), "--index", str(index)).returncode == 0
        live, files, before = current_generation(index).name, live_files(index), answer_of(index)
        filler = mount / "filler"
        with open(filler, "wb", buffering=0) as handle:  # fill the disk, leaving a few KiB
            try:
                while True:
                    handle.write(b"\0" * 4096)
            except OSError:
                pass
        os.truncate(filler, max(0, filler.stat().st_size - 16 * 1024))
        make_corpus(tmp_path, extra_articles(4))

        result = cli("build", "--corpus", str(corpus), "--index", str(index))
        assert_clean_failure(result, "No space left on device")
        assert current_generation(index).name == live and live_files(index) == files
        assert not list(index.glob(".build-*")), "the half-written generation is removed"
        assert answer_of(index) == before

        filler.unlink()
        assert cli("build", "--corpus", str(corpus), "--index", str(index)).returncode == 0
        assert current_generation(index).name != live
    finally:
        subprocess.run(["umount", str(mount)], check=False)


def _limit_file_size() -> None:
    """In the child: files may not grow past 8 KiB, and hitting that is an error, not a signal."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (8192, 8192))


def test_file_size_limit_during_build(built, tmp_path):
    """Without privileges: RLIMIT_FSIZE makes the writes of the new generation fail (EFBIG)."""
    corpus, index, before = built
    live, files = current_generation(index).name, live_files(index)
    make_corpus(tmp_path, extra_articles(4))
    result = cli("build", "--corpus", str(corpus), "--index", str(index), preexec_fn=_limit_file_size)
    assert_clean_failure(result, "file size limit was reached")
    assert current_generation(index).name == live and live_files(index) == files
    assert not list(index.glob(".build-*"))
    assert answer_of(index) == before
    assert cli("build", "--corpus", str(corpus), "--index", str(index)).returncode == 0


# ---------------------------------------------------------------------------- serving


class NeutralReranker:
    """Scores every sentence alike, so it leaves the ranker's order as it is."""

    name = "neutral"

    def score(self, question, sentences):
        return np.zeros(len(sentences))


def test_app_keeps_its_index_while_the_corpus_changes_and_serves_a_rebuild(built, tmp_path):
    corpus, index, _ = built
    live = LiveBot(QABot(load_index(index), FakeEncoder(), CONFIG, reranker=NeutralReranker()))
    question = "How many homes were flooded?"
    first = live.current().ask(question).to_dict()
    assert "3,000 homes" in first["quotes"][0]["text"]

    # Edit one article and delete another on disk: the app answers from what it loaded.
    title, body = SMALL_ARTICLES[FLOOD]
    make_corpus(tmp_path, {FLOOD: (title, body.replace("More than 3,000 homes", "More than 4,500 homes"))})
    (corpus / "pakistan-what-is-baloch-liberation-army.md").unlink()
    assert live.current().ask(question).to_dict() == first
    assert len(live.current().articles) == len(SMALL_ARTICLES)

    # After a rebuild the next request is answered from the new index, same encoder, no restart.
    encoder, live_config, live_reranker = live.current().encoder, live.current().config, live.current().reranker
    build_index(corpus, index, FakeEncoder())
    fresh = live.current()
    assert fresh.encoder is encoder and fresh.config == live_config and fresh.reranker is live_reranker
    assert "4,500 homes" in fresh.ask(question).quotes[0].text
    assert len(fresh.articles) == len(SMALL_ARTICLES) - 1


def test_app_keeps_serving_when_the_new_index_is_damaged(built, tmp_path):
    corpus, index, _ = built
    live = LiveBot(QABot(load_index(index), FakeEncoder(), CONFIG))
    served = live.current()
    make_corpus(tmp_path, extra_articles(1))
    build_index(corpus, index, FakeEncoder())
    (current_generation(index) / "passages.faiss").write_bytes(b"garbage")
    assert live.current() is served, "a new index that does not load is not swapped in"
    assert live.current().ask(QUESTION).answered


# ---------------------------------------------------------------------------- damaged index, seen from the CLI


@pytest.mark.parametrize("name, damage", [
    ("passages.faiss", lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])),  # truncated
    ("manifest.json", lambda p: p.write_bytes(os.urandom(300))),  # garbage
    ("articles.json", lambda p: p.write_text("[{", encoding="utf-8")),  # truncated metadata
])
def test_cli_on_a_damaged_index_names_the_file_and_the_fix(built, monkeypatch, name, damage):
    from click.testing import CliRunner

    from qa_bot.app.cli import main

    _, index, _ = built
    monkeypatch.setattr("qa_bot.bot.make_encoder", lambda model=None, **kw: FakeEncoder())
    damaged = current_generation(index) / name
    damage(damaged)
    for args in (["ask", QUESTION, "--index", str(index)], ["list", "--index", str(index)]):
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 1 and isinstance(result.exception, SystemExit), result.output
        assert "Traceback" not in result.output and "Q:" not in result.output, "no answer from a damaged index"
        assert str(damaged) in result.output and "qa-bot build" in result.output


class _Planted:
    """Unpickling this touches a file: proof that loading ran code."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_planted_in_the_index_is_refused_not_run(built, tmp_path):
    import hashlib
    import json

    import numpy as np

    _, index, _ = built
    gen = current_generation(index)
    marker = tmp_path / "code-ran"
    planted = gen / "sentences.npy"
    np.save(planted, np.array([_Planted(marker)], dtype=object), allow_pickle=True)
    manifest = json.loads((gen / "manifest.json").read_text(encoding="utf-8"))
    content = planted.read_bytes()  # make the checksums agree, as an attacker with write access would
    manifest["files"]["sentences.npy"] = {"bytes": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    (gen / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    from qa_bot.errors import IndexCorruptError

    with pytest.raises(IndexCorruptError, match="sentences.npy"):
        load_index(index)
    assert not marker.exists(), "the pickle was never unpickled"
