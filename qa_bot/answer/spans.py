"""How much of an article a quote takes: the best sentence, grown to at most three whole
consecutive sentences of its paragraph only where it cannot stand alone (a quotation it opens or
closes, a pronoun that needs its referent)."""

from __future__ import annotations

import re
from collections.abc import Callable

_ANAPHOR = re.compile(
    r"^\W*(it|its|they|their|them|he|his|she|her|this|these|that|those|the group|the move|such)\b", re.I
)
_STRAIGHT_OPEN = re.compile(r'(?:^|(?<=[\s(\[{—–-]))"')


def _quote_balance(text: str) -> int:
    """Quotation marks opened minus closed in ``text`` (curly, or straight told apart by position)."""
    straight = text.count('"')
    straight_open = len(_STRAIGHT_OPEN.findall(text))
    return (text.count("“") - text.count("”")) + straight_open - (straight - straight_open)


def quote_span(
    best: int,
    paragraph_of: Callable[[int], int],
    text_of: Callable[[int], str],
    score_of: Callable[[int], float],
    n_sentences: int,
    *,
    max_sentences: int = 3,
    follow_margin: float = 1.0,
) -> tuple[int, int]:
    """The run of sentences ``[lo, hi]`` (inclusive) quoted for the best sentence ``best``.

    Usually just ``best``. It grows, inside its paragraph and up to ``max_sentences``, when the
    sentence closes a quotation that an earlier sentence opened (or opens one a later sentence
    closes), when it leans on a pronoun whose referent is the sentence before, or when the next
    sentence continues it with a pronoun and scores nearly as well.
    """
    lo = hi = best
    para = paragraph_of(best)

    def same_para(i: int) -> bool:
        return 0 <= i < n_sentences and paragraph_of(i) == para

    def room() -> bool:
        return hi - lo + 1 < max_sentences

    def balance() -> int:
        return _quote_balance(" ".join(text_of(i) for i in range(lo, hi + 1)))

    # Complete a quotation only where the whole of it fits: otherwise quote the sentence alone.
    if balance() < 0:
        while room() and same_para(lo - 1) and balance() < 0:
            lo -= 1
        if balance() != 0:
            lo = best
    elif balance() > 0:
        while room() and same_para(hi + 1) and balance() > 0:
            hi += 1
        if balance() != 0:
            hi = best
    if room() and _ANAPHOR.match(text_of(lo)) and same_para(lo - 1):
        lo -= 1
    if (room() and same_para(hi + 1) and _ANAPHOR.match(text_of(hi + 1))
            and score_of(hi + 1) >= score_of(best) - follow_margin):
        hi += 1
    return lo, hi
