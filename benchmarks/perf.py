"""Performance benchmarks: each prints a Markdown table, each figure beside its reference.

    python -m benchmarks.perf all [--work /tmp/qa-perf] [--reps 3]   # everything (about an hour)
    python -m benchmarks.perf build | encoder | query | ann | cold | incremental | peer | tokens

- build:       passages embedded per second by the builder (torch and ONNX encoders) next to plain
               SentenceTransformer.encode of exactly the texts the builder embeds (its passages;
               sentence vectors are pooled from the same forward pass), same process.
- encoder:     plain torch encode vs the ONNX encoder on the same texts; cosine between them.
- query:       warm bot.ask() one question at a time at about 2k, 20k and 200k passages, split into
               stages; peak RSS and bytes per passage on disk (one subprocess per size).
- ann:         recall@10 and latency of the IVF index against exact search at 200k passages, per
               nprobe: chosen on one half of the questions, reported on the other.
- cold:        process start to first answer, CLI and web app; `qa-bot --help`.
- incremental: add one article to an index of 2,000 articles; rebuild with nothing changed.
- peer:        txtai (Embeddings, same local model, faiss, hybrid=True) on the same passages.
- tokens:      what MaxSim's token states cost: SQuAD dev built with and without them (build time,
               disk per passage, warm ask latency, the two indexes taking turns on each question),
               same encoder, same process.

Medians of --reps repetitions; questions are SQuAD dev questions (one half, fixed by paragraph).
Needs ../shared/data. The scaled corpora repeat real paragraphs (see corpora.py).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

import qa_bot.bot
from benchmarks import corpora
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.encoders.factory import make_encoder
from qa_bot.encoders.models import resolve_model
from qa_bot.indexing.build import BATCH_SIZE, build_index
from qa_bot.indexing.rows import chunk, passage_texts, sentence_texts
from qa_bot.retrieval import hybrid as retrieve
from qa_bot.store.files import current_generation
from qa_bot.store.vectors import faiss as ann

SIZES = (2_000, 20_000, 200_000)
QA_BOT = str(Path(sys.executable).with_name("qa-bot"))


def ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def median_time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def table(headers: list[str], rows: list[list]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def embedded_texts(articles) -> tuple[list[str], list[str]]:
    """The passage texts the builder embeds for ``articles``, and the sentence texts it would embed
    on their own for a model that cannot pool sentences from passages (SEPARATE)."""
    passages, sentences = [], []
    for article in articles:
        part = chunk(article, _default_params())
        passages += passage_texts(article, part)[0]
        sentences += sentence_texts(article, part)
    return passages, sentences


def _default_params():
    from qa_bot.indexing.chunking import ChunkParams

    return ChunkParams()


def questions(n: int) -> list[str]:
    _, qs = corpora.squad()
    _, report = corpora.split_questions(qs)
    return [q.q for q in report[:n]]


# ---------------------------------------------------------------------------- build / encoder


def bench_build(work: Path, reps: int) -> str:
    from sentence_transformers import SentenceTransformer

    plain = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    encoders = [make_encoder(backend=b) for b in ("torch", "onnx", "onnx-int8")]
    for encoder in encoders:
        encoder.warm_up()
    rows = []
    for name, articles in (("SQuAD dev (2,067 paragraphs)", corpora.squad()[0]), ("Wikinews (43 articles)", corpora.wikinews())):
        p_texts, s_texts = embedded_texts(articles)
        corpus = work / "build" / name.split()[0] / "corpus"
        if not corpus.exists():
            save_articles(corpus, articles)
        embedded: list[int] = []  # texts through the model per build: passages + sentences cut by truncation

        def build(encoder, corpus=corpus):
            index = work / "build" / "index-tmp"
            subprocess.run(["rm", "-rf", str(index)], check=True)
            embedded.append(build_index(corpus, index, encoder).embedded_texts)

        # The builder embeds each passage once and pools its sentences from the same pass (late
        # chunking), so the plain reference is encode() of exactly those passage texts: at
        # sentence-transformers' default batch size and at the builder's.
        n = len(p_texts)
        t_default = median_time(lambda: plain.encode(p_texts), reps)
        t_plain = median_time(lambda: plain.encode(p_texts, batch_size=BATCH_SIZE), reps)
        row = [name, n, len(s_texts), f"{n / t_default:.1f}", f"{n / t_plain:.1f}"]
        for encoder in encoders:
            t = median_time(lambda: build(encoder), reps)
            row.append(f"{n / t:.1f} ({t / t_plain:.2f})")
        rows.append([*row[:3], max(embedded) - n, *row[3:]])
    return table(
        ["corpus", "passages", "sentences", "sentences embedded alone (truncated in every passage)",
         "plain `encode`, default batch (32): passages/s", f"plain `encode`, batch {BATCH_SIZE}: passages/s",
         "qa-bot build, torch: passages/s (ratio to plain)", "qa-bot build, ONNX (default)",
         "qa-bot build, ONNX int8 (opt-in)"], rows)


BATCHES = (8, 16, 32, 64)


def bench_encoder(reps: int) -> str:
    from sentence_transformers import SentenceTransformer

    articles, qs = corpora.squad()
    texts, _ = embedded_texts(articles[:400])  # passages: what the builder embeds
    one = [q.q for q in qs[:100]]
    plain = SentenceTransformer(resolve_model("all-MiniLM-L6-v2"), device="cpu", local_files_only=True)
    reference = plain.encode(texts, normalize_embeddings=True)
    runs = [("sentence-transformers (torch), plain `encode`",
             lambda batch, bs: plain.encode(batch, batch_size=bs, normalize_embeddings=True))]
    for label, backend in (("qa-bot ONNX Runtime (default)", "onnx"), ("qa-bot ONNX Runtime int8 (opt-in)", "onnx-int8")):
        encoder = make_encoder(backend=backend)
        encoder.warm_up()
        runs.append((label, lambda batch, bs, encoder=encoder: encoder.encode(batch, batch_size=bs)))
    rows, default_rate = [], None
    for label, encode in runs:
        encode(texts[:64], 8)  # warm
        rates = {bs: len(texts) / median_time(lambda: encode(texts, bs), reps) for bs in BATCHES}
        default_rate = default_rate or rates[32]  # sentence-transformers' default batch size
        cos = np.sum(reference * encode(texts, BATCH_SIZE), axis=1)
        q = median_time(lambda: [encode([x], 1) for x in one], reps) / len(one)
        rows.append([label, *(f"{rates[bs]:.1f}" for bs in BATCHES), f"{rates[BATCH_SIZE] / default_rate:.2f}",
                     ms(q), f"{cos.mean():.7f} / {cos.min():.7f}"])
    return table(["encoder", *(f"passages/s, batch {bs}" for bs in BATCHES),
                  f"speed-up at batch {BATCH_SIZE} over plain `encode` at its default (32)", "one question, ms",
                  "cosine to torch: mean / min"], rows)


# ---------------------------------------------------------------------------- token states


class WithoutTokens:
    """The same encoder, minus its token states: the builder stores none, the bot skips MaxSim."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.pools_spans = inner, inner.name, True

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts, **kw):
        return self.inner.encode(texts, **kw)

    def encode_with_spans(self, texts, spans, **kw):
        return self.inner.encode_with_spans(texts, spans, **kw)


