"""Evaluation data: question files and public QA sets turned into corpora, and answer scoring.

"Open-corpus sentence QA" (see ../shared/data/README.md): every paragraph of a data set becomes
one article of one corpus; each question is asked against the whole corpus; an answer is right at
k when one of its first k quotes contains a gold answer string, case-insensitively.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from ..errors import ArticleError
from ..records import Article


@dataclass(frozen=True)
class EvalQuestion:
    """A question, its gold strings (None: the corpus does not answer it) and its gold article."""

    q: str
    gold: list[str] | None
    article: str | None = None


@dataclass(frozen=True)
class EvalSet:
    """Questions, plus the articles they are asked against (empty for a plain question file)."""

    name: str
    questions: list[EvalQuestion]
    articles: list[Article]


def _open(path: Path):
    return gzip.open(path, "rt", encoding="utf-8") if path.suffix == ".gz" else open(path, encoding="utf-8")


def load_question_file(path: Path) -> EvalSet:
    """JSONL of ``{"q": str, "gold": [str] | null}``."""
    questions = []
    with _open(path) as handle:
        for n, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                gold = item.get("gold")
                questions.append(EvalQuestion(str(item["q"]), None if gold is None else [str(g) for g in gold]))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ArticleError(f"{path}:{n}", f"not a question line ({exc}); expected {{\"q\": ..., \"gold\": [...] or null}}") from None
    return EvalSet(path.name, questions, [])


def load_squad(path: Path) -> EvalSet:
    """SQuAD-format JSON: one article per paragraph, titled after its Wikipedia article."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    articles, questions = [], []
    for a, doc in enumerate(data["data"]):
        for p, para in enumerate(doc["paragraphs"]):
            art_id = f"squad-{a:03d}-{p:03d}"
            title = f"{doc.get('title', 'Article').replace('_', ' ')} ({p + 1})"
            articles.append(Article(id=art_id, title=title, text=para["context"].strip(), source="SQuAD"))
            for qa in para["qas"]:
                gold = sorted({ans["text"] for ans in qa["answers"]})
                questions.append(EvalQuestion(qa["question"], gold or None, art_id))
    return EvalSet(Path(path).name, questions, articles)


def load_mrqa(path: Path) -> EvalSet:
    """MRQA JSONL(.gz): a header line, then one paragraph per line with its questions."""
    articles, questions = [], []
    with _open(Path(path)) as handle:
        for n, line in enumerate(handle):
            item = json.loads(line)
            if "header" in item:
                continue
            art_id = f"mrqa-{n:05d}"
            articles.append(Article(id=art_id, title=f"Paragraph {n}", text=item["context"].strip(), source="MRQA"))
            for qa in item["qas"]:
                gold = sorted({d["text"] for d in qa.get("detected_answers", [])} | set(qa.get("answers", [])))
                questions.append(EvalQuestion(qa["question"], gold or None, art_id))
    return EvalSet(Path(path).name, questions, articles)


def _json_objects(text: str) -> Iterator[dict]:
    """Concatenated (pretty-printed) JSON objects, one after another."""
    decoder = json.JSONDecoder()
    pos = 0
    while True:
        while pos < len(text) and text[pos].isspace():
            pos += 1
        if pos >= len(text):
            return
        obj, pos = decoder.raw_decode(text, pos)
        yield obj


def load_newsqa(path: Path) -> EvalSet:
    """The NewsQA subset: stories with questions; absent answers become ``gold=None``."""
    articles, questions = [], []
    for n, story in enumerate(_json_objects(Path(path).read_text(encoding="utf-8"))):
        art_id = f"newsqa-{n:03d}"
        paragraphs = [p.strip() for p in story["text"].split("\n") if p.strip()]
        title = paragraphs[0][:90] if paragraphs else f"Story {n}"
        articles.append(Article(id=art_id, title=title, text="\n\n".join(paragraphs), source="CNN (NewsQA)"))
        for qa in story["questions"]:
            if qa.get("is_question_bad"):
                continue
            gold = None if qa.get("is_answer_absent") else sorted(set(qa.get("answers") or [])) or None
            questions.append(EvalQuestion(qa["question"], gold, art_id))
    return EvalSet(Path(path).name, questions, articles)


