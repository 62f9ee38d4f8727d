"""The qa-bot command line, called as a user would (a subprocess or click's runner)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import seed_corpus

from qa_bot.app.cli import main
from qa_bot.app.render import source_line
from qa_bot.app.terminal import format_answer
from qa_bot.records import Answer, Citation, Quote

ROOT = Path(__file__).resolve().parents[1]
QA_BOT = [sys.executable, "-m", "qa_bot.app.cli"]


def run(*args: str, cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    env = dict(os.environ, HF_HUB_OFFLINE="1")
    return subprocess.run([*QA_BOT, *args], capture_output=True, text=True, cwd=cwd, timeout=timeout, env=env)


def test_help_is_fast_and_lists_commands():
    started = time.perf_counter()
    result = run("--help")
    elapsed = time.perf_counter() - started
    assert result.returncode == 0
    for command in ("add", "build", "ask", "search", "list", "serve"):
        assert command in result.stdout
    # Generous bound for a loaded CI machine; the benchmark reports the real figure.
    assert elapsed < 5, f"qa-bot --help took {elapsed:.1f} s: a heavy import leaked into the CLI"


def test_import_does_not_load_torch():
    code = "import sys, qa_bot, qa_bot.app.cli; print('torch' in sys.modules, 'faiss' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]


@pytest.mark.parametrize("question", ["", "   ", "\n\t", "x" * 1001])
def test_bad_question_is_a_clear_error_not_a_traceback(question, tmp_path):
    result = CliRunner().invoke(main, ["ask", question, "--index", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "question" in result.output and ("empty" in result.output or "limit" in result.output)


def test_missing_corpus_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(main, ["build", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "idx")])
    assert result.exit_code == 1
    assert "does not exist" in result.output and "qa-bot add" in result.output
    assert not (tmp_path / "idx").exists()


def test_add_list_and_reject_bad_sources(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(
        "Storm hits the coast\n\nBy: Jane Doe\n\nA storm hit the coast on Monday, officials said.\n\n"
        "Advertisement\n\nThousands of homes lost power.\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00broken")
    corpus = tmp_path / "corpus"
    result = CliRunner().invoke(
        main, ["add", str(page), str(bad), "--corpus", str(corpus), "--source", "Example Times", "--published", "2026-03-04"]
    )
    assert result.exit_code == 1, result.output
    assert "bad.txt" in result.output and "UTF-8" in result.output  # the bad file is named
    files = list(corpus.glob("*.md"))
    assert len(files) == 1, "the valid article is still added"
    text = files[0].read_text(encoding="utf-8")
    assert "source: Example Times" in text and "2026-03-04" in text
    assert "Advertisement" not in text and "Thousands of homes lost power." in text
    assert "removed" in result.output  # cleaning reports what it dropped


def test_an_article_without_a_date_is_reported_at_add_time_and_shown_as_date_unknown(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text("Storm hits the coast\n\nA storm hit the coast, officials said.\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["add", str(page), "--corpus", str(tmp_path / "corpus")])
    assert result.exit_code == 0, result.output
    assert "no published date found: give it with --published YYYY-MM-DD" in result.output
    [path] = (tmp_path / "corpus").glob("*.md")
    assert "published: ''" in path.read_text(encoding="utf-8"), "never today's date"
    undated = Citation(id="storm", title="Storm hits the coast", source="Example Times", url="", published="")
    quote = Quote("A storm hit the coast, officials said.", 0.9, 0, 38, "A storm hit the coast.", undated)
    assert format_answer(Answer("Q?", True, None, [quote])).count("(Example Times, date unknown)") == 1
    assert source_line(undated) == "Storm hits the coast — Example Times · date unknown"


def test_adding_the_same_article_again_is_reported_and_skipped(tmp_path):
    """It used to be written again as '...-2.md': two identical articles in the index."""
    page = tmp_path / "page.txt"
    page.write_text("Storm hits the coast\n\nA storm hit the coast on Monday, officials said.\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    first = CliRunner().invoke(main, ["add", str(page), "--corpus", str(corpus)])
    assert first.exit_code == 0, first.output
    (path,) = corpus.glob("*.md")
    again = CliRunner().invoke(main, ["add", str(page), "--corpus", str(corpus), "--published", "2026-03-05"])
    assert again.exit_code == 0, again.output
    assert f"skipped {page}: the same article text is already in the corpus as '{path.stem}'" in again.output
    assert "--replace" in again.output and "added" not in again.output
    assert list(corpus.glob("*.md")) == [path] and "2026-03-05" not in path.read_text(encoding="utf-8")
    # --replace overwrites that copy, under its id: still one article, now with the new date.
    replaced = CliRunner().invoke(main, ["add", str(page), "--corpus", str(corpus), "--published", "2026-03-05",
                                         "--replace"])
    assert replaced.exit_code == 0 and "skipped" not in replaced.output, replaced.output
    assert list(corpus.glob("*.md")) == [path] and "2026-03-05" in path.read_text(encoding="utf-8")
    # Twice in one call: the first is added, the second reported.
    twice = tmp_path / "twice.jsonl"
    line = json.dumps({"title": "Rain in Dalton", "text": "It rained in Dalton on Friday."})
    twice.write_text(f"{line}\n{line}\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["add", str(twice), "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "1 article(s) added" in result.output and f"skipped {twice}:" in result.output
    assert len(list(corpus.glob("*.md"))) == 2


@pytest.mark.e2e
def test_ask_with_build_builds_the_index_then_answers_json(tmp_path):
    index, corpus = tmp_path / "index", seed_corpus(tmp_path / "corpus")
    result = run("ask", "What does the BLA want?", "--json", "--build", "--index", str(index), "--corpus",
                 str(corpus))
    assert result.returncode == 0, result.stderr
    assert "building the index" in result.stderr
    payload = json.loads(result.stdout)  # exactly one JSON object on stdout
    assert set(payload) == {"question", "answered", "message", "quotes", "read_as", "closest", "filter", "time", "conflict"}
    assert payload["answered"] is True and payload["message"] is None and payload["read_as"] == []
    quote = payload["quotes"][0]
    assert set(quote) == {"text", "score", "start", "end", "paragraph", "paragraphs", "section", "context", "article", "dates", "lead", "attribution", "also_in",
                          "earlier_report"}
    assert set(quote["article"]) == {"id", "title", "source", "url", "published"}
    assert "seeks independence for Balochistan" in quote["text"]
    assert quote["article"]["source"] == "The Indian Express"
    assert quote["article"]["published"] == "2026-02-01"

    # The index now exists: a second ask uses it, readable output, no rebuild.
    again = run("ask", "What is the weather in Quetta tomorrow?", "--index", str(index))
    assert again.returncode == 0, again.stderr
    assert "building" not in again.stderr
    assert "Nothing in the articles is about this question." in again.stdout
    assert "Also read" not in again.stdout

    # A misspelt word is read as the article's word, and the reader is told.
    typo = run("ask", "What does the BLA wnat?", "--index", str(index))
    assert typo.returncode == 0, typo.stderr
    assert "Also read “wnat” as “want”." in typo.stdout and "seeks independence" in typo.stdout

    # Time words are read against --as-of and the reader is told which dates were searched.
    dated = run("ask", "Who claimed the attacks this week?", "--as-of", "2026-02-03", "--index", str(index))
    assert dated.returncode == 0, dated.stderr
    assert "Read “this week” as articles published 2026-01-27 to 2026-02-04." in dated.stdout
    bad_date = run("ask", "Who claimed the attacks this week?", "--as-of", "03/02/2026", "--index", str(index))
    assert bad_date.returncode == 2 and "--as-of" in bad_date.stderr and "%Y-%m-%d" in bad_date.stderr

    # A no-op build re-embeds nothing.
    build = run("build", "--corpus", str(corpus), "--index", str(index))
    assert build.returncode == 0, build.stderr
    assert "embedded 0 texts" in build.stderr and "unchanged 1" in build.stderr

    # Asking with another model than the index was built with is refused with the fix.
    other = run("ask", "What does the BLA want?", "--index", str(index), "--model", str(tmp_path / "other-model"))
    assert other.returncode == 1
    assert "qa-bot build --model" in other.stderr and "Traceback" not in other.stderr


def test_ask_strict_and_min_confidence_reach_the_answerer(tmp_path):
    """--strict declines what the default answers: the article counts the dead of the attacks but
    names no Chinese workers among them."""
    index = tmp_path / "index"
    args = ("ask", "How many Chinese workers were killed?", "--json", "--index", str(index), "--corpus",
            str(seed_corpus(tmp_path / "corpus")))
    assert json.loads(run(*args, "--build").stdout)["answered"] is True
    strict = run(*args, "--strict")
    assert strict.returncode == 0, strict.stderr
    assert json.loads(strict.stdout)["answered"] is False
    # --min-confidence sets the threshold of whichever model decides: 0 never declines.
    assert json.loads(run(*args, "--strict", "--min-confidence", "0").stdout)["answered"] is True
    assert json.loads(run(*args, "--min-confidence", "0.99").stdout)["answered"] is False
    bad = run(*args, "--min-confidence", "1.5")
    assert bad.returncode == 2 and "--min-confidence" in bad.stderr and "0<=x<=1" in bad.stderr


@pytest.mark.parametrize("command", [["ask", "What does the BLA want?"], ["search", "BLA"], ["serve"]])
def test_a_missing_index_is_an_error_naming_the_build_command(command, tmp_path):
    """A mistyped --index used to become a new index built from ./corpus, silently."""
    typo = tmp_path / "typo"
    result = CliRunner().invoke(main, [*command, "--index", str(typo), "--corpus", str(ROOT / "corpus")])
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert f"no index in '{typo}'" in result.output
    assert f"qa-bot build --corpus {ROOT / 'corpus'} --index {typo}" in result.output and "--build" in result.output
    assert not typo.exists(), "nothing is created without --build"


@pytest.mark.e2e
def test_the_readme_example_is_what_the_bot_says(tmp_path):
    """The README showed an answer the bot had stopped giving; it is now checked on every run."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = readme.split('```console\n$ qa-bot ask "What does the BLA want?"\n', 1)[1].split("```", 1)[0]
    result = run("ask", "What does the BLA want?", "--build", "--index", str(tmp_path / "index"),
                 "--corpus", str(ROOT / "corpus"))
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == block.strip()