def bench_tokens(work: Path, n: int) -> str:
    from qa_bot.store.files import load_index

    articles, _ = corpora.squad()
    corpus = work / "tokens" / "corpus"
    if not corpus.exists():
        save_articles(corpus, articles)
    encoder = make_encoder()
    encoder.encode(["warm up"])  # model load and export are not build time
    qs = questions(n + 20)
    built = []
    for label, enc in (("without token states", WithoutTokens(encoder)), ("with token states (default)", encoder)):
        index = work / "tokens" / ("plain" if isinstance(enc, WithoutTokens) else "tokens")
        started = time.perf_counter()
        report = build_index(corpus, index, enc)
        seconds = time.perf_counter() - started
        if report.embedded_texts == 0:
            raise SystemExit(f"{index} was already built: remove it to time a build")
        files = [p for p in current_generation(index).rglob("*") if p.is_file()]
        disk = sum(p.stat().st_size for p in files)
        tokens = sum(p.stat().st_size for p in files if p.name.startswith("token_"))
        bot = QABot(load_index(index), enc)
        for q in qs[:20]:
            bot.ask(q)
        built.append((label, report, seconds, disk, tokens, bot, []))
    # The two bots take turns on each question, so a slower spell of the machine hits both alike.
    for q in qs[20:]:
        for *_, bot, times in built:
            start = time.perf_counter()
            bot.ask(q)
            times.append(time.perf_counter() - start)
    rows = [[label, f"{report.passages:,}", f"{seconds:.1f}", f"{disk / report.passages:,.0f}",
             f"{tokens / report.passages:,.0f}", ms(float(np.median(times))), ms(float(np.percentile(times, 95)))]
            for label, report, seconds, disk, tokens, _, times in built]
    return table(["index", "passages", "build s", "disk bytes/passage", "of which token states",
                  "ask p50 ms", "ask p95 ms"], rows)


