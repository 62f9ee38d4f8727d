"""Builds on Ray (indexing/distributed.py): a local Ray cluster of two worker CPUs, started by the
test with ``ray start`` on 127.0.0.1 and stopped after, embeds the articles; the index it writes
holds the vectors, sentence vectors and token states of a local build, and an incremental build
on it embeds only what changed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import SMALL_ARTICLES, FakeEncoder, SpanFakeEncoder, make_corpus, seed_corpus

from benchmarks.load_test import free_port
from qa_bot.app.cli import main
from qa_bot.bot import QABot
from qa_bot.indexing.build import build_index
from qa_bot.store.files import load_index

ray = pytest.importorskip("ray", reason="builds on Ray are an extra: pip install 'qa-bot[ray]'")

ROOT = Path(__file__).resolve().parents[1]
RAY = Path(sys.executable).parent / "ray"



@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """The address of a Ray head node with 2 CPUs, whose workers can import the tests' fake
    encoders (PYTHONPATH); stopped at the end of the module. Asked for 127.0.0.1, Ray 2.60 binds
    the machine's own address; the client reaches it through 127.0.0.1 all the same."""
    port = free_port()
    # No token authentication on this private test cluster: Ray 2.5x turns it on when it finds a
    # token file (~/.ray/auth_token, written by any earlier local ray.init), for the head and,
    # by the same variable, for this process's client.
    mp = pytest.MonkeyPatch()
    mp.setenv("RAY_AUTH_MODE", "disabled")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT / "tests"), str(ROOT)]), RAY_USAGE_STATS_ENABLED="0")
    temp = tmp_path_factory.mktemp("ray")
    started = subprocess.run(
        [str(RAY), "start", "--head", "--node-ip-address=127.0.0.1", f"--port={port}", "--num-cpus=2",
         "--include-dashboard=false", "--disable-usage-stats", f"--temp-dir={temp}"],
        env=env, capture_output=True, text=True, timeout=120,
    )
    if started.returncode != 0:
        pytest.fail(f"ray start failed:\n{started.stdout}\n{started.stderr}")
    address = f"127.0.0.1:{port}"
    try:
        yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        subprocess.run([str(RAY), "stop", "--force"], env=env, capture_output=True, timeout=120)
        mp.undo()


@pytest.mark.parametrize("encoder", [FakeEncoder, SpanFakeEncoder], ids=["separate", "late-with-token-states"])
def test_a_build_on_ray_writes_the_local_builds_vectors(tmp_path, cluster, encoder):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    local = build_index(corpus, tmp_path / "local", encoder())
    remote = build_index(corpus, tmp_path / "ray", encoder(), ray=cluster)
    assert remote.embedded_texts == local.embedded_texts > 0
    a, b = load_index(tmp_path / "local"), load_index(tmp_path / "ray")
    np.testing.assert_array_equal(b.all_passage_vectors(), a.all_passage_vectors())
    np.testing.assert_array_equal(np.asarray(b.sentence_vectors[:]), np.asarray(a.sentence_vectors[:]))
    assert (a.tokens is None) == (encoder is FakeEncoder) and (b.tokens is None) == (a.tokens is None)
    if a.tokens is not None:
        np.testing.assert_array_equal(np.asarray(b.tokens.vectors[:]), np.asarray(a.tokens.vectors[:]))
        np.testing.assert_array_equal(b.tokens.ids, a.tokens.ids)
    assert a.manifest["articles"] == b.manifest["articles"]


def test_an_incremental_build_on_ray_embeds_only_the_edited_article(tmp_path, cluster):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    build_index(corpus, tmp_path / "ray", FakeEncoder(), ray=cluster)
    build_index(corpus, tmp_path / "local", FakeEncoder())
    edited = dict(SMALL_ARTICLES)
    key = next(iter(edited))
    edited[key] = (edited[key][0], edited[key][1] + "\n\nA later paragraph says the river rose again.")
    make_corpus(tmp_path, edited)
    report = build_index(corpus, tmp_path / "ray", FakeEncoder(), ray=cluster)
    assert report.changed == [key] and 0 < report.embedded_texts < 20
    local = build_index(corpus, tmp_path / "local", FakeEncoder())
    assert (local.passages, local.embedded_texts) == (report.passages, report.embedded_texts)
    # the same steps on one machine: the same index (FAISS's 8-bit ranges carried over alike)
    np.testing.assert_array_equal(load_index(tmp_path / "ray").all_passage_vectors(),
                                  load_index(tmp_path / "local").all_passage_vectors())


def test_without_ray_installed_the_build_names_the_install_command(tmp_path, monkeypatch):
    corpus = make_corpus(tmp_path, SMALL_ARTICLES)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray now fails as where it is not installed
    monkeypatch.setattr("qa_bot.encoders.factory.make_encoder", lambda *a, **k: FakeEncoder())
    monkeypatch.setattr("qa_bot.bot.make_encoder", lambda *a, **k: FakeEncoder())
    result = CliRunner().invoke(main, ["build", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--ray"])
    assert result.exit_code == 1
    assert "a build on Ray needs Ray: pip install 'qa-bot[ray]'" in result.output
    assert not (tmp_path / "index" / "CURRENT").exists(), "nothing was published"


@pytest.mark.e2e
def test_the_real_model_travels_by_name_and_embeds_on_the_cluster_as_here(tmp_path, cluster):
    """The seed article with the default model: each actor loads the model itself (the encoder
    is sent as its name) and the vectors are the local build's, to float rounding (the actors'
    forward passes are batched differently)."""
    corpus = seed_corpus(tmp_path / "corpus")
    QABot.build(corpus, tmp_path / "local")
    QABot.build(corpus, tmp_path / "ray", ray=cluster)
    a, b = load_index(tmp_path / "local"), load_index(tmp_path / "ray")
    assert a.manifest["model"] == b.manifest["model"]
    np.testing.assert_allclose(b.all_passage_vectors(), a.all_passage_vectors(), atol=0.01)
    np.testing.assert_allclose(np.asarray(b.sentence_vectors[:]), np.asarray(a.sentence_vectors[:]), atol=0.01)
    bot = QABot.load(tmp_path / "ray")
    assert "seeks independence" in bot.ask("What does the BLA want?").quotes[0].text
