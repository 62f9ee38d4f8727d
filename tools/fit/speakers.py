"""Fit the weights of the speech features (qa_bot/answer/speech.py: ``speaker``, ``quotation``,
``said_content``) on questions that ask what a named speaker said.

SQuAD, where the other ranking weights are fitted (tools/fit/answerer.py), has few such questions
and little attributed speech. These are fitted instead on ``speaker_questions.jsonl`` (beside this
file): 48 questions, each naming a speaker, over the shipped article and the 43 Wikinews articles
of ../shared/data/gum_wikinews.jsonl, with strings that the sentence where that speaker speaks
contains; written by someone who had not seen the rule or its output. The corpus searched is those
44 articles. The other weights are held fixed: pairwise logistic regression of the three speech
features with the score of the others as one more column, whose coefficient then divides out.

tools/fit/answerer.py calls ``fit_speech_weights`` after fitting the others; tools/studies/speakers.py
reports the result on RealTime QA q2 questions that were not used here.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa_bot.answer.features import RANK_FEATURES, SPEECH_FEATURES, linear
from qa_bot.bot import QABot
from qa_bot.corpus.files import load_corpus, save_articles
from qa_bot.corpus.ingest import read_sources
from qa_bot.evaluation.run import contains_gold

ROOT = Path(__file__).resolve().parents[2]
QUESTIONS = Path(__file__).with_name("speaker_questions.jsonl")


def speaker_questions() -> list[dict]:
    return [json.loads(line) for line in QUESTIONS.read_text(encoding="utf-8").splitlines() if line.strip()]


def speaker_candidates(work: Path, encoder=None) -> tuple[list, list[np.ndarray], list[dict]]:
    """The candidates of each speaker question over the shipped article and Wikinews, which of
    them hold a right string, and the questions."""
    corpus = work / "speakers" / "corpus"
    if not corpus.exists():
        news = [n.article for n in read_sources([str(ROOT.parent / "shared" / "data" / "gum_wikinews.jsonl")])[0]]
        save_articles(corpus, [*load_corpus(ROOT / "corpus").articles, *news])
    QABot.build(corpus, work / "speakers" / "index", encoder=encoder)
    bot = QABot.load(work / "speakers" / "index", encoder=encoder)
    bot = bot.with_config(replace(bot.config, min_confidence=0.0))
    questions = speaker_questions()
    cands = bot.candidates_batch([q["q"] for q in questions])
    labels = [np.array([contains_gold(bot.data.sentence_text(int(s)), q["right"]) for s in c.sentences], dtype=bool)
              for c, q in zip(cands, questions)]
    return cands, labels, questions


def fit_speech(features: list[np.ndarray], labels: list[np.ndarray], base: dict[str, float]) -> dict[str, float]:
    """The speech weights over the ranking weights ``base`` (held fixed)."""
    cols = [RANK_FEATURES.index(n) for n in SPEECH_FEATURES]
    rng = np.random.default_rng(0)
    diffs = []
    for f, lab in zip(features, labels):
        pos, neg = np.flatnonzero(lab), np.flatnonzero(~lab)
        if not len(pos) or not len(neg):
            continue
        score = linear(f, RANK_FEATURES, base)
        for _ in range(20):
            p, n = rng.choice(pos), rng.choice(neg)
            diffs.append(np.r_[score[p] - score[n], f[p, cols] - f[n, cols]])
    x = np.asarray(diffs)
    model = LogisticRegression(fit_intercept=False, max_iter=5000).fit(
        np.vstack([x, -x]), np.r_[np.ones(len(x)), np.zeros(len(x))]
    )
    coef = model.coef_[0]
    return {name: float(w) for name, w in zip(SPEECH_FEATURES, coef[1:] / coef[0])}


def first_right(features: np.ndarray, labels: np.ndarray, weights: dict[str, float]) -> bool:
    """Whether the best candidate under ``weights`` holds a right string."""
    return bool(len(labels)) and bool(labels[int(np.argmax(linear(features, RANK_FEATURES, weights)))])
