"""Does preferring the speaker's own words (qa_bot/answer/speech.py) put the answer first for
"what did X say / how many did X claim" questions?

    python -m tools.studies.speakers [--work /tmp/qa-speakers] [--distractors 200] [--misses]

Two sets of questions, each question naming a speaker, written by people who had not seen the rule
or its output:

- fitting: tools/fit/speaker_questions.jsonl, 48 questions over the shipped article and the 43
  Wikinews articles (tools/fit/speakers.py fits the speech weights on them). Here the articles
  are split in two halves (fixed seed), the weights fitted on one half's questions and measured
  on the other's, then the other way round: an estimate on questions not fitted on.
- report: tools/studies/speaker_questions_q2.jsonl, 43 questions over 40 RealTime QA 2023 q2
  articles (CNN, USA Today; the reporting quarter), their right sentences given as character
  spans of the articles (the texts stay in ../shared). The corpus is those 40 articles and
  ``--distractors`` other q2 articles. Never used to fit or choose anything.

A first quote is right when it is one of the right sentences (or part of one). The rows: the
speech weights at zero (the ranking without them), and as shipped (qa_bot/fitted/weights.json).
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np

from qa_bot.answer.config import fitted
from qa_bot.answer.features import RANK_FEATURES, SPEECH_FEATURES
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.evaluation.datasets import load_realtimeqa
from tools.fit.speakers import first_right, fit_speech, speaker_candidates

ROOT = Path(__file__).resolve().parents[2]
REPORT = Path(__file__).with_name("speaker_questions_q2.jsonl")
Q2 = ROOT.parent / "shared" / "data" / "realtimeqa_2023" / "q2_questions.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-speakers"))
    parser.add_argument("--distractors", type=int, default=200)
    parser.add_argument("--misses", action="store_true",
                        help="print the questions whose right sentence is not read as the speaker's")
    args = parser.parse_args()
    shipped = dict(fitted(True, False)[0])
    without = {k: v for k, v in shipped.items() if k not in SPEECH_FEATURES}
    speaker = RANK_FEATURES.index("speaker")

    cands, labels, questions = speaker_candidates(args.work)
    print("## fitting questions (tools/fit/speaker_questions.jsonl), halves fitted on the other half\n")
    describe(cands, labels, [q["q"] for q in questions], speaker, args.misses)
    articles = sorted({q["article"] for q in questions})
    random.Random(0).shuffle(articles)
    halves = [set(articles[: len(articles) // 2]), set(articles[len(articles) // 2 :])]
    rows = {"speech weights at zero": [], "fitted on the other half": []}
    for held in (0, 1):
        fit = [i for i, q in enumerate(questions) if q["article"] in halves[1 - held]]
        weights = without | fit_speech([cands[i].features for i in fit], [labels[i] for i in fit], without)
        for i, q in enumerate(questions):
            if q["article"] in halves[held]:
                rows["speech weights at zero"].append(first_right(cands[i].features, labels[i], without))
                rows["fitted on the other half"].append(first_right(cands[i].features, labels[i], weights))
    table(rows)

    print("\n## report questions (tools/studies/speaker_questions_q2.jsonl), RealTime QA q2 articles\n")
    cands, labels, texts = report_candidates(args.work, args.distractors)
    describe(cands, labels, texts, speaker, args.misses)
    table({
        "speech weights at zero": [first_right(c.features, lab, without) for c, lab in zip(cands, labels)],
        "as shipped": [first_right(c.features, lab, shipped) for c, lab in zip(cands, labels)],
    })


def report_candidates(work: Path, distractors: int):
    """The report questions' candidates over their articles and ``distractors`` other q2 ones."""
    questions = [json.loads(line) for line in REPORT.read_text(encoding="utf-8").splitlines() if line.strip()]
    data = load_realtimeqa(Q2)
    raw = {}  # the right sentences, from the articles' text as distributed (the spans index it)
    with gzip.open(Q2.with_name("q2_articles.jsonl.gz"), "rt", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            raw[item["id"]] = item["text"]
    wanted = {q["article"] for q in questions}
    others = sorted(a.id for a in data.articles if a.id not in wanted)
    random.Random(2).shuffle(others)
    keep = wanted | set(others[:distractors])
    corpus = work / f"q2-{distractors}" / "corpus"
    if not corpus.exists():
        save_articles(corpus, [a for a in data.articles if a.id in keep])
    QABot.build(corpus, corpus.parent / "index")
    bot = QABot.load(corpus.parent / "index")
    bot = bot.with_config(replace(bot.config, min_confidence=0.0))
    cands = bot.candidates_batch([q["q"] for q in questions])
    labels = []
    for c, q in zip(cands, questions):
        right = [_norm(raw[q["article"]][a:b]) for a, b in q["spans"]]
        labels.append(np.array([bot.data.article_of_sentence(int(s)).id == q["article"]
                                and any(_norm(bot.data.sentence_text(int(s))) in r for r in right)
                                for s in c.sentences], dtype=bool))
    return cands, labels, [q["q"] for q in questions]


def _norm(text: str) -> str:
    return " ".join(text.split())


def describe(cands, labels, texts, speaker: int, misses: bool) -> None:
    found = [i for i, lab in enumerate(labels) if lab.any()]
    read = [i for i in found if cands[i].features[labels[i], speaker].max() > 0]
    print(f"{len(texts)} questions; a right sentence among the candidates for {len(found)}; "
          f"read as the speaker's words (speech.py): {len(read)} of those\n")
    if misses:
        for i in sorted(set(found) - set(read)):
            print("  not read as the speaker's:", texts[i])
        print()


def table(rows: dict[str, list[bool]]) -> None:
    print("| speech weights | first quote right |\n|---|---|")
    for name, right in rows.items():
        print(f"| {name} | {sum(right)} / {len(right)} |")


if __name__ == "__main__":
    main()
