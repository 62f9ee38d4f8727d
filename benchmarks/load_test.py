"""Load test of the web app's answers: many concurrent clients, for a fixed time, through Gradio's
``/ask`` endpoint or (``--via rest``) the REST API's ``POST /api/ask``.

Starts ``qa-bot serve`` on a free loopback port (or uses ``--url``, which must be loopback),
asks every question once with a single client to get the reference answers, then runs
``--clients`` threads that ask the questions round-robin for ``--seconds`` seconds through
Gradio's HTTP API (``POST /gradio_api/call/ask`` then the event's server-sent-events stream) or
the REST API (one ``POST /api/ask`` each; a refused question's 400 and its error object count as
its answer, since a refusal must be stable under load too).

It checks that no request fails and that every answer equals the single-client answer for the
same question, and prints p50/p95 latency and throughput. Exit status 1 if any request failed or
differed. Bounded: every request has a timeout, the run stops at ``--seconds`` (plus the
requests then in flight) or ``--max-requests``, and nothing but 127.0.0.1 is contacted.

    python -m benchmarks.load_test                       # 20 clients, 60 s, shipped corpus
    python -m benchmarks.load_test --clients 20 --seconds 10 --json
    python -m benchmarks.load_test --via rest            # the same through POST /api/ask
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import httpx

ROOT = Path(__file__).resolve().parents[1]
QUESTIONS = [
    "What does the BLA want?",
    "What is CPEC?",
    "How many people were killed?",
    "Who is playing in the Australian Open 2026 final?",
    "<script>alert('x')</script> what is the BLA?",
    "   ",  # refused as empty: refusals must be stable under load too
    "Why is Balochistan important to China?",
    "Qu'est-ce que le BLA veut? 俾路支 🙂",
]
REQUEST_TIMEOUT = 60.0
START_TIMEOUT = 300.0


@dataclass
class Tally:
    """What the clients saw, shared between threads under a lock."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    mismatches: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def ask_rest(client: httpx.Client, base: str, question: str) -> dict:
    """One question through the REST API; raises on anything but an answer or a refusal (400)."""
    response = client.post(f"{base}api/ask", json={"question": question})
    if response.status_code not in (200, 400):
        raise RuntimeError(f"HTTP {response.status_code}: {response.text[:200]}")
    return response.json()


def ask(client: httpx.Client, base: str, question: str) -> dict:
    """One question through Gradio's two-step HTTP API; raises on any failure."""
    posted = client.post(f"{base}gradio_api/call/ask", json={"data": [question]})
    posted.raise_for_status()
    event_id = posted.json()["event_id"]
    event = None
    with client.stream("GET", f"{base}gradio_api/call/ask/{event_id}") as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if line.startswith("event:"):
                event = line.split(":", 1)[1].strip()
            elif line.startswith("data:") and event in ("complete", "error"):
                payload = line.split(":", 1)[1].strip()
                if event == "error":
                    raise RuntimeError(f"the server reported an error: {payload}")
                return json.loads(payload)[0]
    raise RuntimeError(f"the event stream ended without a result (last event {event!r})")


ASKERS = {"gradio": ask, "rest": ask_rest}


def reference_answers(base: str, asker=ask) -> dict[str, dict]:
    """Each question asked once by a single client: what every concurrent answer must equal."""
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        return {q: asker(client, base, q) for q in QUESTIONS}


def client_loop(n: int, base: str, deadline: float, budget: threading.Semaphore, expected: dict, tally: Tally,
                asker=ask) -> None:
    """Ask questions round-robin (starting at this client's offset) until the deadline."""
    i = n
    with httpx.Client(timeout=REQUEST_TIMEOUT) as client:
        while time.monotonic() < deadline and budget.acquire(blocking=False):
            question = QUESTIONS[i % len(QUESTIONS)]
            i += 1
            started = time.perf_counter()
            try:
                answer = asker(client, base, question)
            except Exception as exc:  # noqa: BLE001 - every kind of failure counts, and is reported
                with tally.lock:
                    tally.failures.append(f"client {n}: {question!r}: {type(exc).__name__}: {exc}")
                continue
            elapsed = time.perf_counter() - started
            with tally.lock:
                tally.latencies.append(elapsed)
                if answer != expected[question]:
                    tally.mismatches.append(f"client {n}: {question!r}: {json.dumps(answer)[:300]}")


