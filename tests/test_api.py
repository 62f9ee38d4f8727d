"""The REST API (qa_bot/app/api.py): its answers, errors, limits and OpenAPI document; the answer
gate shared with the chat; the question log and the editors' report.

The first part runs the API in process on the fake encoder; the second (e2e) starts `qa-bot
serve` with the real model on 127.0.0.1 and checks it from outside: property-based requests
generated from its own OpenAPI document (schemathesis), the same answers through /api/ask,
Gradio's /ask and the library, and the log those questions leave.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import fields, replace
from pathlib import Path

import pytest
import schemathesis
from conftest import SMALL_ARTICLES, FakeEncoder, make_corpus, seed_corpus
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from pydantic import ValidationError
from test_answer import FAKE_CONFIG

from benchmarks import load_test
from qa_bot.app.api import api_app
from qa_bot.app.gate import Busy, Gate
from qa_bot.app.live import LiveBot, PendingBot
from qa_bot.app.questionlog import QuestionLog, read_log
from qa_bot.app.schema import AnswerOut, ArticleSummaryOut, CitationOut, QuoteOut
from qa_bot.bot import QABot
from qa_bot.errors import IndexMissingError
from qa_bot.indexing.build import build_index
from qa_bot.records import Answer

QUESTIONS = ["What does the BLA want?", "How many homes will the solar farm power?",
             "Who won the chess championship?", "What did Apple acquire?"]


def load_fake(index: Path) -> QABot:
    return QABot.load(index, encoder=FakeEncoder(), config=FAKE_CONFIG)


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("api")
    build_index(make_corpus(tmp, SMALL_ARTICLES), tmp / "index", FakeEncoder())
    return tmp / "index"


@pytest.fixture(scope="module")
def bot(index_dir) -> QABot:
    return load_fake(index_dir)


@pytest.fixture
def log_path(tmp_path) -> Path:
    return tmp_path / "logs" / "questions.jsonl"


@pytest.fixture
def client(bot, log_path):
    questions = QuestionLog(log_path)
    with TestClient(api_app(LiveBot(bot).current, Gate(2, 8), questions)) as c:
        yield c
    questions.close()


# ---------------------------------------------------------------------------- answers


def test_ask_returns_what_the_library_returns(client, bot):
    for question in QUESTIONS:
        response = client.post("/api/ask", json={"question": question})
        assert response.status_code == 200 and response.headers["content-type"] == "application/json"
        assert response.json() == json.loads(json.dumps(bot.ask(question).to_dict()))
    assert client.post("/api/ask", json={"question": QUESTIONS[0]}).json()["answered"] is True
    assert client.post("/api/ask", json={"question": "What did Apple acquire?"}).json()["answered"] is False


def test_ask_reads_k_filters_and_as_of(client, bot):
    one = client.post("/api/ask", json={"question": "What does the BLA want?", "k": 1}).json()
    assert len(one["quotes"]) == 1
    outlets = sorted({a.source for a in bot.articles if a.source})
    filtered = client.post("/api/ask", json={"question": "What does the BLA want?",
                                             "filters": {"sources": ["No Such Outlet"], "from": "2020-01-01"}}).json()
    assert filtered["answered"] is False
    assert filtered["filter"] == {"sources": ["No Such Outlet"], "from": "2020-01-01", "to": None}
    assert outlets, "the small corpus names outlets"
    dated = client.post("/api/ask", json={"question": "What happened this week?", "as_of": "2026-02-03"}).json()
    assert dated["time"] == bot.ask("What happened this week?", as_of="2026-02-03").to_dict()["time"]
    assert dated["time"]["expression"] == "this week" and dated["time"]["from"] < "2026-02-03" <= dated["time"]["to"]


def test_search_articles_and_health(client, bot):
    hits = client.get("/api/search", params={"q": "solar farm homes", "k": 2}).json()
    assert hits["query"] == "solar farm homes" and len(hits["hits"]) == 2
    assert hits["hits"] == [h.to_dict() for h in bot.search("solar farm homes", 2)]
    page = client.get("/api/articles", params={"offset": 1, "limit": 2}).json()
    assert page["total"] == len(SMALL_ARTICLES) and page["offset"] == 1 and len(page["articles"]) == 2
    assert [a["id"] for a in page["articles"]] == [a.id for a in bot.articles[1:3]]
    one = client.get(f"/api/articles/{bot.articles[0].id}").json()
    assert one["text"] == bot.articles[0].text and one["characters"] == len(bot.articles[0].text)
    health = client.get("/api/health").json()
    assert health == {"status": "ok", "generation": bot.data.path.name, "articles": len(SMALL_ARTICLES),
                      "passages": len(bot.data.passages), "model": bot.data.model}


# ---------------------------------------------------------------------------- the contract


def test_the_answer_models_mirror_to_dict_field_for_field(bot):
    """The models the OpenAPI document is made from accept every answer as to_dict gives it and
    give it back unchanged; a field on one side only is refused, so the two cannot drift."""
    answers = bot.ask_batch(QUESTIONS) + [bot.ask("What happened this week?", as_of="2026-02-03")]
    answers.append(bot.with_config(replace(bot.config, min_confidence=1.0)).ask("What does the BLA want?"))
    assert any(a.closest is not None for a in answers) and any(a.time is not None for a in answers)
    for answer in answers:
        as_json = json.loads(json.dumps(answer.to_dict()))
        assert AnswerOut.model_validate(as_json).model_dump(mode="json") == as_json
    drifted = json.loads(json.dumps(answers[0].to_dict()))
    drifted["quotes"][0]["new_field"] = 1
    with pytest.raises(ValidationError, match="new_field"):
        AnswerOut.model_validate(drifted)
    del drifted["quotes"][0]["new_field"], drifted["quotes"][0]["score"]
    with pytest.raises(ValidationError, match="score"):
        AnswerOut.model_validate(drifted)
    assert set(CitationOut.model_fields) == set(bot.articles[0].citation().to_dict())
    assert set(ArticleSummaryOut.model_fields) - {"characters"} == {f.name for f in fields(bot.articles[0])} - {"text"}
    assert "earlier_report" in QuoteOut.model_fields


def test_the_openapi_document_describes_every_field(client):
    document = client.get("/api/openapi.json").json()
    assert set(document["paths"]) == {"/api/ask", "/api/search", "/api/articles", "/api/articles/{article_id}",
                                      "/api/health"}
    schemas = document["components"]["schemas"]
    assert "HTTPValidationError" not in schemas  # errors are 400 with ErrorOut, never FastAPI's 422
    assert all("422" not in op["responses"] for ops in document["paths"].values() for op in ops.values())
    undescribed = [f"{name}.{prop}" for name, schema in schemas.items()
                   for prop, spec in schema.get("properties", {}).items() if not spec.get("description")]
    undescribed += [f"{path} {p['name']}" for path, ops in document["paths"].items() for op in ops.values()
                    for p in op.get("parameters", []) if not (p.get("description") or p["schema"].get("description"))]
    assert undescribed == [], "every field and parameter of the API is described"
    assert schemas["ErrorOut"]["properties"]["error"]
    assert client.get("/api/docs").status_code == 200


# ---------------------------------------------------------------------------- errors and limits


def test_errors_are_json_with_a_code_and_the_right_status(client):
    cases = [
        (client.post("/api/ask", json={"question": "   "}), 400, "invalid_question", "empty"),
        (client.post("/api/ask", json={"question": 5}), 400, "invalid_request", "question"),
        (client.post("/api/ask", json={"question": "Why?", "k": 0}), 400, "invalid_request", "k"),
        (client.post("/api/ask", json={"question": "Why?", "colour": "red"}), 400, "invalid_request", "colour"),
        (client.post("/api/ask", json={"question": "Why?", "as_of": "yesterday"}), 400, "invalid_request", "as_of"),
        (client.post("/api/ask", content=b"{not json", headers={"content-type": "application/json"}),
         400, "invalid_request", "JSON"),
        (client.post("/api/ask", json={"question": "x" * 1001}), 400, "invalid_request", "1000"),
        (client.get("/api/articles/no-such-article"), 404, "not_found", "GET /api/articles"),
        (client.get("/api/articles", params={"limit": 0}), 400, "invalid_request", "limit"),
        (client.get("/api/nothing-here"), 404, "not_found", ""),
        (client.get("/api/ask"), 405, "method_not_allowed", ""),
    ]
    for response, status, code, words in cases:
        assert response.status_code == status, response.text
        body = response.json()
        assert set(body) == {"error"} and body["error"]["code"] == code, body
        assert words in body["error"]["message"], body


def test_a_body_over_the_limit_is_refused_with_413_before_it_is_read(bot):
    from qa_bot.app.limits import RequestSizeLimit

    app = api_app(LiveBot(bot).current, Gate(1))
    app.add_middleware(RequestSizeLimit, max_bytes=1000)
    with TestClient(app) as c:
        response = c.post("/api/ask", content=b'{"question": "' + b"a" * 2000 + b'"}',
                          headers={"content-type": "application/json"})
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large" and "1,000 bytes" in response.json()["error"]["message"]


def test_no_index_yet_is_503_until_a_build_makes_one(tmp_path):
    corpus, index = make_corpus(tmp_path, SMALL_ARTICLES), tmp_path / "index"

    def load():
        if not (index / "CURRENT").exists():
            raise IndexMissingError(f"no index in {index} yet")
        return load_fake(index)

    with TestClient(api_app(PendingBot(load), Gate(1))) as c:
        waiting = c.get("/api/health")
        assert waiting.status_code == 503 and waiting.json()["error"]["code"] == "no_index"
        assert c.post("/api/ask", json={"question": "What does the BLA want?"}).status_code == 503
        build_index(corpus, index, FakeEncoder())
        assert c.get("/api/health").json()["articles"] == len(SMALL_ARTICLES)
        assert c.post("/api/ask", json={"question": "What does the BLA want?"}).json()["answered"] is True


def test_busy_when_every_slot_is_taken_and_the_queue_is_full(bot):
    gate = Gate(1, waiting=0)
    with TestClient(api_app(LiveBot(bot).current, gate)) as c, gate.slot():
        response = c.post("/api/ask", json={"question": "What does the BLA want?"})
        assert response.status_code == 503 and response.headers["retry-after"] == "1"
        assert response.json()["error"]["code"] == "busy"
        assert c.get("/api/health").status_code == 200  # only answers take a slot


def test_the_gate_never_runs_more_than_its_slots():
    gate, running, peak, lock = Gate(2, waiting=None), [0], [0], threading.Lock()

    def work():
        with gate.slot():
            with lock:
                running[0] += 1
                peak[0] = max(peak[0], running[0])
            time.sleep(0.02)
            with lock:
                running[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2 and running[0] == 0
    with gate.slot(), gate.slot(), pytest.raises(Busy), gate.slot(queue=False):
        pass
    with pytest.raises(ValueError):
        Gate(0)


# ---------------------------------------------------------------------------- the question log


def test_each_question_is_logged_without_the_reader(client, log_path):
    client.post("/api/ask", json={"question": "What does the BLA want?"})
    client.post("/api/ask", json={"question": "What did Apple acquire?"})
    client.get("/api/search", params={"q": "not logged"})
    lines = [json.loads(line) for line in log_path.read_text().splitlines()]
    assert [line["question"] for line in lines] == ["What does the BLA want?", "What did Apple acquire?"]
    assert all(set(line) == {"time", "question", "answered", "confidence", "articles", "via"} for line in lines)
    answered, declined = lines
    assert answered["answered"] and answered["articles"] == ["pakistan-what-is-baloch-liberation-army"]
    assert 0 < answered["confidence"] <= 1 and answered["via"] == "api"
    assert not declined["answered"] and declined["articles"] == []
    assert [a.question for a in read_log(log_path)] == [line["question"] for line in lines]


def test_the_log_is_whole_lines_under_many_threads_and_a_torn_line_is_named(tmp_path, bot):
    questions = QuestionLog(tmp_path / "q.jsonl")
    answer = Answer("What does the BLA want? " + "é" * 500, False, "no", [])
    threads = [threading.Thread(target=lambda: [questions.record(answer) for _ in range(50)]) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    questions.close()
    assert len(list(read_log(tmp_path / "q.jsonl"))) == 400
    with open(tmp_path / "q.jsonl", "a", encoding="utf-8") as handle:
        handle.write('{"time": "2026-12-07T10:00:00+00:00", "question": "cut sh')
    with pytest.raises(ValueError, match="line 401"):
        list(read_log(tmp_path / "q.jsonl"))


# ---------------------------------------------------------------------------- on loopback, real model

ROOT = Path(__file__).resolve().parents[1]


def start(args: list[str], work: Path) -> tuple[subprocess.Popen, str]:
    """`qa-bot serve ARGS` on a free loopback port, once its API answers (503 before an index exists)."""
    port = load_test.free_port()
    log_path = work / f"server-{port}.log"
    with log_path.open("w") as log:
        env = dict(os.environ, HF_HUB_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
        proc = subprocess.Popen([sys.executable, "-m", "qa_bot.app.cli", "serve", *args, "--port", str(port)],
                                stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}/"
    load_test.wait_until_up(base, proc, log_path, "api/health", (200, 503))
    return proc, base


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`qa-bot serve` (chat and API) on the seed article, logging its questions."""
    work = tmp_path_factory.mktemp("served")
    corpus = seed_corpus(work / "corpus")
    log = work / "questions.jsonl"
    proc, base = start(["--build", "--corpus", str(corpus), "--index", str(work / "index"),
                        "--log-questions", str(log)], work)
    yield base, work, log
    load_test.stop(proc)


