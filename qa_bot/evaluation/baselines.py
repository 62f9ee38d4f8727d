"""Systems that `qa-bot eval` compares, behind one small interface.

- ``dense``: the sentences whose vectors are closest to the question (naive dense retrieval).
- ``bm25``: the sentences BM25 ranks highest.
- ``hybrid``: both sentence rankings fused by reciprocal rank fusion, no answerer.
- ``full``: qa-bot itself (passage retrieval, sentence ranking, quote spans, abstention).
- ``answer-all``: qa-bot with its abstention threshold at 0: the ranking and quotes of ``full``
  for every question, declined or not.

All use the same index, sentence splits and model, so a table of them compares like with like.
The baselines never abstain, and neither does ``answer-all``: it is the row to set beside them
for the quality of the ranking alone, while ``full`` is what a reader gets.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import Enum

import numpy as np

from ..bot import QABot
from ..retrieval.hybrid import rrf
from ..retrieval.question import clean_question
from ..store.lexical import LexicalIndex, tokenize


@dataclass(frozen=True)
class Response:
    """What a system returns for a question: quoted texts (best first) and their article ids."""

    answered: bool
    quotes: list[str]
    articles: list[str]
    confidence: float | None = None  # the answerability confidence, declined or not (None: the baselines)


class System(Enum):
    DENSE = "dense"
    BM25 = "bm25"
    HYBRID = "hybrid"
    FULL = "full"
    ANSWER_ALL = "answer-all"

    @classmethod
    def from_str(cls, name: str) -> System:
        try:
            return cls(name.strip().lower())
        except ValueError:
            raise ValueError(f"unknown system {name!r}; choose from {[s.value for s in cls]}") from None

    @classmethod
    def named(cls, names: Sequence[str]) -> list[System]:
        """The systems of ``names``, in order; "all" is every system."""
        return list(cls) if "all" in names else [cls.from_str(name) for name in names]


class FullSystem:
    """qa-bot as a user asks it, each question on its date (``as_of``) unless ``dates`` is off (the
    row "<name>, no as_of": time words are then read against today)."""

    def __init__(self, bot: QABot, name: str = System.FULL.value, *, dates: bool = True) -> None:
        self.bot, self.dates = bot, dates
        self.name = name if dates else f"{name}, no as_of"

    def warm_up(self) -> None:
        self.bot.warm_up()

    def respond(self, question: str, k: int, as_of: str | None = None) -> Response:
        # what bot.ask(question) does, keeping the confidence
        cand = self.bot.candidates_batch([question], as_of=as_of if self.dates else None)[0]
        answer = self.bot.select(cand)
        quotes = answer.quotes[:k]
        return Response(answer.answered, [q.text for q in quotes], [q.article.id for q in quotes], cand.confidence)

    def passages(self, question: str, k: int) -> list[str]:
        return [hit.article.id for hit in self.bot.search(question, k)]


class SentenceBaseline:
    """Rank every sentence of the index directly: by cosine, by BM25, or both fused."""

    def __init__(self, bot: QABot, system: System, depth: int = 50) -> None:
        self.bot, self.system, self.depth = bot, system, depth
        self.name = system.value
        data = bot.data
        self._texts = [data.sentence_text(i) for i in range(len(data.sentences))]
        # Every sentence is scored for every question: read (and checked) once, not per question.
        self._vectors = np.asarray(data.sentence_vectors) if system in (System.DENSE, System.HYBRID) else None
        self._lexical = LexicalIndex.build(self._texts) if system in (System.BM25, System.HYBRID) else None

    def warm_up(self) -> None:
        self.bot.warm_up()

    def _ranked(self, question: str, k: int) -> list[int]:
        question = clean_question(question)
        depth = min(max(k, self.depth), len(self._texts))
        lists = []
        if self.system in (System.DENSE, System.HYBRID):
            sims = self._vectors @ self.bot.encoder.encode([question])[0]
            top = np.argpartition(-sims, depth - 1)[:depth] if depth < len(sims) else np.arange(len(sims))
            lists.append(top[np.argsort(-sims[top], kind="stable")])
        if self._lexical is not None:
            lists.append(self._lexical.search(tokenize([question])[0], depth)[0])
        ranked = lists[0] if len(lists) == 1 else rrf(lists)[0]
        return [int(i) for i in ranked[:k]]

    def respond(self, question: str, k: int, as_of: str | None = None) -> Response:
        """The top ``k`` sentences (a baseline reads no dates: ``as_of`` is ignored)."""
        ids = self._ranked(question, k)
        data = self.bot.data
        return Response(bool(ids), [self._texts[i] for i in ids], [data.article_of_sentence(i).id for i in ids])

    def passages(self, question: str, k: int) -> list[str]:
        return self.respond(question, k).articles


def make_system(bot: QABot, system: System, *, dates: bool = True):
    """The system to score; ``dates`` off asks qa-bot's questions without their dates (the baselines read none)."""
    if system is System.FULL:
        return FullSystem(bot, dates=dates)
    if system is System.ANSWER_ALL:
        # Only the threshold differs, so where `full` answers, both give the same quotes.
        return FullSystem(bot.with_config(replace(bot.config, min_confidence=0.0)), System.ANSWER_ALL.value,
                          dates=dates)
    return SentenceBaseline(bot, system)


def reads_dates(system: System) -> bool:
    """True for the systems that read a question's date (``as_of``): qa-bot's, not the baselines."""
    return system in (System.FULL, System.ANSWER_ALL)
