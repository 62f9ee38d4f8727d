"""The web app's ``/ask`` API and the REST API's ``POST /api/ask`` under load and under hostile
requests, served by a real ``qa-bot serve`` subprocess on loopback over the seed article (the real
model).

The load test runs benchmarks/load_test.py against this server, through each: 20 clients for 10 s
here (the report's figures come from the 60 s runs the script does by default).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from conftest import seed_corpus
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_hostile import INJECTIONS, QUESTIONS

from benchmarks import load_test

pytestmark = pytest.mark.e2e
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    work = tmp_path_factory.mktemp("load")
    seed_corpus(work / "corpus")
    proc, base = load_test.serve(work / "index", work / "corpus", work)  # builds the index first
    yield base, work
    load_test.stop(proc)


def call(base: str, body: bytes) -> httpx.Response | dict:
    """POST a raw body to /ask; the answer dict, or the HTTP response if it was refused."""
    posted = httpx.post(f"{base}gradio_api/call/ask", content=body,
                        headers={"content-type": "application/json"}, timeout=60)
    if posted.status_code != 200:
        return posted
    with httpx.stream("GET", f"{base}gradio_api/call/ask/{posted.json()['event_id']}", timeout=60) as events:
        lines = list(events.iter_lines())
    if "event: error" in lines:  # Gradio refused the request itself (it does not reach ask_api)
        return {"gradio_error": lines[lines.index("event: error") + 1]}
    assert "event: complete" in lines, f"the server did not complete the request: {lines[:4]}"
    return json.loads(lines[lines.index("event: complete") + 1].removeprefix("data:"))[0]


def ask(base: str, question) -> dict:
    return call(base, json.dumps({"data": [question]}).encode())


@pytest.mark.parametrize("via", ["gradio", "rest"])
def test_twenty_clients_for_ten_seconds(server, via):
    base, _ = server
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.load_test", "--url", base, "--clients", "20",
         "--seconds", "10", "--json", "--via", via],
        check=False, capture_output=True, text=True, timeout=300, cwd=ROOT,
    )
    report = json.loads(result.stdout)
    assert result.returncode == 0, report
    assert report["failed"] == 0 and report["mismatched"] == 0, report["examples"]
    assert report["requests"] >= 20 and report["answered"] >= 3
    assert 0 < report["p50_ms"] <= report["p95_ms"] <= report["max_ms"]


def test_load_test_refuses_a_non_loopback_url():
    with pytest.raises(SystemExit, match="loopback"):
        load_test.check_loopback("http://192.0.2.1:7860/")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.one_of(QUESTIONS, st.sampled_from(INJECTIONS)))
def test_hostile_questions_through_the_api(server, question):
    started = time.perf_counter()
    answer = ask(server[0], question)
    assert set(answer) == {"question", "answered", "message", "quotes", "read_as", "closest", "filter", "time", "conflict"}
    assert answer["answered"] or answer["message"]
    assert time.perf_counter() - started < 30


@pytest.mark.parametrize("body, message", [
    (b'{"data": ["\\ud800 What does the BLA want? \\udfff"]}', None),  # lone surrogates: valid JSON
    (b'{"data": [null]}', "must be text"),
    (b'{"data": [["a list"]]}', "must be text"),
    (json.dumps({"data": ["x" * 900_000]}).encode(), "limit is 1,000"),
])
def test_odd_payloads_get_an_answer_or_a_clear_refusal(server, body, message):
    answer = call(server[0], body)
    assert isinstance(answer, dict), f"HTTP {answer.status_code}: {answer.text[:200]}"
    if message:
        assert answer["answered"] is False and message in answer["message"]
    else:
        assert answer["answered"] is True


def test_missing_question_is_refused_by_gradio_and_the_app_goes_on(server):
    refused = call(server[0], b'{"data": []}')
    assert set(refused) == {"gradio_error"}, "Gradio checks the number of inputs before ask_api runs"
    assert ask(server[0], "What does the BLA want?")["answered"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(question=st.one_of(QUESTIONS, st.sampled_from(INJECTIONS)))
def test_hostile_questions_through_the_rest_api(server, question):
    response = httpx.post(f"{server[0]}api/ask", json={"question": question}, timeout=60)
    assert response.status_code in (200, 400), response.text[:200]
    body = response.json()
    if response.status_code == 200:
        assert body["answered"] or body["message"]
    else:
        assert body["error"]["code"] in ("invalid_question", "invalid_request") and body["error"]["message"]


def test_huge_request_is_refused_with_413(server):
    base = server[0]
    declared = httpx.post(f"{base}gradio_api/call/ask", json={"data": ["x" * 2_000_000]}, timeout=60)
    assert declared.status_code == 413 and "1,000,000 bytes" in declared.text
    rest = httpx.post(f"{base}api/ask", json={"question": "x" * 2_000_000}, timeout=60)
    assert rest.status_code == 413 and rest.json()["error"]["code"] == "too_large"
    chunked = httpx.post(f"{base}gradio_api/call/ask", content=(b"x" * 65536 for _ in range(64)),
                         headers={"content-type": "application/json"}, timeout=60)
    assert chunked.status_code == 413
    assert ask(base, "What does the BLA want?")["answered"], "the app still answers afterwards"


def test_rebuilt_index_is_served_without_restart(server):
    """Runs last in this module: it changes the served index."""
    base, work = server
    before = ask(base, "What does the BLA want?")
    assert "seeks independence for Balochistan" in before["quotes"][0]["text"]
    [article] = (work / "corpus").glob("*.md")
    article.write_text(article.read_text(encoding="utf-8").replace(
        "The BLA seeks independence for Balochistan", "The BLA demands full sovereignty for Balochistan"),
        encoding="utf-8")
    assert ask(base, "What does the BLA want?") == before, "an edited corpus file changes nothing by itself"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    build = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "build", "--corpus", str(work / "corpus"),
                            "--index", str(work / "index")], check=False, capture_output=True, text=True, timeout=600, env=env)
    assert build.returncode == 0, build.stderr
    after = ask(base, "What does the BLA want?")
    assert "demands full sovereignty for Balochistan" in after["quotes"][0]["text"]
