"""Evaluation data: question files and public QA sets (SQuAD, MRQA, NewsQA, RealTime QA) read as
one corpus of articles with questions, minus the questions the answerer was fitted on.

"Open-corpus sentence QA" (see ../shared/data/README.md): every paragraph of a data set becomes
one article of one corpus, and each question is asked against the whole corpus (``run.py``).
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

from ..errors import ArticleError
from ..records import Article


@dataclass(frozen=True)
class EvalQuestion:
    """A question, its gold strings (None: the corpus does not answer it) and its gold article(s)."""

    q: str
    gold: list[str] | None
    article: str | None = None
    also: tuple[str, ...] = ()  # further articles holding a gold string (RealTime QA names several)
    as_of: str | None = None  # the date the question was asked on (YYYY-MM-DD), where the data says

    @property
    def gold_articles(self) -> tuple[str, ...]:
        return () if self.article is None else (self.article, *self.also)


@dataclass(frozen=True)
class EvalSet:
    """Questions, plus the articles they are asked against (empty for a plain question file)."""

    name: str
    questions: list[EvalQuestion]
    articles: list[Article]
    # Gold strings match as whole words and numbers ("34" is not found in "2034", "Bills" not in
    # "Billsmen"), on every set; False matches substrings, as figures before 2026-12-07 were scored.
    whole_words: bool = True


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
                raise ArticleError(
                    f"{path}:{n}", f"not a question line ({exc}); expected {{\"q\": ..., \"gold\": [...] or null}}"
                ) from None
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


def realtimeqa_articles(questions: Path) -> Path:
    """The articles file beside a RealTime QA questions file (``q1_questions.jsonl`` ->
    ``q1_articles.jsonl.gz``)."""
    return questions.with_name(questions.name.replace("_questions.jsonl", "_articles.jsonl.gz"))


def read_realtimeqa_articles(path: Path, limit: int | None = None) -> list[Article]:
    """The articles of a RealTime QA articles file (the first ``limit``), their paragraphs one
    blank line apart."""
    articles = []
    with _open(path) as handle:
        for line in handle:
            if limit is not None and len(articles) == limit:
                break
            item = json.loads(line)
            paragraphs = [p.strip() for p in item["text"].split("\n") if p.strip()]
            articles.append(Article(
                id=item["id"], title=item.get("title") or item["id"], text="\n\n".join(paragraphs),
                source=item.get("source", ""), url=item.get("url", ""), published=item.get("published", ""),
                author=item.get("author", ""),
            ))
    return articles


def load_realtimeqa(path: Path) -> EvalSet:
    """A RealTime QA 2023 quarter: its questions (``q``, ``gold``, ``as_of``, ``docs``) asked of
    all its articles (``id``, ``title``, ``source``, ``url``, ``published``, ``author``, ``text``)
    as one corpus; gold strings match as whole words."""
    source = realtimeqa_articles(path)
    if not source.is_file():
        raise ArticleError(str(path), f"RealTime QA questions need their articles beside them: {source} not found")
    articles = read_realtimeqa_articles(source)
    questions = []
    with _open(path) as handle:
        for line in handle:
            if line.strip():
                item = json.loads(line)
                docs = tuple(item.get("docs") or ())
                questions.append(EvalQuestion(item["q"], list(item["gold"]), docs[0] if docs else None, docs[1:],
                                              item.get("as_of")))
    return EvalSet(path.name, questions, articles)


def load_eval_set(path: str | Path) -> EvalSet:
    """Pick the loader from the file: question JSONL, SQuAD JSON, MRQA JSONL(.gz), NewsQA or a
    RealTime QA quarter's questions."""
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
    if '"as_of"' in first and '"docs"' in first:
        return load_realtimeqa(path)
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
