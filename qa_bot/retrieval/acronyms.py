"""Acronyms learned from the corpus, so "What does the BLA want?" also finds "Baloch Liberation Army".

Articles define their acronyms where they first use them: "the Baloch Liberation Army (BLA)", or
less often "the BLA (Baloch Liberation Army)". ``Acronyms.learn`` finds those definitions with the
algorithm of Schwartz & Hearst (2003, "A simple algorithm for identifying abbreviation
definitions in biomedical text"): the letters of the short form are matched, right to left, to
characters of the words before the parenthesis, and the first letter must open a word. An
acronym defined two ways keeps its most frequent long form; a tie is ambiguous and dropped.

``Acronyms.expand`` writes the other form into a question, in parentheses after the form it holds,
the way the articles write it. The bot searches with that reading (so passages using either form
are found) and scores each sentence by the better of the two readings; a sentence holding either
form counts as holding the question's term (``bot``). The question shown to the reader is never
changed.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable

# A short form: 2-10 characters, a letter first, at least two capitals ("BLA", "CPEC", "NGOs").
_SHORT = r"[A-Z][A-Za-z0-9&-]{1,9}"
_PAREN = re.compile(r"\(\s*([^()]{1,120}?)\s*\)")
_IS_SHORT = re.compile(rf"^{_SHORT}$")
_WORD = re.compile(r"[\w'’&-]+")
_SENTENCE_BREAK = re.compile(r"[.!?;:\n]\s")
_LINKING = {"a", "an", "and", "at", "for", "in", "of", "on", "the", "to"}


def _is_short_form(text: str) -> bool:
    return bool(_IS_SHORT.match(text)) and sum(c.isupper() for c in text) >= 2


def best_long_form(short: str, long: str) -> str | None:
    """The shortest end of ``long`` whose characters spell ``short`` in order, with the short
    form's first character opening a word (Schwartz & Hearst's findBestLongForm); None if none."""
    s, i = len(short) - 1, len(long) - 1
    while s >= 0:
        c = short[s].lower()
        if not c.isalnum():
            s -= 1
            continue
        while i >= 0 and (long[i].lower() != c or (s == 0 and i > 0 and long[i - 1].isalnum())):
            i -= 1
        if i < 0:
            return None
        i -= 1
        s -= 1
    start = long.rfind(" ", 0, i + 1) + 1
    return long[start:]


def _definitions(text: str) -> Iterable[tuple[str, str]]:
    """Every (short form, long form) pair defined in ``text``."""
    for match in _PAREN.finditer(text):
        inside = match.group(1)
        before = text[max(0, match.start() - 200) : match.start()]
        cut = list(_SENTENCE_BREAK.finditer(before))
        before = before[cut[-1].end() :] if cut else before
        words = _WORD.findall(before)
        if _is_short_form(inside):
            # "long form (SHORT)": look at most min(|short| + 5, 2|short|) words back.
            window = words[-min(len(inside) + 5, 2 * len(inside)) :]
            long = best_long_form(inside, " ".join(window)) if window else None
            if long and long.split()[0].lower() in _LINKING:
                # "Office of Alien Property (OAP)" matched from "of": the word before must open it.
                n = len(long.split())
                earlier = window[-n - 1] if len(window) > n else ""
                long = f"{earlier} {long}" if earlier[:1].lower() == inside[0].lower() else None
            if long and _plausible(inside, long):
                yield inside, long
        elif words and _is_short_form(words[-1]) and len(inside.split()) > 1:
            # "SHORT (long form)"
            long = best_long_form(words[-1], inside)
            if long and long == inside and _plausible(words[-1], long):
                yield words[-1], long


def _plausible(short: str, long: str) -> bool:
    """Reject matches that spell the short form out of one or two words' inner letters."""
    words = long.split()
    return len(words) >= 2 and len(long) > len(short) and short.lower() not in long.lower().split()


class Acronyms:
    """A corpus's acronyms (short form -> long form) and the question rewriting they allow."""

    def __init__(self, forms: dict[str, str] | None = None) -> None:
        self.forms = dict(forms or {})
        self._by_first_word: defaultdict[str, list[tuple[str, str]]] = defaultdict(list)
        for short, long in self.forms.items():
            self._by_first_word[long.split()[0].lower()].append((short, long))

    @classmethod
    def learn(cls, texts: Iterable[str]) -> Acronyms:
        """The acronyms the texts define, each with its most frequent long form."""
        seen: defaultdict[str, Counter] = defaultdict(Counter)
        for text in texts:
            for short, long in _definitions(text):
                seen[short][long] += 1
        forms = {}
        for short, counts in seen.items():
            (best, n), *rest = counts.most_common()
            if not rest or rest[0][1] < n:
                forms[short] = best
        return cls(forms)

    def __len__(self) -> int:
        return len(self.forms)

    def expand(self, question: str) -> str:
        """``question`` with each known acronym followed by its long form in parentheses, and each
        long form followed by its acronym, unless the question already holds both."""
        return self.read(question)[0]

    def read(self, question: str) -> tuple[str, list[tuple[str, str]]]:
        """``expand(question)`` and the (short, long) forms it wrote in (none: ``question`` as is)."""
        matches = self._matches(question)
        for at, text in sorted({(at, f" ({other})") for at, other, _ in matches}, reverse=True):
            question = question[:at] + text + question[at:]
        return question, sorted({pair for _, _, pair in matches})

    def _matches(self, question: str) -> list[tuple[int, str, tuple[str, str]]]:
        """(where to insert, what, the pair) for each form in ``question`` whose other form is not."""
        if not self.forms:
            return []
        out = []
        lowered = question.lower()
        for match in re.finditer(rf"\b{_SHORT}\b", question):
            short = match.group(0)
            if short not in self.forms and short.endswith("s"):
                short = short[:-1]  # "NGOs"
            long = self.forms.get(short)
            if long and long.lower() not in lowered:
                out.append((match.end(), long, (short, long)))
        for word in {w.lower() for w in _WORD.findall(question)}:
            for short, long in self._by_first_word.get(word, ()):
                at = lowered.find(long.lower())
                if at >= 0 and not re.search(rf"\b{re.escape(short)}\b", question):
                    out.append((at + len(long), short, (short, long)))
        return out
