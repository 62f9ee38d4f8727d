"""From scored candidates to an answer: non-overlapping verbatim quotes with citations, or a decline.

A question whose confidence is below the threshold is declined (``NO_ANSWER``). Otherwise each
quote is a run of 1–3 whole sentences of one paragraph (``spans.quote_span``), cut from the article
text by character offsets, so it is verbatim; near-duplicates of a chosen sentence are skipped, and
each quote carries its paragraph as context and its section heading.
"""

from __future__ import annotations

import numpy as np

from ..records import Answer, Quote
from ..store.data import IndexData
from .candidates import Candidates, confidence
from .config import AnswerConfig
from .spans import quote_span

CONTEXT_CHARS = 900
NO_ANSWER = (
    "The articles do not answer this question. Try rephrasing it, or ask about something the "
    "articles cover."
)


def make_answer(data: IndexData, cand: Candidates, cfg: AnswerConfig) -> Answer:
    """The answer to a question from its scored candidates: its quotes, or a decline below the
    confidence threshold (or when nothing was retrieved)."""
    read_as = list(cand.read_as)
    if not len(cand.sentences) or cand.confidence < cfg.min_confidence:
        return Answer(cand.question, False, NO_ANSWER, [], read_as)
    return Answer(cand.question, True, None, select_quotes(data, cand, cfg), read_as)


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
            lambda j: int(data.sentences["paragraph"][j]),
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
    article = data.article_of_sentence(lo)
    start, end = int(data.sentences["start"][lo]), int(data.sentences["end"][hi])
    return Quote(
        text=article.text[start:end], score=score, start=start, end=end,
        context=_context(data, lo, hi), article=article.citation(), section=data.heading(passage),
    )


def _context(data: IndexData, lo: int, hi: int) -> str:
    """The paragraph around sentences lo..hi, trimmed to whole sentences near the quote if long."""
    text = data.article_of_sentence(lo).text
    paragraph, starts, ends = data.sentences["paragraph"], data.sentences["start"], data.sentences["end"]
    p_start = int(data.paragraphs["start"][paragraph[lo]])
    p_end = int(data.paragraphs["end"][paragraph[hi]])
    if p_end - p_start <= CONTEXT_CHARS:
        return text[p_start:p_end]
    first, last = lo, hi

    def same(j: int) -> bool:
        return 0 <= j < len(data.sentences) and paragraph[j] == paragraph[lo]

    if same(first - 1):
        first -= 1
    if same(last + 1):
        last += 1
    return text[int(starts[first]) : int(ends[last])]
