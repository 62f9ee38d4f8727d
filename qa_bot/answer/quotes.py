"""Quote selection: the ranked candidates of a question become non-overlapping quotes with citations.

Each quote is a run of 1–3 whole sentences of one paragraph (``answer.quote_span``), cut from the
article text by character offsets, so it is verbatim; near-duplicates of a chosen sentence are
skipped, and each quote carries its paragraph as context and its section heading.
"""

from __future__ import annotations

import numpy as np

from .config import AnswerConfig, Candidates, confidence, quote_span
from ..store.files import IndexData
from ..records import Quote

CONTEXT_CHARS = 900


def select_quotes(data: IndexData, cand: Candidates, cfg: AnswerConfig) -> list[Quote]:
    """The quotes of an answered question, best first (at most ``cfg.max_quotes``)."""
    order = cand.ranked()
    top = float(cand.scores.max())
    score_of = dict(zip(cand.sentences.tolist(), cand.scores.tolist()))
    quotes: list[Quote] = []
    covered: set[int] = set()
    chosen: list[int] = []
    for i in order.tolist():
        s, score = int(cand.sentences[i]), float(cand.scores[i])
        if len(quotes) >= cfg.max_quotes:
            break
        # The margin bounds the *extra* quotes: the first is the best in ``order``, which with a
        # reranker may stand further below the ranker's best.
        if (quotes and score < top - cfg.extra_quote_margin) or s in covered:
            continue
        if _near_duplicate(data, s, chosen, cfg.duplicate_cosine):
            continue
        lo, hi = quote_span(
            s,
            lambda j: int(data.sentences[j, 3]),
            data.sentence_text,
            lambda j: score_of.get(j, -np.inf),
            len(data.sentences),
            max_sentences=cfg.max_quote_sentences,
        )
        span = set(range(lo, hi + 1))
        if covered & span:
            continue
        covered |= span
        chosen.append(s)
        # The question's confidence goes with its best sentence; a reranker's first pick, or a
        # later quote, gets the confidence of its own score.
        first = not quotes and score >= top
        score_conf = cand.confidence if first else confidence(cand.abstain, cfg.abstain_weights, score)
        quotes.append(_quote(data, lo, hi, score_conf, int(cand.passages[i])))
    return quotes


def _near_duplicate(data: IndexData, s: int, chosen: list[int], threshold: float) -> bool:
    if not chosen:
        return False
    vectors = data.sentence_vectors
    return float(np.max(vectors[chosen] @ vectors[s])) >= threshold


def _quote(data: IndexData, lo: int, hi: int, score: float, passage: int) -> Quote:
    article = data.articles[int(data.sentences[lo, 0])]
    start, end = int(data.sentences[lo, 1]), int(data.sentences[hi, 2])
    return Quote(
        text=article.text[start:end], score=score, start=start, end=end,
        context=_context(data, lo, hi), article=article.citation(), section=data.heading(passage),
    )


def _context(data: IndexData, lo: int, hi: int) -> str:
    """The paragraph around sentences lo..hi, trimmed to whole sentences near the quote if long."""
    text = data.articles[int(data.sentences[lo, 0])].text
    para = data.paragraphs[int(data.sentences[lo, 3])]
    p_start, p_end = int(para[1]), int(data.paragraphs[int(data.sentences[hi, 3]), 2])
    if p_end - p_start <= CONTEXT_CHARS:
        return text[p_start:p_end]
    first, last = lo, hi
    same = lambda j: 0 <= j < len(data.sentences) and data.sentences[j, 3] == data.sentences[lo, 3]  # noqa: E731
    if same(first - 1):
        first -= 1
    if same(last + 1):
        last += 1
    return text[int(data.sentences[first, 1]) : int(data.sentences[last, 2])]