# ---------------------------------------------------------------------------- query latency


def scaled_index(work: Path, size: int) -> Path:
    articles, _ = corpora.squad()
    base_dir = work / "scale" / "base"
    encoder = corpora.CachingEncoder(make_encoder(), work / "scale" / "vectors")
    base = corpora.build_corpus(articles, base_dir, encoder)
    from qa_bot.store.files import load_index

    per_article = len(load_index(base).passages) / len(articles)
    return corpora.build_corpus(corpora.scaled(articles, per_article, size), work / "scale" / f"n{size}", encoder)


class Stages:
    """Wraps the pipeline's steps to time them (wall clock, summed per question)."""

    def __init__(self, bot: QABot) -> None:
        self.times: dict[str, float] = {}
        self._wrap(bot.encoder, "encode", "query encoding")
        self._wrap(bot.data.passage_vectors, "search", "dense search")
        self._wrap(bot.data.lexical, "search", "BM25")
        self._wrap(retrieve, "rrf", "fusion")
        self._wrap(qa_bot.bot, "score_candidates", "sentence scoring")
        self._wrap(bot, "select", "sentence scoring")

    def _wrap(self, owner, attr: str, stage: str) -> None:
        inner = getattr(owner, attr)

        def timed(*a, **k):
            start = time.perf_counter()
            try:
                return inner(*a, **k)
            finally:
                self.times[stage] = self.times.get(stage, 0.0) + time.perf_counter() - start

        setattr(owner, attr, timed)


def bench_query_one(work: Path, size: int, n: int) -> dict:
    """One size, in this process (so its peak RSS is this size's)."""
    index = scaled_index(work, size)
    gen = current_generation(index)
    disk = sum(p.stat().st_size for p in gen.rglob("*") if p.is_file())
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    bot = QABot.load(index)
    bot.warm_up()
    qs = questions(n + 20)
    for q in qs[:20]:
        bot.ask(q)
    stages = Stages(bot)
    totals, per_stage = [], {}
    for q in qs[20:]:
        stages.times.clear()
        start = time.perf_counter()
        bot.ask(q)
        totals.append(time.perf_counter() - start)
        for k, v in stages.times.items():
            per_stage.setdefault(k, []).append(v)
    passages = len(bot.data.passages)
    return {
        "size": size, "passages": passages, "articles": len(bot.data.articles),
        "index": "IVF" if bot.data.passage_vectors.is_ivf else "exact",
        "encoder": getattr(bot.encoder, "backend", "?"),
        "p50": float(np.median(totals)), "p95": float(np.percentile(totals, 95)),
        "stages": {k: float(np.median(v)) for k, v in per_stage.items()},
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "rss_before_load_mb": rss_before / 1024,
        "disk_bytes_per_passage": disk / passages,
    }


