"""How precise is ``answer.attribution``: is the source it names for a sentence the one a reader
would name?

    python -m tools.studies.attribution            # precision and recall on the labelled sentences
    python -m tools.studies.attribution --sample   # print a fresh sample to label

The labels (tests/data/attribution_labels.jsonl) are sentences of the Wikinews news reports of
``../shared/data/gum_wikinews.jsonl`` (CC BY 2.5: their text is kept, with the article's id and
offsets) and of RealTime QA 2023 ``q1`` articles (research use only: article id and offsets only,
the text is read from ../shared). Each has the source a careful reader names for it ("the
Pakistani military"), or null where the sentence attributes its words to no one, or only to a
pronoun with no speaker in reach. The sentences were drawn with a fixed seed, most of them holding
a speech cue ("said", "according to", "told", "claimed"), and labelled by hand before the rules
were last changed. A predicted source is right when it names the labelled one (case and a
leading "the" aside; one may hold the other, as "Jiand Baloch" in "Jiand Baloch, the group's
spokesman").
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
from pathlib import Path

from qa_bot.answer.attribution import attribute
from qa_bot.indexing.chunking import chunk_text

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
LABELS = ROOT / "tests" / "data" / "attribution_labels.jsonl"
_CUE = re.compile(r"\b(said|says|according to|told|claimed|announced|added|stated|warned|confirmed|denied)\b", re.I)


def articles() -> dict[str, dict[str, str]]:
    """Article id -> {"text", "set"}: the Wikinews news reports and the q1 articles."""
    out = {}
    with open(DATA / "gum_wikinews.jsonl", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            if item.get("genre") == "news":
                out[item["id"]] = {"text": item["text"], "set": "wikinews"}
    with gzip.open(DATA / "realtimeqa_2023" / "q1_articles.jsonl.gz", "rt", encoding="utf-8") as handle:
        for line in handle:
            item = json.loads(line)
            out[item["id"]] = {"text": item["text"], "set": "realtimeqa_q1"}
    return out


def paragraph_of(text: str, start: int, end: int) -> tuple[list[str], int]:
    """The sentences of the paragraph holding [start, end) and the index of that sentence."""
    chunks = chunk_text(text)
    found = next(p for s, e, p in chunks.sentences if s == start and e == end)
    same = [(s, e) for s, e, p in chunks.sentences if p == found]
    return [text[s:e] for s, e in same], same.index((start, end))


def same_source(predicted: str, labelled: str) -> bool:
    def norm(x: str) -> str:
        return re.sub(r"^(the|a|an)\s+", "", " ".join(x.lower().replace("’", "'").split()))

    a, b = norm(predicted), norm(labelled)
    return bool(a) and bool(b) and (a in b or b in a)


def sample(n_cue: int, n_plain: int, only: str | None = None, seed: int = 7) -> None:
    rng = random.Random(seed)
    pool = articles()
    cue, plain = [], []
    for key, item in sorted(pool.items()):
        if only and item["set"] != only:
            continue
        text = item["text"]
        for s, e, _ in chunk_text(text).sentences:
            (cue if _CUE.search(text[s:e]) else plain).append((key, s, e))
    for key, s, e in rng.sample(cue, n_cue) + rng.sample(plain, n_plain):
        item = pool[key]
        sentences, i = paragraph_of(item["text"], s, e)
        print(json.dumps({"set": item["set"], "article": key, "start": s, "end": e, "text": item["text"][s:e],
                          "predicted": (a.source if (a := attribute(sentences, i)) else None)}, ensure_ascii=False))


def measure() -> None:
    pool = articles()
    rows = [json.loads(line) for line in LABELS.read_text(encoding="utf-8").splitlines() if line.strip()]
    predicted = right = labelled = found = 0
    wrong = []
    for row in rows:
        text = pool[row["article"]]["text"]
        sentences, i = paragraph_of(text, row["start"], row["end"])
        got = attribute(sentences, i)
        labelled += row["source"] is not None
        if got is None:
            continue
        predicted += 1
        if row["source"] is not None and same_source(got.source, row["source"]):
            right += 1
            found += 1
        else:
            wrong.append(f"- {text[row['start']:row['end']][:120]!r}: {got.source!r}, labelled {row['source']!r}")
    sets = {r["set"] for r in rows}
    print(f"{len(rows)} labelled sentences ({', '.join(sorted(sets))}), {labelled} with a source\n")
    print("| attributions given | right | precision | recall |")
    print("|---|---|---|---|")
    print(f"| {predicted} | {right} | {right / max(predicted, 1):.3f} | {found / max(labelled, 1):.3f} |")
    if wrong:
        print("\nWrong:\n" + "\n".join(wrong))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sample", action="store_true")
    parser.add_argument("--cue", type=int, default=120)
    parser.add_argument("--plain", type=int, default=40)
    parser.add_argument("--only", choices=("wikinews", "realtimeqa_q1"), help="sample from one set only")
    args = parser.parse_args()
    if args.sample:
        sample(args.cue, args.plain, args.only)
    else:
        measure()


if __name__ == "__main__":
    main()
