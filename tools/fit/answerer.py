"""Fit the answerer: the sentence-ranking weights, the answerability model and its threshold.

Fitting data: SQuAD v1.1 dev (MRQA copy) *minus* the 240 paragraphs XQuAD shares with it (matched
by paragraph text), and of those only the paragraphs in the first half of the file (the FIT
half). XQuAD, NewsQA and the questions of the other half (HELD half) are never seen here, so
`qa-bot eval` can report on them. The corpus searched is every SQuAD dev paragraph not in XQuAD
(both halves: the HELD half serves as distractors, its questions are not used).

- Ranking: logistic regression on pairwise differences (right sentence minus wrong sentence of
  the same question), i.e. a linear RankSVM-style model. The three speech features are fitted
  apart, on questions that ask what a named speaker said (tools/fit/speakers.py), the others held.
- Answerability: logistic regression predicting "the corpus answers this question". Positives:
  the FIT questions asked against the corpus. Negatives: the same questions asked against the
  Wikinews corpus (another domain), and the questions of one half of the FIT paragraphs asked
  against an index of the other half only (same domain, not covered: the harder case).
- Strict answerability (``strict``, opt-in: ``AnswerConfig(strict=True)``): the same model fitted
  with a third kind of negative, questions whose topic the corpus covers but whose answer it
  lacks (answer-cut: the sentences holding the answer cut from the question's paragraph, see
  ``redacted_negatives``); the three kinds weigh alike in the fit and in the utility.
- All are fitted twice from the same candidates: with every feature, for indexes that hold
  token states (MaxSim), and without the MaxSim ones (``without_tokens``), for indexes that don't.
- Threshold: the table over thresholds is printed. Utility = right answers - wrong answers -
  answers to unanswerable questions (a wrong answer costs what a right one gains; as many
  unanswerable questions as answerable ones). The default is the lowest threshold whose utility
  is within 0.01 of the best: where the curve is flat, answering is preferred, because the
  negatives here are easier than real ones and abstention costs most on unseen data.

    python -m tools.fit.answerer [--work /tmp/qa-fit] [--write]

With --write the result goes to qa_bot/fitted/weights.json.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

from qa_bot.answer.features import (
    ABSTAIN_FEATURES,
    RANK_FEATURES,
    SPEECH_FEATURES,
    TOKEN_FEATURES,
    abstain_features,
    linear,
)
from qa_bot.bot import QABot
from qa_bot.corpus.files import save_articles
from qa_bot.corpus.ingest import read_sources
from qa_bot.evaluation.datasets import fingerprint, load_mrqa, load_squad
from qa_bot.evaluation.run import contains_gold
from qa_bot.fitted import WEIGHTS_FILE
from qa_bot.indexing.chunking import split_sentences
from qa_bot.records import Article
from tools.fit.speakers import first_right, fit_speech, speaker_candidates

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared" / "data"


def fit_split() -> tuple[list, list, set[str]]:
    """SQuAD dev paragraphs not in XQuAD, the FIT questions, and the ids of FIT paragraphs."""
    xquad = {a.text for a in load_squad(SHARED / "xquad.en.json").articles}
    squad = load_mrqa(SHARED / "mrqa_squad_dev.jsonl.gz")
    candidates = [a for a in squad.articles if a.text not in xquad]
    fit_ids = {a.id for a in candidates[: len(candidates) // 2]}
    questions = [q for q in squad.questions if q.article in fit_ids and q.gold]
    return candidates, questions, fit_ids


def build(articles, work: Path, name: str) -> QABot:
    corpus, index = work / name / "corpus", work / name / "index"
    if not corpus.exists():
        save_articles(corpus, articles)
    started = time.perf_counter()
    report = QABot.build(corpus, index)
    print(f"[{name}] {report.articles} articles, {report.passages} passages, {time.perf_counter() - started:.0f} s",
          file=sys.stderr)
    return QABot.load(index)


def candidates(bot: QABot, texts: list[str]):
    out = []
    for start in range(0, len(texts), 256):
        out.extend(bot.candidates_batch(texts[start : start + 256]))
    return out


def gold_labels(data, cands, questions) -> list[np.ndarray]:
    """Per question, which of its candidate sentences contain a gold answer."""
    return [np.array([contains_gold(data.sentence_text(int(s)), q.gold) for s in c.sentences], dtype=bool)
            for c, q in zip(cands, questions)]


THRESHOLDS = np.round(np.arange(0.05, 0.96, 0.05), 2)  # where the threshold rule reads the curve


def top_right(scores: list[np.ndarray], labels: list[np.ndarray]) -> np.ndarray:
    """Per question, whether its best-scored candidate holds a gold answer."""
    return np.array([bool(len(sc)) and bool(labs[np.argmax(sc)]) for sc, labs in zip(scores, labels)])


def topic_negatives(articles, fit_ids: set[str], work: Path, encoder) -> tuple[QABot, QABot, set[str]]:
    """The corpora the default model's unanswerable questions are asked of: Wikinews (another
    topic), and the second half of the FIT paragraphs (same domain; FIT questions on the first half
    are not covered), with the ids of that half."""
    news = [n.article for n in read_sources([str(SHARED / "gum_wikinews.jsonl")])[0]]
    news_bot = QABot(build(news, work, "wikinews").data, encoder)
    fit_order = [a for a in articles if a.id in fit_ids]
    half_b = fit_order[len(fit_order) // 2 :]
    b_bot = QABot(build(half_b, work, "squad-fit-b").data, encoder)
    return news_bot, b_bot, {a.id for a in half_b}


def redact(article: Article, gold: list[str]) -> Article | None:
    """``article`` without the sentences holding a gold string; None if too little is left."""
    spans = split_sentences(article.text)
    keep = [article.text[a:b] for a, b in spans if not contains_gold(article.text[a:b], gold)]
    text = " ".join(keep)
    if len(keep) < 2 or len(keep) == len(spans) or contains_gold(text, gold):
        return None
    return Article(id=article.id, title=article.title, text=text, source=article.source)


def redacted_negatives(articles, questions, fit_ids: set[str], work: Path, encoder):
    """Questions whose topic the corpus covers but whose answer it lacks: for one question of each
    FIT paragraph (the first, in a shuffled order, whose answer can be cut), the sentences holding
    its answer are cut from the paragraph; the corpus is every paragraph, the FIT ones so cut. A
    question is kept only if none of its three candidates closest by cosine still holds a gold
    string (the answer may stand in another paragraph). Returns the bot over that corpus, the questions and
    their candidates."""
    rng = random.Random(1)
    by_article: dict[str, list] = {}
    for q in questions:
        by_article.setdefault(q.article, []).append(q)
    cut, asked = {}, []
    for art in articles:
        own = by_article.get(art.id, []) if art.id in fit_ids else []
        for q in rng.sample(own, len(own)):
            redacted = redact(art, q.gold)
            if redacted is not None:
                cut[art.id] = redacted
                asked.append(q)
                break
    bot = QABot(build([cut.get(a.id, a) for a in articles], work, "squad-redacted").data, encoder)
    cands = candidates(bot, [q.q for q in asked])
    # The three closest by cosine (not by the ranker, whose weights this script refits).
    cosine = RANK_FEATURES.index("sent_cos")
    keep = [not any(contains_gold(bot.data.sentence_text(int(c.sentences[i])), q.gold)
                    for i in np.argsort(-c.features[:, cosine])[:3]) for c, q in zip(cands, asked)]
    print(f"redacted negatives: {sum(keep)} of {len(keep)} FIT paragraphs "
          f"({len(keep) - sum(keep)} dropped: a gold string among the 3 closest candidates)", file=sys.stderr)
    return bot, [q for q, k in zip(asked, keep) if k], [c for c, k in zip(cands, keep) if k]


def fit_rank(features: list[np.ndarray], labels: list[np.ndarray], rng, names=RANK_FEATURES) -> dict[str, float]:
    """Pairwise logistic regression over the columns ``names`` of each question's candidates."""
    cols = [RANK_FEATURES.index(n) for n in names]
    diffs = []
    for f, labs in zip(features, labels):
        pos, neg = np.flatnonzero(labs), np.flatnonzero(~labs)
        if not len(pos) or not len(neg):
            continue
        for _ in range(min(20, len(pos) * len(neg))):
            diffs.append(f[rng.choice(pos), cols] - f[rng.choice(neg), cols])
    X = np.vstack([diffs, -np.asarray(diffs)])
    y = np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]
    model = LogisticRegression(C=1.0, fit_intercept=False, max_iter=5000).fit(X, y)
    print(f"ranking: {len(diffs)} pairs", file=sys.stderr)
    return {name: float(w) for name, w in zip(names, model.coef_[0])}