def bench_query(work: Path, n: int) -> str:
    rows = []
    for size in SIZES:
        out = subprocess.run(
            [sys.executable, "-m", "benchmarks.perf", "query-one", "--size", str(size), "--n", str(n), "--work", str(work)],
            check=True, capture_output=True, text=True, cwd=corpora.ROOT,
        ).stdout
        r = json.loads(out.strip().splitlines()[-1])
        s = r["stages"]
        rows.append([f"{r['passages']:,}", r["index"], r["encoder"], ms(r["p50"]), ms(r["p95"]),
                     *(ms(s.get(k, 0.0)) for k in ("query encoding", "dense search", "BM25", "fusion", "sentence scoring")),
                     f"{r['peak_rss_mb']:.0f}", f"{r['disk_bytes_per_passage']:,.0f}"])
    return table(["passages", "vector index", "encoder", "ask p50 ms", "ask p95 ms", "encode p50", "dense p50",
                  "BM25 p50", "fusion p50", "scoring p50", "peak RSS MB", "disk bytes/passage"], rows)


# ---------------------------------------------------------------------------- ANN recall


def bench_ann(work: Path, n: int) -> str:
    import faiss

    from qa_bot.store.files import load_index

    data = load_index(scaled_index(work, SIZES[-1]))
    vectors = data.all_passage_vectors()
    exact = faiss.IndexFlatIP(vectors.shape[1])
    exact.add(vectors)
    ivf = data.passage_vectors.index
    _, qs = corpora.squad()
    tune, report = corpora.split_questions(qs)
    encoder = make_encoder()
    rows = []
    for label, half in (("tune", tune), ("report", report)):
        qv = encoder.encode([q.q for q in half[:n]])
        true_scores, _ = exact.search(qv, 10)
        faiss.omp_set_num_threads(1)
        t_exact = median_time(lambda: [exact.search(qv[i : i + 1], 10) for i in range(len(qv))], 1) / len(qv)
        for nprobe in (32, 128, 512):
            ivf.nprobe = nprobe
            scores, _ = ivf.search(qv, 10)
            # Repeated paragraphs tie exactly: a hit counts if it scores as high as the 10th true one.
            recall = float(np.mean((scores >= true_scores[:, 9:10] - 1e-5).sum(axis=1) / 10))
            t = median_time(lambda: [ivf.search(qv[i : i + 1], 10) for i in range(len(qv))], 1) / len(qv)
            rows.append([label, len(qv), nprobe, f"{recall:.4f}", ms(t), ms(t_exact)])
    ivf.nprobe = ann.n_probe(ivf.nlist)
    repeated = f"{len(vectors):,} passages (repeated SQuAD paragraphs), {ivf.nlist} lists\n\n" + table(
        ["questions", "n", "nprobe", "recall@10 vs exact", "IVF search ms", "exact search ms"], rows)
    return repeated + "\n\n" + _ann_distinct(vectors, encoder, tune[:n], report[:n])


def _ann_distinct(vectors, encoder, tune, report) -> str:
    """Recall where every vector is distinct: repeats tie with each other, which flatters an IVF
    index. Each vector here mixes two real passage vectors (normalised sum), as many as the
    scaled index holds, searched with the report questions."""
    import faiss

    unique = np.unique(vectors, axis=0)
    rng = np.random.default_rng(0)
    pairs = rng.integers(len(unique), size=(len(vectors), 2))
    mixed = unique[pairs[:, 0]] + unique[pairs[:, 1]]
    mixed = (mixed / np.linalg.norm(mixed, axis=1, keepdims=True)).astype(np.float32)
    exact = faiss.IndexFlatIP(mixed.shape[1])
    exact.add(mixed)
    built = ann.FaissVectorStore(mixed.shape[1])
    built.build(np.arange(len(mixed)), mixed)
    ivf = built.index
    faiss.omp_set_num_threads(1)
    rows = []
    for label, half in (("tune", tune), ("report", report)):
        qv = encoder.encode([q.q for q in half])
        _, truth = exact.search(qv, 10)
        t_exact = median_time(lambda: [exact.search(qv[i : i + 1], 10) for i in range(len(qv))], 1) / len(qv)
        for nprobe in (32, 64, 128, 256, 512):
            ivf.nprobe = nprobe
            _, ids = ivf.search(qv, 10)
            recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), truth.tolist())]))
            t = median_time(lambda: [ivf.search(qv[i : i + 1], 10) for i in range(len(qv))], 1) / len(qv)
            rows.append([label, len(qv), nprobe, f"{recall:.4f}", ms(t), ms(t_exact)])
    # HNSW beside it, for docs/scale.md (not used by qa-bot: it cannot reuse work across builds).
    started = time.perf_counter()
    hnsw = faiss.IndexHNSWFlat(mixed.shape[1], 32, faiss.METRIC_INNER_PRODUCT)
    hnsw.hnsw.efConstruction = 80
    hnsw.add(mixed)
    built_s = time.perf_counter() - started
    qv = encoder.encode([q.q for q in report])
    _, truth = exact.search(qv, 10)
    for ef in (64, 256):
        hnsw.hnsw.efSearch = ef
        _, ids = hnsw.search(qv, 10)
        recall = float(np.mean([len(set(a) & set(b)) / 10 for a, b in zip(ids.tolist(), truth.tolist())]))
        t = median_time(lambda: [hnsw.search(qv[i : i + 1], 10) for i in range(len(qv))], 1) / len(qv)
        rows.append([f"report, HNSW M=32 efSearch={ef} (built in {built_s:.0f} s)", len(qv), "-", f"{recall:.4f}",
                     ms(t), ""])
    return (f"{len(mixed):,} distinct vectors (each the normalised sum of two of the {len(unique):,} distinct "
            f"real passage vectors), {ivf.nlist} lists\n\n"
            + table(["questions", "n", "nprobe", "recall@10 vs exact", "IVF search ms", "exact search ms"], rows))


