"""Asking an evaluation set and scoring the answers: accuracy at k, passage recall, abstention,
latency (``run_eval``), one record per question (``--details``), and the table ``qa-bot eval``
prints.

An answer is right at k when one of its first k quotes contains a gold answer string,
case-insensitively (as a whole word or number for sets scored so: RealTime QA).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from .datasets import EvalSet


def contains_gold(text: str, gold: Sequence[str], *, whole_words: bool = False) -> bool:
    """True if ``text`` holds one of the ``gold`` strings, case-insensitively; with
    ``whole_words``, not inside a longer word or number ("34" is not in "2034")."""
    low = text.lower()
    if not whole_words:
        return any(g.lower() in low for g in gold)
    return any(re.search(rf"(?<![\w]){re.escape(g.lower())}(?![\w])", low) for g in gold if g)


@dataclass(frozen=True)
class QuestionRecord:
    """One question of an evaluation run as asked and scored (``qa-bot eval --details``)."""

    system: str
    q: str
    gold: list[str] | None  # None: the corpus does not answer it
    article: str | None  # the gold article's id, where the data names one
    answered: bool
    quotes: list[str]  # the first k, best first (none when it declined)
    quote_articles: list[str]
    right: dict[int, bool]  # k -> a gold string among the first k quotes (empty when unanswerable)
    passage_hit: bool | None  # the gold article among the first k passages (None: no gold article)
    # The answerability confidence (qa-bot's systems; None for the baselines): it declines below
    # its threshold, so these records show where a threshold of one's own would fall.
    confidence: float | None

    def to_dict(self) -> dict:
        return asdict(self)


class DetailsFile:
    """Writes each ``QuestionRecord`` of a run as a JSON line (``qa-bot eval --details``): pass it
    as ``run_eval(record=...)``. Opening raises ``OSError`` where ``path`` cannot be written."""

    def __init__(self, path: Path) -> None:
        self._file = open(path, "w", encoding="utf-8")  # noqa: SIM115 (closed by __exit__)

    def __call__(self, row: dict) -> None:
        self._file.write(json.dumps(row, ensure_ascii=False) + "\n")

    def __enter__(self) -> DetailsFile:
        return self

    def __exit__(self, *exc) -> None:
        self._file.close()


@dataclass(frozen=True)
class EvalReport:
    """Figures of one evaluation run (``None`` where a figure does not apply)."""

    name: str
    system: str
    questions: int
    answerable: int
    unanswerable: int
    accuracy: dict[int, float]  # k -> share of answerable questions right at k
    passage_recall: float | None  # gold article among the first k passages
    abstention: float | None  # answered=false rate on unanswerable questions
    false_abstention: float | None  # answered=false rate on answerable questions
    # Of the answerable questions it answered, the share whose first quote holds a gold answer:
    # how far a reader can trust what it says (None when it answered none).
    answered_accuracy: float | None
    mean_quote_chars: float
    latency_ms_p50: float
    latency_ms_p95: float

    def to_dict(self) -> dict:
        return asdict(self)


def run_eval(system, eval_set: EvalSet, *, k: int = 5, progress=None, record=None) -> EvalReport:
    """Ask every question of ``eval_set`` one at a time (as a user would) and score the answers.

    ``system`` is a ``baselines.FullSystem`` or ``baselines.SentenceBaseline``. ``record``, if
    given, is called with a dict per question (``QuestionRecord``): what was asked and answered,
    and how it scored, for reading the errors one by one.
    """
    import time

    import numpy as np

    ks = sorted({1, 3, k})
    hits = {kk: 0 for kk in ks}
    recall_hits = recall_total = 0
    answered_neg = abstained_pos = answered_right = 0
    quote_chars: list[int] = []
    latencies: list[float] = []
    answerable = [q for q in eval_set.questions if q.gold]
    system.warm_up()  # latency is of warm queries; model loading is a cold-start figure
    for n, item in enumerate(eval_set.questions, 1):
        started = time.perf_counter()
        response = system.respond(item.q, k, item.as_of)
        latencies.append((time.perf_counter() - started) * 1000)
        quote_chars.extend(len(q) for q in response.quotes)
        right: dict[int, bool] = {}
        found = None
        if item.gold:
            abstained_pos += not response.answered
            right = {kk: any(contains_gold(q, item.gold, whole_words=eval_set.whole_words)
                             for q in response.quotes[:kk]) for kk in ks}
            for kk in ks:
                hits[kk] += right[kk]
            answered_right += response.answered and right[1]
            if item.article is not None:
                found = bool(set(item.gold_articles) & set(system.passages(item.q, k)))
                recall_total += 1
                recall_hits += found
        else:
            answered_neg += response.answered
        if record is not None:
            record(QuestionRecord(system.name, item.q, item.gold, item.article, response.answered,
                                  response.quotes, response.articles, right, found, response.confidence).to_dict())
        if progress is not None:
            progress(n, len(eval_set.questions))
    n_pos, n_neg = len(answerable), len(eval_set.questions) - len(answerable)
    lat = np.asarray(latencies) if latencies else np.zeros(1)
    return EvalReport(
        name=eval_set.name,
        system=system.name,
        questions=len(eval_set.questions),
        answerable=n_pos,
        unanswerable=n_neg,
        accuracy={kk: hits[kk] / n_pos if n_pos else 0.0 for kk in ks},
        passage_recall=recall_hits / recall_total if recall_total else None,
        abstention=1 - answered_neg / n_neg if n_neg else None,
        false_abstention=abstained_pos / n_pos if n_pos else None,
        answered_accuracy=answered_right / (n_pos - abstained_pos) if n_pos > abstained_pos else None,
        mean_quote_chars=float(np.mean(quote_chars)) if quote_chars else 0.0,
        latency_ms_p50=float(np.percentile(lat, 50)),
        latency_ms_p95=float(np.percentile(lat, 95)),
    )


def format_table(reports: list[EvalReport], k: int, excluded: int) -> str:
    """A plain-text table of evaluation reports, one row per system."""
    first = reports[0]
    lines = [
        f"{first.name}: {first.questions} questions ({first.answerable} answerable, {first.unanswerable} not)"
        + (f"; {excluded} questions on paragraphs used for fitting not scored" if excluded else "")
    ]
    ks = sorted(first.accuracy)
    width = max(12, *(len(r.system) + 2 for r in reports))
    head = ("system".ljust(width) + "".join(f"acc@{kk:<4}" for kk in ks)
            + f"recall@{k}  abstain  false-abst  answered-acc@1  quote-chars  p50 ms  p95 ms")
    lines += [head, "-" * len(head)]

    def fmt(value) -> str:
        return "   -  " if value is None else f"{value:6.3f}"

    for r in reports:
        lines.append(
            f"{r.system:<{width}}" + "".join(f"{r.accuracy[kk]:<8.3f}" for kk in ks)
            + f"{fmt(r.passage_recall):>9}  {fmt(r.abstention):>7}  {fmt(r.false_abstention):>10}"
            + f"  {fmt(r.answered_accuracy):>14}"
            + f"  {r.mean_quote_chars:11.0f}  {r.latency_ms_p50:6.1f}  {r.latency_ms_p95:6.1f}"
        )
    return "\n".join(lines)
