"""``qa-bot report LOG``: what readers asked that the articles could not answer, as a to-do list
for the editors (the log is ``qa-bot serve --log-questions``'s, ``questionlog.py``).

Two lists. The declined questions, grouped by topic, the most asked topic first: questions that
say the same thing in other words ("How many Chinese workers were killed?", "how many chinese
workers died") are one topic, however they are capitalised or punctuated. And the questions
answered with low confidence, lowest first, with the articles they were answered from: answers
an editor may want to check, or articles that cover a topic too thinly.

Grouping reads the questions with the index's embedding model: two questions are one topic when
the cosine of their vectors is at least ``SAME_TOPIC``, joined greedily to the most asked topic
they are close to (a question never joins a topic through a third question only).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from .questionlog import Asked

if TYPE_CHECKING:
    from ..encoders.base import Encoder

# Cosine at which two questions are one topic for all-MiniLM-L6-v2: paraphrases of one question
# score 0.8 and more, questions on one subject asking different things 0.55 to 0.75 (the report
# test holds examples of both); another model may want another value (``--same-topic``).
SAME_TOPIC = 0.7
LOW_CONFIDENCE = 0.6  # answered at less than this: listed for checking
_WORDS = re.compile(r"\w+")


@dataclass
class Topic:
    """Declined questions on one subject: ``asked`` is how often, ``wordings`` each distinct
    wording with its count, most asked first."""

    asked: int = 0
    wordings: list[tuple[str, int]] = field(default_factory=list)

    @property
    def question(self) -> str:
        return self.wordings[0][0]


@dataclass(frozen=True)
class Report:
    questions: int
    declined: int
    topics: list[Topic]
    low: list[Asked]  # answered below the low-confidence bound, lowest first
    low_bound: float


def _key(question: str) -> str:
    return " ".join(_WORDS.findall(question.lower()))


def make_report(log: list[Asked], encoder: Encoder, *, same_topic: float = SAME_TOPIC,
                low_confidence: float = LOW_CONFIDENCE) -> Report:
    """The report of the logged questions ``log``."""
    declined = [a for a in log if not a.answered]
    # Wordings that differ only in case and punctuation are one, shown as first written.
    counts: Counter[str] = Counter(_key(a.question) for a in declined)
    shown: dict[str, str] = {}
    for a in declined:
        shown.setdefault(_key(a.question), a.question.strip())
    keys = sorted(counts, key=lambda k: (-counts[k], k))
    topics: list[Topic] = []
    if keys:
        vectors = encoder.encode([shown[k] for k in keys])
        leaders: list[int] = []  # per topic, the row of its most asked wording
        for row, key in enumerate(keys):
            best, best_cos = None, same_topic
            for t, lead in enumerate(leaders):
                cos = float(vectors[row] @ vectors[lead])
                if cos >= best_cos:
                    best, best_cos = t, cos
            if best is None:
                leaders.append(row)
                topics.append(Topic())
                best = len(topics) - 1
            topics[best].asked += counts[key]
            topics[best].wordings.append((shown[key], counts[key]))
        topics.sort(key=lambda t: (-t.asked, t.question.lower()))
    low = sorted((a for a in log if a.answered and a.confidence < low_confidence), key=lambda a: a.confidence)
    return Report(len(log), len(declined), topics, low, low_confidence)


def format_report(report: Report, *, limit: int = 50) -> str:
    """The report as text for a terminal (``limit`` topics and low-confidence answers at most)."""
    lines = [f"{report.questions} questions logged, {report.declined} declined "
             f"({len(report.topics)} topics), {len(report.low)} answered with confidence under "
             f"{report.low_bound:.0%}.", ""]
    lines.append("Declined, by topic (most asked first): what the articles do not cover")
    if not report.topics:
        lines.append("  (none)")
    for topic in report.topics[:limit]:
        lines.append(f"  {topic.asked:>4}×  {topic.question}")
        for wording, n in topic.wordings[1:4]:
            lines.append(f"         also{'' if n == 1 else f' ({n}×)'}: {wording}")
        if len(topic.wordings) > 4:
            lines.append(f"         and {len(topic.wordings) - 4} more wordings")
    if len(report.topics) > limit:
        lines.append(f"  … {len(report.topics) - limit} more topics (--limit)")
    lines += ["", "Answered with low confidence (lowest first): answers to check"]
    if not report.low:
        lines.append("  (none)")
    for a in report.low[:limit]:
        cited = ", ".join(a.articles) or "no article"
        lines.append(f"  {a.confidence:>4.0%}  {a.question}  [{cited}]")
    if len(report.low) > limit:
        lines.append(f"  … {len(report.low) - limit} more (--limit)")
    return "\n".join(lines)


def report_json(report: Report) -> dict:
    return {
        "questions": report.questions,
        "declined": report.declined,
        "topics": [{"asked": t.asked, "question": t.question,
                    "wordings": [{"question": q, "asked": n} for q, n in t.wordings]} for t in report.topics],
        "low_confidence": {"below": report.low_bound,
                           "answers": [{"question": a.question, "confidence": a.confidence,
                                        "articles": list(a.articles), "time": a.time} for a in report.low]},
    }