@pytest.mark.e2e
def test_the_api_the_chat_api_and_the_library_give_the_same_answers(served):
    import httpx
    from gradio_client import Client

    base, work, log = served
    questions = ["What does the BLA want?", "How many security personnel were killed?", "What did Apple acquire?",
                 "What did Jaiswal say?"]
    library = QABot.load(work / "index")
    chat_api = Client(base, verbose=False)
    with httpx.Client(timeout=60) as http:
        for question in questions:
            rest = http.post(f"{base}api/ask", json={"question": question})
            assert rest.status_code == 200
            expected = json.loads(json.dumps(library.ask(question).to_dict()))
            assert rest.json() == expected
            assert chat_api.predict(question, api_name="/ask") == expected
    logged = [a for a in read_log(log) if a.question in questions]
    assert [a.via for a in logged].count("api") == len(questions)
    assert [a.via for a in logged].count("gradio-api") == len(questions)


@pytest.mark.e2e
def test_every_response_matches_the_openapi_document(served):
    """Requests generated from the server's own OpenAPI document (schemathesis: valid ones and
    not), at most 25 per operation: no 5xx, every status documented, every body as its schema says."""
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    base, _, _ = served
    schema = schemathesis.openapi.from_url(f"{base}api/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) == 5
    statuses: list[int] = []
    for operation in operations:

        @settings(max_examples=25, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        @given(case=operation.as_strategy())
        def check(case):
            statuses.append(case.call_and_validate(checks=checks, timeout=60).status_code)

        check()
    assert len(statuses) >= 50 and {200, 400} <= set(statuses), sorted(set(statuses))


@pytest.mark.e2e
def test_api_only_serves_503_until_the_first_build(tmp_path):
    import httpx

    corpus, index = seed_corpus(tmp_path / "corpus"), tmp_path / "index"
    proc, base = start(["--api-only", "--corpus", str(corpus), "--index", str(index)], tmp_path)
    try:
        waiting = httpx.get(f"{base}api/health")
        assert waiting.status_code == 503 and waiting.json()["error"]["code"] == "no_index"
        assert httpx.get(base).status_code == 404  # no chat with --api-only
        built = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "build", "--corpus", str(corpus),
                                "--index", str(index)], capture_output=True, text=True, timeout=600)
        assert built.returncode == 0, built.stderr
        health = httpx.get(f"{base}api/health", timeout=60).json()
        assert health["articles"] == 1 and health["generation"].startswith("gen-")
        answer = httpx.post(f"{base}api/ask", json={"question": "What does the BLA want?"}, timeout=60).json()
        assert answer["answered"] and "seeks independence" in answer["quotes"][0]["text"]
    finally:
        load_test.stop(proc)