def run_load(base: str, clients: int, seconds: float, max_requests: int, via: str = "gradio") -> dict:
    """Run the clients against ``base`` (through ``via``: "gradio" or "rest") and return the figures."""
    asker = ASKERS[via]
    expected = reference_answers(base, asker)
    tally, budget = Tally(), threading.Semaphore(max_requests)
    started = time.monotonic()
    deadline = started + seconds
    threads = [
        threading.Thread(target=client_loop, args=(n, base, deadline, budget, expected, tally, asker), daemon=True)
        for n in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(seconds + 2 * REQUEST_TIMEOUT)
    wall = time.monotonic() - started
    lat = sorted(tally.latencies)
    pct = (lambda p: 1000 * lat[min(len(lat) - 1, int(p * len(lat)))]) if lat else (lambda p: 0.0)
    return {
        "via": via, "clients": clients, "seconds": round(wall, 1), "questions": len(QUESTIONS),
        "requests": len(lat) + len(tally.failures), "failed": len(tally.failures),
        "mismatched": len(tally.mismatches), "p50_ms": round(pct(0.50), 1), "p95_ms": round(pct(0.95), 1),
        "max_ms": round(1000 * lat[-1], 1) if lat else 0.0,
        "mean_ms": round(1000 * statistics.fmean(lat), 1) if lat else 0.0,
        "throughput_per_s": round(len(lat) / wall, 1),
        "answered": sum(bool(a.get("answered")) for a in expected.values()),
        "examples": (tally.failures + tally.mismatches)[:5],
    }


def wait_until_up(base: str, proc: subprocess.Popen, log_path: Path, path: str = "",
                  statuses: tuple[int, ...] = (200,)) -> None:
    """Wait until ``base + path`` answers with one of ``statuses`` (the chat's page: 200)."""
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the app exited early:\n{log_path.read_text()}")
        try:
            if httpx.get(base + path, timeout=2).status_code in statuses:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    proc.kill()
    raise SystemExit(f"the app did not start in {START_TIMEOUT:.0f} s:\n{log_path.read_text()}")


def serve(index: Path, corpus: Path, work: Path) -> tuple[subprocess.Popen, str]:
    """Start ``qa-bot serve`` on a free loopback port; return the process and its base URL."""
    port = free_port()
    log_path = work / "server.log"
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1", GRADIO_ANALYTICS_ENABLED="False")
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "qa_bot.app.cli", "serve", "--build", "--index", str(index), "--corpus", str(corpus),
             "--host", "127.0.0.1", "--port", str(port)],
            stdout=log, stderr=subprocess.STDOUT, env=env,
        )
    base = f"http://127.0.0.1:{port}/"
    wait_until_up(base, proc, log_path)
    return proc, base


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def check_loopback(url: str) -> str:
    host = urlparse(url).hostname
    if host not in ("127.0.0.1", "localhost", "::1"):
        raise SystemExit(f"--url must be a loopback address (127.0.0.1), not {host!r}: this test stays local")
    return url if url.endswith("/") else url + "/"


def format_report(r: dict) -> str:
    return (
        f"{r['clients']} clients through {'POST /api/ask' if r['via'] == 'rest' else 'Gradio /ask'}, {r['seconds']} s: {r['requests']} requests, {r['failed']} failed, "
        f"{r['mismatched']} differed from the single-client answer\n"
        f"latency p50 {r['p50_ms']} ms, p95 {r['p95_ms']} ms, max {r['max_ms']} ms; "
        f"throughput {r['throughput_per_s']} answers/s"
        + "".join(f"\n  {e}" for e in r["examples"])
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--max-requests", type=int, default=100_000, help="stop after this many requests")
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--index", type=Path, help="index to serve (default: build --corpus in a temp dir)")
    parser.add_argument("--url", help="an already running app on loopback, instead of starting one")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    parser.add_argument("--via", choices=sorted(ASKERS), default="gradio",
                        help="Gradio's /ask endpoint or the REST API's POST /api/ask")
    args = parser.parse_args(argv)
    if not 1 <= args.clients <= 200 or not 0 < args.seconds <= 3600:
        parser.error("--clients must be 1-200 and --seconds 0-3600")
    with tempfile.TemporaryDirectory(prefix="qa-bot-load-") as tmp:
        proc = None
        if args.url:
            base = check_loopback(args.url)
        else:
            work = Path(tmp)
            index = args.index or work / "index"
            if args.index is None:
                shutil.copytree(args.corpus, work / "corpus")  # serve --build builds the index
            proc, base = serve(index, work / "corpus" if args.index is None else args.corpus, work)
        try:
            report = run_load(base, args.clients, args.seconds, args.max_requests, args.via)
        finally:
            if proc is not None:
                stop(proc)
    print(json.dumps(report) if args.json else format_report(report))
    return 1 if report["failed"] or report["mismatched"] or not report["requests"] else 0


if __name__ == "__main__":
    sys.exit(main())
