"""From scored candidates to an answer: non-overlapping verbatim quotes with citations, or a decline.

Each quote is a run of 1–3 whole sentences of one paragraph (``spans.quote_span``), cut from the
article text by character offsets, so it is verbatim; near-duplicates of a chosen sentence are
skipped, and each quote carries its paragraph as context and its section heading.

A question whose confidence is below the threshold is declined, and the decline says what is
true: either nothing in the articles is about the question (no candidate, or the best is below
``NOTHING_BELOW``), or there is a passage on the subject that is not a clear answer, which the
answer then holds as ``closest`` with its confidence. A decline under a filter says so.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..records import Answer, ArticleFilter, Attribution, Quote
from ..store.data import IndexData
from .attribution import attribution_at
from .candidates import Candidates, confidence
from .config import AnswerConfig
from .copies import place, wants_earliest
from .dates import resolve_dates
from .figures import find_conflict
from .naming import naming_lead
from .recency import newest_first, wants_latest
from .spans import quote_span

CONTEXT_CHARS = 900
# Below this confidence the best passage found is about something else. On the fitting data
# (the table of docs/decisions/abstention-threshold.md) one answerable question in 1,000 falls
# below it, and 88% of the questions on another topic and 80% of those on paragraphs the corpus
# lacks do.
NOTHING_BELOW = 0.05


def make_answer(data: IndexData, cand: Candidates, cfg: AnswerConfig, where: ArticleFilter | None = None) -> Answer:
    """The answer to a question from its scored candidates (searched under ``where``): its quotes,
    or a decline below the confidence threshold that says what was found."""
    read_as = list(cand.read_as)
    searched = None if where is None or where.is_empty else where
    # The articles the quotes may come from: the filter's, within the time window they were found in.
    quotable = (where or ArticleFilter()).narrowed(cand.time.start, cand.time.end) \
        if cand.time is not None and cand.time.inside else where
    found = len(cand.sentences) > 0
    if found and cand.confidence >= cfg.min_confidence:
        conflict = find_conflict(data, cand.question, cand.sentences, cand.scores, cand.ranked()) \
            if cfg.conflicts else None
        quotes = select_quotes(data, cand, cfg, quotable)
        if cfg.newest_first and wants_latest(cand.question):
            quotes = newest_first(quotes)
        return Answer(cand.question, True, None, quotes, read_as, searched=searched, time=cand.time,
                      conflict=conflict)
    closest = None
    if found and cand.confidence >= NOTHING_BELOW:
        closest = select_quotes(data, cand, replace(cfg, max_quotes=1), quotable)[0]
    return Answer(cand.question, False, decline_message(closest, searched), [], read_as, closest, searched,
                  cand.time)


def decline_message(closest: Quote | None, searched: ArticleFilter | None) -> str:
    """Why a question is declined, in words a reader can act on."""
    scope = "the articles" if searched is None else f"the {searched.describe()}"
    if closest is None:
        text = f"Nothing in {scope} is about this question."
    else:
        text = (f"I could not find a clear answer in {scope}. The closest passage, below, is a "
                f"{closest.score:.0%} match and may not answer the question.")
    if searched is not None:
        return text + " A filter is on: clear it to search every article."
    return text + (" Try rephrasing it, or ask about something the articles cover." if closest is None else "")


def select_quotes(
    data: IndexData, cand: Candidates, cfg: AnswerConfig, where: ArticleFilter | None = None
) -> list[Quote]:
    """The quotes of an answered question, best first (at most ``cfg.max_quotes``), each cited from
    the copy of its story that ``answer.copies`` prefers among those ``where`` allows."""
    earliest = wants_earliest(cand.question)
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
        passage, also_in = int(cand.passages[i]), ()
        if cfg.copies:
            placed = place(data, lo, hi, where, earliest)
            if placed.lo != lo:  # cited from another copy: its passage holds the quote's first sentence
                passage = _passage_of(data, placed.lo)
            lo, hi, also_in = placed.lo, placed.hi, placed.also_in
        quote = replace(_quote(data, lo, hi, score_conf, passage), also_in=also_in)
        if cfg.naming_leads:
            quote = replace(quote, lead=naming_lead(data, lo, hi, cand.question))
        quotes.append(quote)
    return quotes


def _passage_of(data: IndexData, s: int) -> int:
    """The first passage of sentence ``s``'s article that holds it."""
    run = data.article_passages(int(data.sentences["article"][s]))
    last = data.passages["last"][run.start : run.stop]
    return run.start + int(np.searchsorted(last, s, side="right"))


def _near_duplicate(data: IndexData, s: int, chosen: list[int], threshold: float) -> bool:
    if not chosen:
        return False
    vectors = data.sentence_vectors
    return float(np.max(vectors[chosen] @ vectors[s])) >= threshold


def _quote(data: IndexData, lo: int, hi: int, score: float, passage: int) -> Quote:
    article = data.article_of_sentence(lo)
    start, end = int(data.sentences["start"][lo]), int(data.sentences["end"][hi])
    paragraph, paragraphs = data.paragraph_position(int(data.sentences["paragraph"][lo]))
    text = article.text[start:end]
    return Quote(
        text=text, score=score, start=start, end=end,
        context=_context(data, lo, hi), article=article.citation(), section=data.heading(passage),
        paragraph=paragraph, paragraphs=paragraphs, dates=tuple(resolve_dates(text, article.published)),
        attribution=_attribution(data, lo, hi),
    )


def _attribution(data: IndexData, lo: int, hi: int) -> Attribution | None:
    """Who sentences lo..hi are attributed to: the first of them that says, read in its paragraph."""
    return next((found for i in range(lo, hi + 1) if (found := attribution_at(data, i)) is not None), None)


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
