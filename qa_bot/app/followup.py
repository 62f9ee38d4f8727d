"""Follow-up questions in a conversation: read a question with the one before it only when it cannot
stand alone, and keep whichever reading the articles support better.

A question leans on an earlier one when it holds a pronoun with nothing in the question it could
refer to ("How many of *them* were civilians?", "What did *he* say?", "Why does *it* attack
Chinese citizens?"), a demonstrative that ends it ("When was *that*?"), or when it is an ellipsis
("And security personnel?", "Why?"). A definite noun phrase ("the attacks", "the group") is not
enough: in a corpus of news it names something on its own. Such a question is then read two
ways, as written and with the earlier question in parentheses, and the reading whose best
sentence the answerability model trusts more is kept; the reader is told which
("Read as a follow-up to …") and can ask it on its own instead.

A question that stands alone is never rewritten: "Who claimed responsibility?" after "How many
people were killed?" gets what it gets when asked first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..records import Answer, ArticleFilter
from ..retrieval.question import MAX_QUESTION_CHARS

if TYPE_CHECKING:
    from ..bot import QABot

# Personal pronouns: they need a referent. Possessives too ("its record", "their demands").
_PERSONAL = re.compile(r"\b(it|its|itself|they|them|their|theirs|themselves|he|him|his|she|her|hers)\b", re.I)
# Demonstratives and adverbs that refer back only when they end the question ("Why did he say that?",
# "What happened there?"); before a noun they are determiners ("this week", "those attacks").
_DEICTIC_END = re.compile(r"\b(this|that|these|those|there|then)\s*[?.!]*\s*$", re.I)
_ELLIPSIS = re.compile(r"^\W*(and|but|also|so|what about|how about|and what about)\b", re.I)
# Something a pronoun could refer to inside the question itself: a capitalised word that does not
# open it (a name), or an acronym.
_NAME = re.compile(r"(?<=\S\s)[A-Z][\w’'-]+|\b[A-Z]{2,}\b")
MAX_CONTEXT_CHARS = 300


def needs_context(question: str) -> bool:
    """True for a question that cannot stand alone: an unresolved pronoun, a demonstrative that
    ends it, an ellipsis, or two words or fewer."""
    text = question.strip()
    if len(text.split()) <= 2 or _ELLIPSIS.match(text) or _DEICTIC_END.search(text):
        return True
    pronoun = _PERSONAL.search(text)
    return pronoun is not None and not _NAME.search(text[: pronoun.start()])


def contextualize(question: str, previous: Sequence[str]) -> str:
    """The question read with the one before it, "How many of them were civilians? (How many
    people were killed?)", if it needs it and fits the length limit; else the question as is.

    Args:
        question: the reader's new question.
        previous: the questions asked before it, oldest first, each as it was read (so a chain
            of follow-ups keeps the first question's subject).
    """
    earlier = _last(previous)
    if earlier is None or not needs_context(question):
        return question
    combined = f"{question.strip()} ({earlier[:MAX_CONTEXT_CHARS]})"
    return combined if len(combined) <= MAX_QUESTION_CHARS else question


def _last(previous: Sequence[str]) -> str | None:
    """The latest earlier question that is not blank, stripped (None: there is none)."""
    earlier = [q.strip() for q in previous if q and q.strip()]
    return earlier[-1] if earlier else None


@dataclass(frozen=True)
class Reading:
    """How a question of a conversation was read."""

    searched: str  # what was searched: the question, or it with the earlier one
    earlier: str | None  # the earlier question it was read with (None: on its own)


def ask_in_conversation(
    bot: QABot, question: str, previous: Sequence[str], where: ArticleFilter | None = None,
    as_of: str | None = None,
) -> tuple[Answer, Reading]:
    """Answer ``question`` after ``previous`` (as read, oldest first), asked on ``as_of`` (default
    today). A question that needs context is answered both ways and the better-supported reading
    kept; the answer shows the reader's own words either way."""
    contextual = contextualize(question, previous)
    if contextual == question:
        return bot.ask(question, where=where, as_of=as_of), Reading(question, None)
    alone, together = bot.candidates_batch([question, contextual], where=where, as_of=as_of)
    if together.confidence > alone.confidence:
        answer = bot.select(replace(together, question=question), where)
        return answer, Reading(contextual, _last(previous))
    return bot.select(alone, where), Reading(question, None)