# ---------------------------------------------------------------------------- the editors' report


def write_log(path: Path, rows: list[tuple[str, bool, float, list[str]]]) -> Path:
    with path.open("w", encoding="utf-8") as handle:
        for question, answered, confidence, articles in rows:
            handle.write(json.dumps({"time": "2026-12-07T10:00:00+00:00", "question": question, "answered": answered,
                                     "confidence": confidence, "articles": articles, "via": "chat"}) + "\n")
    return path


REPORT_LOG = [
    ("How many Chinese workers were killed?", False, 0.3, []),
    ("how many chinese workers were killed", False, 0.3, []),
    ("How many Chinese workers died?", False, 0.2, []),
    ("Who won the Eurovision song contest?", False, 0.1, []),
    ("Which country won Eurovision this year?", False, 0.1, []),
    ("What is the weather in Quetta tomorrow?", False, 0.0, []),
    ("What does the BLA want?", True, 0.99, ["pakistan-bla"]),
    ("Who leads the BLA?", True, 0.41, ["pakistan-bla"]),
    ("What is CPEC?", True, 0.55, ["pakistan-bla"]),
]


@pytest.mark.e2e
def test_the_report_groups_declined_questions_by_topic_most_asked_first(tmp_path):
    from qa_bot.app.report import make_report
    from qa_bot.encoders.factory import make_encoder

    report = make_report(list(read_log(write_log(tmp_path / "q.jsonl", REPORT_LOG))), make_encoder())
    assert report.questions == 9 and report.declined == 6
    assert [(t.asked, t.question) for t in report.topics] == [
        (3, "How many Chinese workers were killed?"),  # two wordings; case and punctuation are one
        (2, "Which country won Eurovision this year?"),  # equally asked wordings: the first in order of words
        (1, "What is the weather in Quetta tomorrow?"),
    ]
    assert report.topics[0].wordings == [("How many Chinese workers were killed?", 2), ("How many Chinese workers died?", 1)]
    assert [(a.question, a.confidence) for a in report.low] == [("Who leads the BLA?", 0.41), ("What is CPEC?", 0.55)]


