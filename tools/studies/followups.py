"""Follow-up questions in the chat: does a question that stands alone get what it gets alone, and is
a real follow-up resolved? (docs/quality.md, "Follow-up questions")

    python -m tools.studies.followups [--index /tmp/qa-followups]

Data: ``tools/studies/followup_conversations.jsonl``, 45 two-turn conversations on the shipped
article, written (with the strings a right quote holds) before the rule of ``app/followup.py`` was
run on them: 24 whose second question stands alone ("Who claimed responsibility?" after "How many
people were killed?") and 21 whose second question leans on the first ("How many of them were
civilians?"). Each second question is asked three ways with the real model: alone (a new chat),
by the rule shipped before (commit 539d01b: any short question opening with who/when/why/…, any
pronoun or "the attacks", and two words or fewer, were read with the earlier question appended),
and by the rule that ships now (``ask_in_conversation``). Nothing here was tuned on these
conversations.
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

from qa_bot.app.followup import ask_in_conversation, needs_context
from qa_bot.bot import QABot
from qa_bot.evaluation.run import contains_gold

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONVERSATIONS = HERE / "followup_conversations.jsonl"

# The rule of commit 539d01b (app/followup.py then), kept here as the baseline it is.
_OLD_PRONOUN = re.compile(
    r"\b(it|its|it's|they|them|their|theirs|he|him|his|she|her|hers|this|that|these|those|"
    r"there|then|the same|the group|the attack|the attacks|the event|such)\b", re.I)
_OLD_CONTINUATION = re.compile(r"^\W*(and|but|also|so|what about|how about|why|when|where|who)\b", re.I)


def old_is_followup(question: str) -> bool:
    words = question.split()
    if len(words) <= 4 and _OLD_CONTINUATION.match(question):
        return True
    return bool(_OLD_PRONOUN.search(question)) or len(words) <= 2


def first_quote(answer) -> str:
    return answer.quotes[0].text if answer.answered else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, default=Path("/tmp/qa-followups"))
    args = parser.parse_args()
    bot = QABot.from_corpus(ROOT / "corpus", args.index)
    rows = [json.loads(line) for line in CONVERSATIONS.read_text(encoding="utf-8").splitlines() if line.strip()]
    results = {"standalone": [], "followup": []}
    for row in rows:
        first, second, gold = row["first"], row["second"], row["gold"]
        alone = bot.ask(second)
        old = bot.ask(f"{second} ({first})") if old_is_followup(second) else alone
        new, reading = ask_in_conversation(bot, second, [first])
        results[row["kind"]].append({
            "detected_old": old_is_followup(second), "detected_new": needs_context(second),
            "read_with_first": reading.earlier is not None,
            "same_as_alone_old": first_quote(old) == first_quote(alone),
            "same_as_alone_new": first_quote(new) == first_quote(alone),
            "right_alone": contains_gold(first_quote(alone), gold),
            "right_old": contains_gold(first_quote(old), gold),
            "right_new": contains_gold(first_quote(new), gold),
            "question": second,
        })

    def share(kind: str, key: str) -> str:
        cells = results[kind]
        return f"{sum(r[key] for r in cells)} / {len(cells)}"

    print(f"{len(rows)} conversations: {len(results['standalone'])} whose second question stands alone, "
          f"{len(results['followup'])} whose second question is a follow-up\n")
    print("| rule | stands alone: taken as a follow-up | stands alone: first quote as when asked alone "
          "| stands alone: first quote right | follow-up: read with the first question | follow-up: first quote right |")
    print("|---|---|---|---|---|---|")
    print(f"| none (every question asked alone) | 0 / {len(results['standalone'])} | "
          f"{len(results['standalone'])} / {len(results['standalone'])} | {share('standalone', 'right_alone')} | "
          f"0 / {len(results['followup'])} | {share('followup', 'right_alone')} |")
    print(f"| before (commit 539d01b) | {share('standalone', 'detected_old')} | {share('standalone', 'same_as_alone_old')} "
          f"| {share('standalone', 'right_old')} | {share('followup', 'detected_old')} | {share('followup', 'right_old')} |")
    print(f"| now (needs_context, better-supported reading) | {share('standalone', 'read_with_first')} | "
          f"{share('standalone', 'same_as_alone_new')} | {share('standalone', 'right_new')} | "
          f"{share('followup', 'read_with_first')} | {share('followup', 'right_new')} |")
    print(f"\nneeds_context: {share('standalone', 'detected_new')} standalone questions flagged, "
          f"{share('followup', 'detected_new')} follow-ups flagged")
    for kind in ("standalone", "followup"):
        for r in results[kind]:
            if (kind == "standalone" and not r["same_as_alone_new"]) or (kind == "followup" and not r["right_new"]):
                print(f"  {kind} not as hoped: {r['question']!r} (flagged {r['detected_new']}, read with the "
                      f"first {r['read_with_first']}, right alone {r['right_alone']})")


if __name__ == "__main__":
    main()
