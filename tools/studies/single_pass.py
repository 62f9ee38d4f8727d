"""Reading every token once: forward passes over windows that do not overlap, against one per passage.

    python -m tools.studies.single_pass [--questions 80] [--work /tmp/qa-single-pass]

Passages overlap by two sentences, so a build that runs the model once per passage reads every
sentence about twice. With ``embed.SINGLE_PASS`` the forward passes are windows cut like passages
but without overlap: a passage that is a window keeps the window's vector, one that straddles two
is pooled from its sentences, and each sentence's vector and token states come from its one window.
On the first ``--questions`` questions of the RealTime QA 2023 ``q1`` quarter (fitting data; the
``q2`` quarter reports), over the articles of those questions, it builds the index both ways
(wall time), then prints answer-all accuracy@1/@3 (first quotes holding a gold answer, as
``qa-bot eval`` scores them), passage recall and how many questions' first quotes differ.
"""

from __future__ import annotations

import argparse
import shutil
import time
from pathlib import Path

from qa_bot.answer.config import AnswerConfig
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.evaluation.baselines import System, make_system
from qa_bot.evaluation.datasets import EvalSet, load_realtimeqa
from qa_bot.evaluation.run import run_eval
from qa_bot.indexing import embed

DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "realtimeqa_2023"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=80)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-single-pass"))
    args = parser.parse_args()
    quarter = load_realtimeqa(DATA / "q1_questions.jsonl")
    questions = quarter.questions[: args.questions]
    wanted = {d for q in questions for d in (q.article, *q.also) if d}
    articles = [a for a in quarter.articles if a.id in wanted]
    eval_set = EvalSet(quarter.name, questions, articles, whole_words=True)
    corpus = args.work / "corpus"
    if not corpus.exists():
        save_articles(corpus, articles)
    print(f"{len(questions)} q1 questions over {len(articles)} articles "
          f"({sum(len(a.text) for a in articles):,} characters)")
    config = AnswerConfig(max_quotes=3, extra_quote_margin=float("inf"))
    firsts = {}
    print("| forward passes | build s | texts embedded | accuracy@1 | accuracy@3 | passage recall |")
    print("|---|---|---|---|---|---|")
    for single in (False, True):
        embed.SINGLE_PASS = single
        index = args.work / ("single" if single else "passages")
        shutil.rmtree(index, ignore_errors=True)
        started = time.perf_counter()
        report = QABot.build(corpus, index)
        seconds = time.perf_counter() - started
        bot = QABot.load(index, config=config)
        answers = []
        result = run_eval(make_system(bot, System.ANSWER_ALL), eval_set, k=3,
                          record=lambda row, answers=answers: answers.append(row))
        firsts[single] = [row["quotes"][0] if row["quotes"] else None for row in answers]
        print(f"| {'windows, every token once' if single else 'one per passage'} | {seconds:.1f} "
              f"| {report.embedded_texts} | {result.accuracy[1]:.3f} | {result.accuracy[3]:.3f} "
              f"| {result.passage_recall:.3f} |", flush=True)
    differ = sum(a != b for a, b in zip(firsts[False], firsts[True]))
    print(f"\nfirst quotes that differ: {differ} of {len(questions)}")


if __name__ == "__main__":
    main()