@pytest.mark.e2e
def test_report_command_prints_the_to_do_list_and_names_a_bad_line(tmp_path):
    log = write_log(tmp_path / "q.jsonl", REPORT_LOG)
    result = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "report", str(log)],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "9 questions logged, 6 declined (3 topics), 2 answered with confidence under 60%." in out
    assert "   3×  How many Chinese workers were killed?" in out and "also: How many Chinese workers died?" in out
    assert "41%  Who leads the BLA?  [pakistan-bla]" in out
    as_json = json.loads(subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "report", str(log), "--json"],
                                        capture_output=True, text=True, timeout=300).stdout)
    assert as_json["topics"][0]["asked"] == 3 and as_json["low_confidence"]["answers"][0]["confidence"] == 0.41
    later = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "report", str(log), "--since", "2026-12-08"],
                           capture_output=True, text=True, timeout=300)
    assert later.returncode == 0 and "0 questions logged" in later.stdout, "every question was asked on 12-07"
    with log.open("a", encoding="utf-8") as handle:
        handle.write("not json\n")
    bad = subprocess.run([sys.executable, "-m", "qa_bot.app.cli", "report", str(log)], capture_output=True, text=True,
                         timeout=300)
    assert bad.returncode == 1 and "line 10: not a logged question" in bad.stderr and "Traceback" not in bad.stderr
