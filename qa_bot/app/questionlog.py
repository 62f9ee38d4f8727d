"""What readers asked, for the editors who curate the collection (opt-in: ``qa-bot serve
--log-questions FILE``).

One JSON line per question: the time (UTC), the question, whether it was answered, the confidence
(of the first quote, or of the closest passage of a decline; 0 when nothing was found), the ids of
the articles cited, and whether it came through the chat or the API. Nothing about the reader
(no address, no session, no conversation) is written, and nothing at all unless asked. Lines are
appended and flushed one at a time under a lock, so a crash loses at most the line being written
and two threads never interleave.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..records import Answer


@dataclass(frozen=True)
class Asked:
    """One logged question."""

    time: str
    question: str
    answered: bool
    confidence: float
    articles: tuple[str, ...]
    via: str = ""


class QuestionLog:
    """Appends a line per question to ``path`` (created with its directory if missing)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("a", encoding="utf-8")
        self._lock = threading.Lock()

    def record(self, answer: Answer, via: str = "") -> None:
        shown = answer.quotes[0] if answer.quotes else answer.closest
        cited = [q.article.id for q in answer.quotes] if answer.answered else []
        line = {
            "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "question": answer.question,
            "answered": answer.answered,
            "confidence": round(float(shown.score), 4) if shown is not None else 0.0,
            "articles": list(dict.fromkeys(cited)),
            "via": via,
        }
        text = json.dumps(line, ensure_ascii=False) + "\n"
        with self._lock:
            self._file.write(text)
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()


def read_log(path: str | Path) -> Iterator[Asked]:
    """The questions of a log, in order. A line that is not a logged question (a torn last line
    after a crash, a hand edit) raises ValueError naming its line number."""
    with Path(path).open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
                yield Asked(str(row["time"]), str(row["question"]), bool(row["answered"]),
                            float(row["confidence"]), tuple(row.get("articles", ())), str(row.get("via", "")))
            except (ValueError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}, line {number}: not a logged question ({exc})") from None
