"""How often does the first quote hold the name a news question asks for, before and after the
naming sentence (qa_bot/answer/naming.py) goes before it?

    python -m tools.studies.naming [--work /tmp/qa-q1] [--index DIR] [--quarter q1]

Asks the RealTime QA 2023 questions of a quarter (``q1``, the fitting and choosing quarter, by
default) of all its articles as one corpus, each on its date, every question answered. For the
questions that want a name (``naming.wants_name``) it counts the first quotes holding a gold
string as a whole word, alone and with their lead, and for the quotes given a lead: how many the
lead completed (the gold in the lead, not in the quote), how many already held it, how many neither.
"""

from __future__ import annotations

from dataclasses import replace

from qa_bot.answer.naming import wants_name
from qa_bot.evaluation.run import contains_gold
from tools.studies import quarter_study


def main() -> None:
    quarter, data, bot = quarter_study(__doc__)
    bot = bot.with_config(replace(bot.config, min_confidence=0.0))
    named = [q for q in data.questions if wants_name(q.q)]
    n = len(named)
    print(f"{quarter}: {len(data.questions)} questions, {n} want a name; every question answered\n")
    print("| asked | first quote holds the gold name | with its lead |")
    print("|---|---|---|")
    for dated in (True, False):
        alone = with_lead = led = completed = held = neither = 0
        examples = []
        for q in named:
            quote = bot.ask(q.q, as_of=q.as_of if dated else None).quotes[0]
            right = contains_gold(quote.text, q.gold, whole_words=True)
            lead = quote.lead.text if quote.lead is not None else ""
            alone += right
            with_lead += right or contains_gold(lead, q.gold, whole_words=True)
            if quote.lead is not None:
                led += 1
                if right:
                    held += 1
                elif contains_gold(lead, q.gold, whole_words=True):
                    completed += 1
                else:
                    neither += 1
                if len(examples) < 12:
                    examples.append(f"- {q.q} (gold {q.gold[0]!r}; lead {quote.lead.kind}): "
                                    f"{lead[:100]!r} / {quote.text[:100]!r}")
        print(f"| {'on its date (as_of)' if dated else 'without as_of'} | {alone} / {n} ({alone / n:.3f}) "
              f"| {with_lead} / {n} ({with_lead / n:.3f}) |")
        if dated:
            leads = (f"\nOn its date, {led} first quotes got a lead: it completed {completed}, the quote already "
                     f"held the name in {held}, neither held it in {neither}.\n\n" + "\n".join(examples))
    print(leads)


if __name__ == "__main__":
    main()
