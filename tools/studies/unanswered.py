"""What `qa-bot report` shows an editor: a question log made from the public news sets, read back.

    python -m tools.studies.unanswered [--corpus corpus] [--q2 100] [--newsqa 50] [--log FILE]

Readers' questions are stood in for by real news questions: the first ``--q2`` RealTime QA 2023
`q2` quiz questions (weeks of April to June 2023) and the first ``--newsqa`` NewsQA questions,
asked through the REST API (``POST /api/ask``, in process, with the question log on) of the
shipped demo collection (44 articles of other years), so most are declined, as a newsroom's log
would decline questions on stories it does not hold. The log is then read by the report
(``qa_bot/app/report.py``) and printed as `qa-bot report LOG` prints it. Every question is asked
once; the grouping merges the ones that ask about one story in other words.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from fastapi.testclient import TestClient

from qa_bot.app.api import api_app
from qa_bot.app.gate import Gate
from qa_bot.app.live import LiveBot
from qa_bot.app.questionlog import QuestionLog, read_log
from qa_bot.app.report import format_report, make_report
from qa_bot.bot import QABot
from qa_bot.evaluation.datasets import load_newsqa, load_question_file

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--corpus", type=Path, default=ROOT / "corpus")
    parser.add_argument("--q2", type=int, default=100)
    parser.add_argument("--newsqa", type=int, default=50)
    parser.add_argument("--log", type=Path, help="keep the log here (default: a temporary file)")
    args = parser.parse_args()
    q2 = [q.q for q in load_question_file(DATA / "realtimeqa_2023" / "q2_questions.jsonl").questions][: args.q2]
    newsqa = [q.q for q in load_newsqa(DATA / "newsqa_subset_unified.jsonl").questions][: args.newsqa]
    with tempfile.TemporaryDirectory(prefix="qa-bot-unanswered-") as tmp:
        index, log = Path(tmp) / "index", args.log or Path(tmp) / "questions.jsonl"
        QABot.build(args.corpus, index)
        bot = QABot.load(index)
        questions = QuestionLog(log)
        with TestClient(api_app(LiveBot(bot).current, Gate(2), questions)) as client:
            for question in q2 + newsqa:
                client.post("/api/ask", json={"question": question}).raise_for_status()
        questions.close()
        logged = list(read_log(log))
        print(f"$ qa-bot report LOG   # {len(logged)} questions: {len(q2)} RealTime QA q2, {len(newsqa)} NewsQA, "
              f"asked of {len(bot.articles)} articles\n")
        print(format_report(make_report(logged, bot.encoder), limit=15))


if __name__ == "__main__":
    main()