def abstain_rows(cands, rank: dict[str, float]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Each question's abstention features and candidate scores under the ranking weights ``rank``
    (features do not depend on the weights, so candidates are computed once for every fit).
    Features ``rank`` has no weight for are zeroed, as an index without them would give them."""
    keep = np.array([name in rank for name in RANK_FEATURES])
    rows, scores = [], []
    for c in cands:
        f = c.features * keep
        sc = linear(f, RANK_FEATURES, rank)
        scores.append(sc)
        rows.append(abstain_features(f, sc, c.article_lex) if len(sc) else np.zeros(len(ABSTAIN_FEATURES)))
    return np.vstack(rows), scores


def utility(answered: np.ndarray, right: np.ndarray, unanswerable: float) -> float:
    """What the threshold rule maximises: right answers minus wrong ones among the answerable
    questions (``answered``, ``right``: per question), minus the share ``unanswerable`` of
    unanswerable questions answered; as many unanswerable questions as answerable ones."""
    return 0.5 * ((answered & right).mean() - (answered & ~right).mean()) - 0.5 * unanswerable


def pick_threshold(table: list[tuple[float, float]]) -> float:
    """The rule: of (threshold, utility) rows, the lowest threshold within 0.01 of the best utility
    (where the curve is flat, answering is preferred)."""
    top = max(u for _, u in table)
    return min(t for t, u in table if u >= top - 0.01)


def fit_abstain(pos_cands, labels, rank: dict[str, float], neg_groups: dict[str, list], balance: bool) -> dict:
    """The answerability model and its threshold over the ranking weights ``rank``. Negatives:
    ``neg_groups``, pooled as they come, or (``balance``) each kind weighing alike, in the fit and
    in the utility."""
    A_pos, pos_scores = abstain_rows(pos_cands, rank)
    A_neg = {kind: abstain_rows(cands, rank)[0] for kind, cands in neg_groups.items()}
    right = top_right(pos_scores, labels)
    # Per negative: its weight; all negatives together weigh as much as the answerable questions.
    share = {kind: (len(A_pos) / len(A_neg) / len(a) if balance else len(A_pos) / sum(map(len, A_neg.values())))
             for kind, a in A_neg.items()}
    X = np.vstack([A_pos, *A_neg.values()])
    y = np.r_[np.ones(len(A_pos)), np.zeros(len(X) - len(A_pos))]
    weight = np.r_[np.ones(len(A_pos)), *[np.full(len(a), share[kind]) for kind, a in A_neg.items()]]
    print(f"answerability: {len(A_pos)} answerable; unanswerable: "
          + ", ".join(f"{len(a)} {kind}" for kind, a in A_neg.items()), file=sys.stderr)
    model = LogisticRegression(C=1.0, max_iter=5000).fit(X, y, sample_weight=weight if balance else None)
    abstain = {"bias": float(model.intercept_[0])} | {n: float(w) for n, w in zip(ABSTAIN_FEATURES, model.coef_[0])
                                                      if n != "top_maxsim" or "maxsim" in rank}
    print("abstain weights:", json.dumps({k: round(v, 3) for k, v in abstain.items()}))

    p_pos = model.predict_proba(A_pos)[:, 1]
    p_neg = {kind: model.predict_proba(a)[:, 1] for kind, a in A_neg.items()}
    print("\nthreshold  answered-right  answered-wrong  false-abstain  "
          + "  ".join(f"{kind}-answered" for kind in p_neg) + "  utility")
    table = []
    for threshold in THRESHOLDS:
        answered = p_pos >= threshold
        good, bad = (answered & right).mean(), (answered & ~right).mean()
        missed = (~answered & right).mean()
        neg_answered = {kind: (p >= threshold).mean() for kind, p in p_neg.items()}
        unanswerable = sum(share[k] * len(A_neg[k]) * a for k, a in neg_answered.items()) / len(A_pos)
        value = utility(answered, right, unanswerable)
        print(f"{threshold:9.2f}  {good:14.3f}  {bad:14.3f}  {missed:13.3f}  "
              + "  ".join(f"{a:{len(k) + 9}.3f}" for k, a in neg_answered.items()) + f"  {value:7.3f}")
        table.append((float(threshold), value))
    best = pick_threshold(table)
    print(f"\nchosen min_confidence: {best} (best utility {max(u for _, u in table):.3f})")
    return {"abstain": abstain, "min_confidence": best}


def fit_set(pos_cands, negatives: dict[str, list], labels, rng, names, title: str, speech,
            shipped_rank: dict[str, float] | None = None) -> dict:
    """Ranking weights over ``names``, the speech ones apart (on ``speech``: the candidates and
    labels of tools/fit/speakers.py), or ``shipped_rank`` as they are; on top of them the
    answerability model fitted on the other-topic negatives (the default), and the strict one,
    fitted with the answer-cut ones too."""
    print(f"\n## {title}")
    if shipped_rank is None:
        rank = fit_rank([c.features for c in pos_cands], labels, rng, [n for n in names if n not in SPEECH_FEATURES])
        speech_features, speech_labels = speech
        before = sum(first_right(f, lab, rank) for f, lab in zip(speech_features, speech_labels))
        rank |= fit_speech(speech_features, speech_labels, rank)
        after = sum(first_right(f, lab, rank) for f, lab in zip(speech_features, speech_labels))
        print(f"speaker questions (tools/fit/speakers.py), first quote right: {before} -> {after} "
              f"of {len(speech_labels)}")
    else:
        rank = dict(shipped_rank)
    print("rank weights:", json.dumps({k: round(v, 3) for k, v in rank.items()}))
    right = np.mean([bool(len(c.scores)) and bool(labs[np.argmax(linear(c.features, RANK_FEATURES, rank))])
                     for c, labs in zip(pos_cands, labels)])
    print(f"FIT accuracy@1 with the fitted ranking: {right:.3f}")
    print("\n### answerability (default): negatives on another topic")
    default = fit_abstain(pos_cands, labels, rank, {k: v for k, v in negatives.items() if k != "answer-cut"}, False)
    print("\n### answerability (strict): the answer-cut negatives too, the three kinds weighing alike")
    strict = fit_abstain(pos_cands, labels, rank, negatives, True)
    return {"rank": rank, **default, "strict": strict}


def pairwise_held_out(features: list[np.ndarray], labels: list[np.ndarray], n_fit: int = 2500) -> float:
    """Fit a pairwise linear ranker (as fit_rank does) on the candidates of the first ``n_fit``
    questions (``features[i]`` rows, ``labels[i]`` right or not); accuracy@1 on the others."""
    rng, diffs = np.random.default_rng(0), []
    for f, labs in zip(features[:n_fit], labels[:n_fit]):
        pos, neg = np.flatnonzero(labs), np.flatnonzero(~labs)
        if len(pos) and len(neg):
            diffs += [f[rng.choice(pos)] - f[rng.choice(neg)] for _ in range(20)]
    X = np.vstack([diffs, -np.asarray(diffs)])
    y = np.r_[np.ones(len(diffs)), np.zeros(len(diffs))]
    w = LogisticRegression(fit_intercept=False, max_iter=5000).fit(X, y).coef_[0]
    return float(np.mean([labs[np.argmax(f @ w)] if len(labs) else 0.0
                          for f, labs in zip(features[n_fit:], labels[n_fit:])]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--work", type=Path, default=Path("/tmp/qa-fit"))
    parser.add_argument("--questions", type=int, default=4000, help="FIT questions to sample")
    parser.add_argument("--write", action="store_true", help="write qa_bot/fitted/weights.json")
    parser.add_argument("--answerability-only", action="store_true",
                        help="keep the shipped ranking weights; fit the answerability models over them")
    args = parser.parse_args()
    shipped = json.loads(WEIGHTS_FILE.read_text()) if args.answerability_only else None
    rng = np.random.default_rng(0)

    articles, questions, fit_ids = fit_split()
    random.Random(0).shuffle(questions)
    all_questions, questions = questions, questions[: args.questions]
    print(f"FIT: {len(questions)} questions on {len(fit_ids)} of {len(articles)} SQuAD dev paragraphs",
          file=sys.stderr)
    squad_bot = build(articles, args.work, "squad-fit")
    texts = [q.q for q in questions]
    if squad_bot.data.tokens is None:
        sys.exit("the FIT index holds no token states: build it with an encoder that gives them (the default)")

    # Candidates and their features do not depend on the weights: computed once, fitted twice.
    pos_cands = candidates(squad_bot, texts)
    labels = gold_labels(squad_bot.data, pos_cands, questions)
    news_bot, b_bot, half_b_ids = topic_negatives(articles, fit_ids, args.work, squad_bot.encoder)
    negatives = {"other-domain": candidates(news_bot, texts[:2000])}
    # Same domain, not covered: questions on FIT-A paragraphs against an index of FIT-B only.
    negatives["not-covered"] = candidates(b_bot, [q.q for q in questions if q.article not in half_b_ids])
    # Topic present, answer absent: the sentences answering a FIT question cut from its paragraph.
    negatives["answer-cut"] = redacted_negatives(articles, all_questions, fit_ids, args.work, squad_bot.encoder)[2]

    speaker_cands, speaker_labels, _ = speaker_candidates(args.work, squad_bot.encoder)
    speech = [c.features for c in speaker_cands], speaker_labels
    full = fit_set(pos_cands, negatives, labels, rng, RANK_FEATURES, "with token states (MaxSim)", speech,
                   shipped and shipped["rank"])
    # Without token states the MaxSim features are 0, as an index without them gives them.
    plain_speech = [f * np.array([n not in TOKEN_FEATURES for n in RANK_FEATURES]) for f in speech[0]], speaker_labels
    plain = fit_set(pos_cands, negatives, labels, np.random.default_rng(0),
                    [n for n in RANK_FEATURES if n not in TOKEN_FEATURES], "without token states", plain_speech,
                    shipped and shipped["without_tokens"]["rank"])
    if args.write:
        out = {
            "fitted_on": "SQuAD v1.1 dev (MRQA): questions of the first half of the paragraphs not in XQuAD; "
                         "negatives: the same questions against Wikinews, against the other half of the FIT paragraphs, "
                         "and against the corpus with their answering sentences cut; the speech weights on "
                         "tools/fit/speaker_questions.jsonl",
            "command": "python -m tools.fit.answerer --write",
            **({"command": "python -m tools.fit.answerer --answerability-only --write",
                "rank_fitted": shipped.get("rank_fitted", shipped["command"])} if shipped else {}),
            **full,
            "without_tokens": plain,
            # `qa-bot eval` does not score questions on these paragraphs (see evaluation.datasets.without_fitted).
            "fit_paragraphs": sorted(fingerprint(a.text) for a in articles if a.id in fit_ids),
        }
        WEIGHTS_FILE.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {WEIGHTS_FILE.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
