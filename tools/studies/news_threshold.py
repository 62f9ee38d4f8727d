"""Does the answerability threshold, fitted on SQuAD paragraphs, hold on news and on small corpora?

    python -m tools.studies.news_threshold [--work /tmp/qa-news] [--articles 600] [--tiny 40]

The threshold (qa_bot/fitted/weights.json) was chosen on encyclopedic paragraphs of SQuAD dev
(tools/fit/answerer.py). Readers ask about news, and a newsroom starts with a handful of articles.
Here the shipped model is read on RealTime QA 2023 q1 (weeks 1-13: the fitting and choosing
quarter; q2 is never read here) in two settings:

- **news**: half the q1 questions (A, shuffled with a fixed seed) are asked of a corpus of their
  gold articles plus other q1 articles up to ``--articles``; the other half (B) are asked of the
  same corpus with their gold articles left out, and kept only where none of their gold strings
  stands anywhere in it (so they are unanswerable there, on news of the same weeks).
- **tiny**: ``--tiny`` A questions, each asked of a corpus of its own gold articles only (one to
  three articles); and each of as many B questions asked of one of those tiny corpora.

For each, the curve over thresholds: answerable questions answered with a right first quote,
answered wrong, declined; unanswerable questions answered; and the utility of tools/fit/answerer.py
(right - wrong - unanswerable answered, the unanswerable weighed as many as the answerable).
"""

from __future__ import annotations

import argparse
import random
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa_bot.answer.config import AnswerConfig, fitted
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.encoders.factory import make_encoder
from qa_bot.evaluation.datasets import load_realtimeqa
from qa_bot.evaluation.run import contains_gold

ROOT = Path(__file__).resolve().parents[2]
Q1 = ROOT.parent / "shared" / "data" / "realtimeqa_2023" / "q1_questions.jsonl"
THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)


def ask(bot: QABot, questions) -> list[tuple[float, bool]]:
    """(confidence, first quote right) of each question, the quotes as if every question were answered."""
    out, answer_all = [], bot.with_config(replace(bot.config, min_confidence=0.0))
    for q in questions:
        cand = bot.candidates_batch([q.q])[0]
        answer = answer_all.select(cand)
        first = answer.quotes[0].text if answer.quotes else ""
        out.append((cand.confidence, bool(q.gold) and contains_gold(first, q.gold, whole_words=True)))
    return out


def curve(pos: list[tuple[float, bool]], neg: list[tuple[float, bool]], shipped: float) -> str:
    weight = len(pos) / len(neg) if neg else 0.0
    rows = ["| threshold | right | wrong | declined | unanswerable answered | utility |", "|---|---|---|---|---|---|"]
    best = max(THRESHOLDS, key=lambda t: _utility(pos, neg, t, weight))
    for t in sorted({*THRESHOLDS.tolist(), shipped}):
        right = sum(c >= t and r for c, r in pos)
        wrong = sum(c >= t and not r for c, r in pos)
        answered_neg = sum(c >= t for c, _ in neg)
        mark = " (shipped)" if t == shipped else " (best)" if t == best else ""
        rows.append(f"| {t:.2f}{mark} | {right} | {wrong} | {len(pos) - right - wrong} | {answered_neg} / {len(neg)} "
                    f"| {_utility(pos, neg, t, weight):+.3f} |")
    return "\n".join(rows)


def _utility(pos, neg, t, weight) -> float:
    right = sum(c >= t and r for c, r in pos)
    wrong = sum(c >= t and not r for c, r in pos)
    return (right - wrong - weight * sum(c >= t for c, _ in neg)) / len(pos)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-news"))
    parser.add_argument("--articles", type=int, default=600)
    parser.add_argument("--tiny", type=int, default=40)
    parser.add_argument("--strict", action="store_true", help="read the strict answerability model")
    args = parser.parse_args()
    data = load_realtimeqa(Q1)
    by_id = {a.id: a for a in data.articles}
    questions = [q for q in data.questions if q.gold_articles]
    random.Random(0).shuffle(questions)
    a_side, b_side = questions[: len(questions) // 2], questions[len(questions) // 2 :]
    encoder = make_encoder()
    shipped = fitted(True, args.strict)[2]
    strict = args.strict

    # news: A's gold articles plus others, without any of B's gold articles
    held = {d for q in b_side for d in q.gold_articles}
    chosen = {d for q in a_side for d in q.gold_articles} - held
    others = [a.id for a in data.articles if a.id not in chosen and a.id not in held]
    random.Random(1).shuffle(others)
    chosen |= set(others[: max(0, args.articles - len(chosen))])
    corpus = [by_id[i] for i in sorted(chosen)]
    pos_q = [q for q in a_side if set(q.gold_articles) & chosen]
    neg_q = [q for q in b_side if not any(contains_gold(a.text, q.gold, whole_words=True) for a in corpus)]
    bot = _bot(corpus, args.work / "news", encoder, strict)
    print(f"## news: {len(corpus)} q1 articles; {len(pos_q)} questions answerable, {len(neg_q)} not\n")
    print(curve(ask(bot, pos_q), ask(bot, neg_q), shipped) + "\n")

    # tiny: each question's own gold articles
    pos, neg = [], []
    for n, q in enumerate(a_side[: args.tiny]):
        tiny = [by_id[i] for i in q.gold_articles]
        bot = _bot(tiny, args.work / f"tiny-{n:03d}", encoder, strict)
        pos += ask(bot, [q])
        others = [b for b in b_side if not any(contains_gold(a.text, b.gold, whole_words=True) for a in tiny)]
        neg += ask(bot, others[n % len(others) : n % len(others) + 1])
    sizes = [len(q.gold_articles) for q in a_side[: args.tiny]]
    print(f"## tiny: {len(pos)} corpora of {min(sizes)} to {max(sizes)} articles (mean {np.mean(sizes):.1f}); "
          f"{len(pos)} questions answerable, {len(neg)} not\n")
    print(curve(pos, neg, shipped))


def _bot(articles, work: Path, encoder, strict: bool) -> QABot:
    if not (work / "corpus").exists():
        save_articles(work / "corpus", articles)
    QABot.build(work / "corpus", work / "index", encoder=encoder)
    return QABot.load(work / "index", encoder=encoder, config=AnswerConfig(strict=strict))


if __name__ == "__main__":
    main()