def load_eval_set(path: str | Path) -> EvalSet:
    """Pick the loader from the file: question JSONL, SQuAD JSON, MRQA JSONL(.gz) or NewsQA."""
    path = Path(path)
    if not path.is_file():
        raise ArticleError(str(path), "file not found")
    name = path.name.lower()
    if name.endswith(".json"):
        return load_squad(path)
    with _open(path) as handle:
        first = handle.readline()
    if '"header"' in first:
        return load_mrqa(path)
    if first.strip() == "{" or '"doc_id"' in first:
        return load_newsqa(path)
    return load_question_file(path)


def fingerprint(text: str) -> str:
    """A short, stable id of a paragraph's text (used to record what the answerer was fitted on)."""
    import hashlib

    return hashlib.sha256(" ".join(text.split()).encode("utf-8")).hexdigest()[:16]


def without_fitted(eval_set: EvalSet, fitted: set[str]) -> tuple[EvalSet, int]:
    """The set minus the questions on paragraphs the answerer was fitted on, and how many went.

    The paragraphs stay in the corpus (as distractors); only their questions are not scored.
    """
    if not fitted or not eval_set.articles:
        return eval_set, 0
    seen = {a.id for a in eval_set.articles if fingerprint(a.text) in fitted}
    kept = [q for q in eval_set.questions if q.article not in seen]
    return EvalSet(eval_set.name, kept, eval_set.articles), len(eval_set.questions) - len(kept)


def questions_to_score(path: Path, *, include_fitted: bool = False, limit: int | None = None) -> tuple[EvalSet, int]:
    """The evaluation set in ``path`` as ``qa-bot eval`` scores it, and how many questions it
    leaves out: those on paragraphs the answerer was fitted on (unless ``include_fitted``; the
    paragraphs stay in the corpus), then all but the first ``limit``."""
    from ..answer.config import fitted_paragraphs

    eval_set, excluded = load_eval_set(path), 0
    if not include_fitted:
        eval_set, excluded = without_fitted(eval_set, fitted_paragraphs())
    if limit:
        eval_set = replace(eval_set, questions=eval_set.questions[:limit])
    return eval_set, excluded


def contains_gold(text: str, gold: Sequence[str]) -> bool:
    low = text.lower()
    return any(g.lower() in low for g in gold)


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
        self._file = open(path, "w", encoding="utf-8")

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
        response = system.respond(item.q, k)
        latencies.append((time.perf_counter() - started) * 1000)
        quote_chars.extend(len(q) for q in response.quotes)
        right: dict[int, bool] = {}
        found = None
        if item.gold:
            abstained_pos += not response.answered
            right = {kk: any(contains_gold(q, item.gold) for q in response.quotes[:kk]) for kk in ks}
            for kk in ks:
                hits[kk] += right[kk]
            answered_right += response.answered and right[1]
            if item.article is not None:
                found = item.article in system.passages(item.q, k)
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
    head = ("system      " + "".join(f"acc@{kk:<4}" for kk in ks)
            + f"recall@{k}  abstain  false-abst  answered-acc@1  quote-chars  p50 ms  p95 ms")
    lines += [head, "-" * len(head)]

    def fmt(value) -> str:
        return "   -  " if value is None else f"{value:6.3f}"

    for r in reports:
        lines.append(
            f"{r.system:<12}" + "".join(f"{r.accuracy[kk]:<8.3f}" for kk in ks)
            + f"{fmt(r.passage_recall):>9}  {fmt(r.abstention):>7}  {fmt(r.false_abstention):>10}"
            + f"  {fmt(r.answered_accuracy):>14}"
            + f"  {r.mean_quote_chars:11.0f}  {r.latency_ms_p50:6.1f}  {r.latency_ms_p95:6.1f}"
        )
    return "\n".join(lines)
