"""Follow-up questions in a conversation: complete a short or pronoun-led question from the
question before it, so that retrieval sees what the reader means.

After "How many people were killed?", the follow-up "How many of them were civilians?" is asked
as "How many of them were civilians? (How many people were killed?)": the earlier question
supplies the referent of "them" to both the dense and the BM25 ranker, while the follow-up's own
words still decide which sentence answers it.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from ..retrieval.question import MAX_QUESTION_CHARS

_PRONOUN = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|"
    r"there|then|the same|the group|the attack|the attacks|the event|such)\b",
    re.I,
)
_CONTINUATION = re.compile(r"^\W*(and|but|also|so|what about|how about|why|when|where|who)\b", re.I)
SHORT_WORDS = 4


def is_followup(question: str) -> bool:
    """True for a question that leans on an earlier one: a pronoun, a continuation, or very short."""
    words = question.split()
    if len(words) <= SHORT_WORDS and _CONTINUATION.match(question):
        return True
    return bool(_PRONOUN.search(question)) or len(words) <= 2


MAX_CONTEXT_CHARS = 300


def contextualize(question: str, previous: Sequence[str]) -> str:
    """The question to retrieve with.

    Args:
        question: the user's new question.
        previous: the questions asked before it, oldest first, each as it was retrieved with
            (so a chain of follow-ups keeps the first question's subject).
    """
    earlier = [q.strip() for q in previous if q and q.strip()]
    if not earlier or not is_followup(question):
        return question
    combined = f"{question.strip()} ({earlier[-1][:MAX_CONTEXT_CHARS]})"
    return combined if len(combined) <= MAX_QUESTION_CHARS else question