# ---------------------------------------------------------------------------- cold start, incremental


def bench_cold(work: Path, reps: int) -> str:
    index = scaled_index(work, SIZES[0])
    q = questions(1)[0]
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    rows = [["qa-bot --help", ms(median_time(lambda: subprocess.run([QA_BOT, "--help"], check=True, capture_output=True), reps))]]
    for backend in ("auto", "torch"):
        e = dict(env, QA_BOT_BACKEND=backend)
        t = median_time(lambda: subprocess.run([QA_BOT, "ask", q, "--index", str(index)], check=True, capture_output=True, env=e), reps)
        rows.append([f"qa-bot ask (first answer, encoder {backend})", ms(t)])
    rows.append(["web app: `qa-bot serve` start to first /ask answer", ms(median_time(lambda: _web_first_answer(index, q, env), reps))])
    return table(["what", "ms (median)"], rows)


def _web_first_answer(index: Path, question: str, env: dict) -> None:
    import socket

    from gradio_client import Client

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([QA_BOT, "serve", "--index", str(index), "--port", str(port)], env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                Client(f"http://127.0.0.1:{port}/", verbose=False).predict(question, api_name="/ask")
                return
            except Exception:
                time.sleep(0.1)
        raise RuntimeError("the web app did not answer within 120 s")
    finally:
        proc.kill()
        proc.wait()


def bench_incremental(work: Path, reps: int) -> str:
    articles, _ = corpora.squad()
    base = articles[:2000]
    corpus = work / "incremental" / "corpus"
    index = work / "incremental" / "index"
    subprocess.run(["rm", "-rf", str(work / "incremental")], check=True)
    save_articles(corpus, base)
    encoder = make_encoder()
    build_index(corpus, index, encoder)
    extra = corpora.wikinews()[0]
    add_times, noop_times, embedded = [], [], 0
    for _ in range(reps):
        save_articles(corpus, [extra])
        start = time.perf_counter()
        report = build_index(corpus, index, encoder)
        add_times.append(time.perf_counter() - start)
        embedded = report.embedded_texts
        start = time.perf_counter()
        build_index(corpus, index, encoder)
        noop_times.append(time.perf_counter() - start)
        (corpus / f"{extra.id}.md").unlink()
        build_index(corpus, index, encoder)
    env = dict(os.environ, HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    cli = median_time(lambda: subprocess.run([QA_BOT, "build", "--corpus", str(corpus), "--index", str(index)],
                                             check=True, capture_output=True, env=env), reps)
    return table(["what (index of 2,000 SQuAD articles)", "seconds (median)"], [
        [f"add one article (Wikinews, {embedded} texts embedded), model loaded", f"{statistics.median(add_times):.2f}"],
        ["rebuild with nothing changed, model loaded", f"{statistics.median(noop_times):.2f}"],
        ["`qa-bot build` with nothing changed, whole process (model load included)", f"{cli:.2f}"],
    ])


# ---------------------------------------------------------------------------- peer: txtai


def bench_peer(work: Path, reps: int, n: int) -> str:
    from txtai import Embeddings

    articles, _ = corpora.squad()
    p_texts, _ = embedded_texts(articles)
    qs = questions(n)
    model = resolve_model("all-MiniLM-L6-v2")

    def txtai_build():
        emb = Embeddings(path=model, backend="faiss", hybrid=True, content=False)
        emb.index([(i, t, None) for i, t in enumerate(p_texts)])
        return emb

    t_txtai = median_time(txtai_build, reps)
    emb = txtai_build()
    for q in qs[:10]:
        emb.search(q, 5)
    txtai_lat = []
    for q in qs:
        start = time.perf_counter()
        emb.search(q, 5)
        txtai_lat.append(time.perf_counter() - start)

    corpus = work / "build" / "SQuAD" / "corpus"
    if not corpus.exists():
        save_articles(corpus, articles)
    rows = [["txtai 9 (hybrid, faiss, torch)", len(p_texts), f"{t_txtai:.1f}", f"{len(p_texts) / t_txtai:.1f}",
             ms(np.median(txtai_lat)), ms(np.percentile(txtai_lat, 95)), "5 passages"]]
    for backend in ("onnx", "onnx-int8", "torch"):  # the default, the fast opt-in, and PyTorch
        encoder = make_encoder(backend=backend)
        encoder.warm_up()
        index = work / "peer" / backend

        def ours(encoder=encoder, index=index):
            subprocess.run(["rm", "-rf", str(index)], check=True)
            build_index(corpus, index, encoder)

        t_ours = median_time(ours, reps)
        bot = QABot.load(index, encoder=encoder)
        for q in qs[:10]:
            bot.ask(q)
        lat = []
        for q in qs:
            start = time.perf_counter()
            bot.ask(q)
            lat.append(time.perf_counter() - start)
        rows.append([f"qa-bot ({backend}; sentence vectors pooled from the passages)", len(p_texts), f"{t_ours:.1f}",
                     f"{len(p_texts) / t_ours:.1f}", ms(np.median(lat)), ms(np.percentile(lat, 95)), "quotes with citations"])
    return table(["system", "passages", "index s", "passages/s", "query p50 ms", "query p95 ms", "returns"], rows)


# ---------------------------------------------------------------------------- main


def header() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    mem = int(Path("/proc/meminfo").read_text().split()[1]) / 2**20
    return (f"{dt.date.today().isoformat()}, {os.cpu_count()} cores ({cpu}), {mem:.0f} GiB, "
            f"Python {platform.python_version()}, command: python -m benchmarks.perf {' '.join(sys.argv[1:])}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=["all", "build", "encoder", "query", "query-one", "ann", "cold", "incremental", "peer", "tokens"])
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-perf"))
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--n", type=int, default=300, help="questions per latency measurement")
    parser.add_argument("--size", type=int, default=SIZES[0])
    args = parser.parse_args()
    corpora.require_shared()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    if args.what == "query-one":
        print(json.dumps(bench_query_one(args.work, args.size, args.n)))
        return
    print(header(), flush=True)
    steps = {
        "encoder": lambda: bench_encoder(args.reps),
        "build": lambda: bench_build(args.work, args.reps),
        "query": lambda: bench_query(args.work, args.n),
        "ann": lambda: bench_ann(args.work, args.n),
        "cold": lambda: bench_cold(args.work, args.reps),
        "incremental": lambda: bench_incremental(args.work, args.reps),
        "peer": lambda: bench_peer(args.work, args.reps, args.n),
        "tokens": lambda: bench_tokens(args.work, args.n),
    }
    for name, step in steps.items():
        if args.what in (name, "all"):
            started = time.perf_counter()
            print(f"\n### {name}\n\n{step()}\n\n({time.perf_counter() - started:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
