"""Misspelt words in questions, read as the corpus word the reader meant ("Sigimund" -> "Sigismund").

A word of a question is taken as misspelt when it has four letters or more, neither the corpus nor
an English word list holds it (symspellpy's frequency dictionary, 82,765 words, so that "tore" is
not read as "more"), and none of its stems is a term of the corpus. Its correction is the corpus
word within one edit of it (two for a word of eight letters or more) that the corpus uses most
and that is not a stop word, found with SymSpell (Garbe 2012, symmetric delete; the symspellpy
package). A word with no such neighbour is left as it is.

Like an expanded acronym (acronyms.py), the corrected question is a second reading: the bot
searches with both, scores each sentence by the better one, and counts a sentence holding the
correction as holding the reader's word. A wrong correction therefore adds a reading; it cannot
take away the question as written. The question shown to the reader is never changed; the
answer names the words so read (``Answer.read_as``: "Also read “Pehsawar” as “Peshawar”.").
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from symspellpy import SymSpell, Verbosity

from ..store.lexical import tokenize

if TYPE_CHECKING:
    from ..store.data import IndexData

# A word: letters, with an inner apostrophe ("Sigismund's", "don't").
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_POSSESSIVE = re.compile(r"['’]s$", re.IGNORECASE)
_ENGLISH = "frequency_dictionary_en_82_765.txt"
MIN_LETTERS = 4  # shorter words are left alone: too many real words lie one edit apart
LONG_WORD = 8  # a word this long may be two edits from its correction


@cache
def english_by_frequency() -> tuple[str, ...]:
    """The lower-cased words of symspellpy's English frequency dictionary, most frequent first."""
    text = files("symspellpy").joinpath(_ENGLISH).read_text(encoding="utf-8")
    return tuple(line.split(" ", 1)[0] for line in text.splitlines() if line)


@cache
def english_words() -> frozenset[str]:
    """The same words as a set."""
    return frozenset(english_by_frequency())


def words(text: str) -> list[str]:
    """The words of ``text`` (lower-cased, a possessive "'s" dropped)."""
    return [_POSSESSIVE.sub("", w) for w in _WORD.findall(text.lower())]


class Spelling:
    """Corrections of misspelt question words to words of one corpus.

    ``texts`` gives the corpus's texts and ``stem_known`` tells a term of its BM25 index. The
    vocabulary is read on the first question holding a word that neither the English word list
    nor the corpus's terms know, so a bot whose readers spell well never pays for it.
    """

    long_word = LONG_WORD

    def __init__(self, texts: Callable[[], Iterable[str]], stem_known: Callable[[str], bool]) -> None:
        self._texts = texts
        self._stem_known = stem_known
        self._english = english_words()
        self._counts: Counter[str] | None = None
        self._symspell: SymSpell | None = None
        self._lock = threading.Lock()  # the web app asks from several threads

    @classmethod
    def of(cls, data: IndexData) -> Spelling:
        """The corrections for an index: its articles' words, its BM25 terms."""
        return cls(lambda: (a.text for a in data.articles), data.lexical.knows)

    @classmethod
    def counted(cls, counts: Counter[str], stem_known: Callable[[str], bool]) -> Spelling:
        """The corrections for a corpus whose words were counted already (a served index's summary)."""
        spelling = cls(lambda: (), stem_known)
        spelling._counts = counts
        return spelling

    @property
    def counts(self) -> Counter[str]:
        """Each word of the corpus (lower-cased) with its number of uses."""
        with self._lock:
            if self._counts is None:
                counts: Counter[str] = Counter()
                for text in self._texts():
                    counts.update(words(text))
                self._counts = counts
        return self._counts

    def suspect(self, word: str) -> bool:
        """True if ``word`` (lower-cased) looks misspelt: long enough, and in neither the English
        word list, the corpus's terms (by any stem) nor the corpus."""
        if len(word) < MIN_LETTERS or word in self._english or "'" in word or "’" in word:
            return False
        stems = tokenize([word])[0]  # none for a stop word
        return bool(stems) and not any(self._stem_known(t) for t in stems) and word not in self.counts

    def correct(self, word: str) -> str | None:
        """The corpus word ``word`` (lower-cased) was most likely meant to be; None if none is near."""
        counts = self.counts
        with self._lock:
            if self._symspell is None:
                symspell = SymSpell(max_dictionary_edit_distance=2)
                for w, n in counts.items():
                    if len(w) >= MIN_LETTERS - 1:
                        symspell.create_dictionary_entry(w, n)
                self._symspell = symspell
        reach = 2 if len(word) >= self.long_word else 1
        found = self._symspell.lookup(word, Verbosity.CLOSEST, max_edit_distance=reach)
        # The most used of the nearest words that is not a stop word ("wnat" is not "what").
        return next((f.term for f in found if tokenize([f.term])[0]), None)

    def read(self, question: str) -> tuple[str, list[tuple[str, str]]]:
        """``question`` with each misspelt word replaced by its correction, and the (as written,
        corrected) pairs; no pair: ``question`` as it is."""
        pairs: dict[str, str] = {}

        def fix(match: re.Match) -> str:
            written = match.group(0)
            possessive = _POSSESSIVE.search(written)
            word = written[: possessive.start()] if possessive else written
            right = self.correct(word.lower()) if self.suspect(word.lower()) else None
            if right is None:
                return written
            pairs[word] = _like(word, right)
            return pairs[word] + (possessive.group(0) if possessive else "")

        rewritten = _WORD.sub(fix, question)
        return rewritten, sorted(pairs.items())


def _like(written: str, word: str) -> str:
    """``word`` in the case of ``written`` (capitalised, all capitals or lower-case)."""
    if written.isupper() and len(written) > 1:
        return word.upper()
    if written[:1].isupper():
        return word[:1].upper() + word[1:]
    return word

