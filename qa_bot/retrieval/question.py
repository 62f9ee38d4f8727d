"""How the bot reads a question: checked and cleaned, then encoded as written and, where the
corpus allows, read a second way (an acronym the corpus defines written out, a misspelt word read
as the corpus word it was meant to be).

The second reading is searched and scored beside the first, never instead of it (acronyms.py,
spelling.py); the question shown to the reader is never changed.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..encoders.base import Encoder
from ..encoders.pooling import TokenStates
from ..errors import IndexIncompatibleError, InvalidQuestionError
from ..store.data import IndexData
from ..store.lexical import tokenize
from .spelling import Spelling

MAX_QUESTION_CHARS = 1000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ufeff\ud800-\udfff]")


def clean_question(question: object) -> str:
    """The question with control characters removed and white space folded; raises if unusable."""
    if not isinstance(question, str):
        raise InvalidQuestionError(f"the question must be text, not {type(question).__name__}")
    if len(question) > MAX_QUESTION_CHARS:
        raise InvalidQuestionError(
            f"the question is {len(question):,} characters long; the limit is {MAX_QUESTION_CHARS:,}. "
            "Ask something shorter."
        )
    text = " ".join(_CONTROL.sub(" ", unicodedata.normalize("NFC", question)).split())
    if not text:
        raise InvalidQuestionError("the question is empty; type a question such as 'What does the BLA want?'")
    return text


@dataclass
class Readings:
    """Questions as the bot reads them (rows aligned): as written, and with acronyms expanded or
    misspellings corrected."""

    vectors: np.ndarray
    states: list[TokenStates | None]
    expanded: list[tuple[np.ndarray, TokenStates | None] | None]  # None: no second reading
    synonyms: list[list[tuple[list[str], list[str]]]]  # stemmed (short, long) term lists
    terms: list[list[str]]  # stemmed terms as written
    read_as: list[tuple[tuple[str, str], ...]]  # misspelt words and the corpus words they were read as

    def subset(self, rows: Sequence[int]) -> Readings:
        """The readings of the questions at ``rows``, in that order."""
        rows = list(rows)
        return Readings(self.vectors[rows], [self.states[i] for i in rows], [self.expanded[i] for i in rows],
                        [self.synonyms[i] for i in rows], [self.terms[i] for i in rows],
                        [self.read_as[i] for i in rows])


class QuestionReader:
    """Reads questions against one index: its acronyms, its spelling corrections and the encoder it
    was built with (whose vectors must have the index's dimension)."""

    def __init__(self, data: IndexData, encoder: Encoder, *, spelling: Spelling | None = None) -> None:
        self.data = data
        self.encoder = encoder
        self.spelling = spelling or Spelling.of(data)
        self._dimension_checked = False

    def read(
        self, questions: Sequence[str], *, tokens: bool = False, correct_spelling: bool = True,
        expand_acronyms: bool = True,
    ) -> Readings:
        """The questions' vectors, token states and terms; for a question naming an acronym the
        corpus defines (or spelling one out) or misspelling a word of the corpus, also the reading
        with the other form or the correction, and the pairs of terms that name the same thing."""
        acronyms = self.data.acronyms
        rewritten: dict[int, tuple[str, list[tuple[str, str]]]] = {}
        read_as: list[tuple[tuple[str, str], ...]] = [()] * len(questions)
        for i, text in enumerate(questions):
            pairs: list[tuple[str, str]] = []
            if correct_spelling:
                text, typos = self.spelling.read(text)
                pairs += typos
                read_as[i] = tuple(typos)
            if expand_acronyms and len(acronyms):
                text, forms = acronyms.read(text)
                pairs += forms
            if pairs:
                rewritten[i] = (text, pairs)
        # Both readings go through the model in one call.
        n = len(questions)
        vectors, states = self.encode(list(questions) + [text for text, _ in rewritten.values()], tokens=tokens)
        expanded: list[tuple[np.ndarray, TokenStates | None] | None] = [None] * n
        synonyms: list[list[tuple[list[str], list[str]]]] = [[] for _ in questions]
        for row, (i, (_, pairs)) in enumerate(rewritten.items(), start=n):
            expanded[i] = (vectors[row], states[row])
            synonyms[i] = [(tokenize([short])[0], tokenize([long])[0]) for short, long in pairs]
        vectors, states = vectors[:n], states[:n]
        return Readings(vectors, states, expanded, synonyms, tokenize(list(questions)), read_as)

    def encode(self, texts: list[str], *, tokens: bool = False) -> tuple[np.ndarray, list[TokenStates | None]]:
        """The question vectors, and (with ``tokens``) their token states from the same pass."""
        if tokens:
            vectors, states = self.encoder.encode_tokens(texts, batch_size=32)
        else:
            vectors, states = self.encoder.encode(texts, batch_size=32), [None] * len(texts)
        if not self._dimension_checked:
            if vectors.shape[1] != self.data.dimension:
                raise IndexIncompatibleError(
                    f"model {self.encoder.name!r} gives {vectors.shape[1]}-dimensional vectors but the index"
                    f"{where(self.data)} holds {self.data.dimension}-dimensional ones; run 'qa-bot build' to rebuild"
                )
            self._dimension_checked = True
        return vectors, states


def where(data: IndexData) -> str:
    """' in DIR' for an index loaded from DIR, for messages; '' for one built in memory."""
    return f" in {data.path.parent}" if data.path is not None else ""
