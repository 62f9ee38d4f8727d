"""The documentation stays true to the tree: links resolve, every command-line option is
documented, and every command the docs tell you to run names a module that exists."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest

from qa_bot.app.cli import main

ROOT = Path(__file__).resolve().parents[1]
DOCS = sorted([ROOT / "README.md", ROOT / "CONTRIBUTING.md", *(ROOT / "docs").rglob("*.md")])
_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
_FENCE = re.compile(r"^```.*?^```", re.S | re.M)


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a Markdown file's headings."""
    text = _FENCE.sub("", path.read_text(encoding="utf-8"))
    out = set()
    for heading in re.findall(r"^#{1,6}\s+(.*?)\s*$", text, flags=re.M):
        slug = re.sub(r"[^\w\- ]", "", heading.replace("`", "").lower()).replace(" ", "-")
        out.add(slug)
    return out


@pytest.mark.parametrize("doc", DOCS, ids=lambda p: str(p.relative_to(ROOT)))
def test_relative_links_resolve(doc):
    broken = []
    for target in _LINK.findall(_FENCE.sub("", doc.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z]+:", target):
            continue  # http(s), mailto
        path, _, anchor = target.partition("#")
        file = (doc.parent / path).resolve() if path else doc
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in anchors(file)):
            broken.append(target)
    assert not broken, f"{doc.relative_to(ROOT)}: broken links {broken}"


def test_the_link_check_catches_a_broken_anchor(tmp_path):
    page = tmp_path / "a.md"
    page.write_text("# What was fitted on what\n")
    assert "what-was-fitted-on-what" in anchors(page) and "results" not in anchors(page)


def test_every_command_and_option_is_in_docs_cli():
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    missing = []
    for name, command in main.commands.items():
        if f"## qa-bot {name}" not in text:
            missing.append(f"qa-bot {name}")
        for param in command.params:
            if isinstance(param, click.Option):
                flags = [f for f in (*param.opts, *param.secondary_opts) if f not in ("-h", "--help")]
                missing += [f"qa-bot {name} {f}" for f in flags if not re.search(rf"(?<![\w-]){re.escape(f)}(?![\w-])", text)]
    assert not missing, f"not in docs/cli.md: {missing}"


def test_commands_in_the_docs_name_modules_that_exist():
    named = {m for doc in DOCS for m in re.findall(r"python -m ((?:tools|benchmarks)(?:\.\w+)+)", doc.read_text(encoding="utf-8"))}
    assert named, "the docs name no tools or benchmarks at all"
    missing = sorted(m for m in named if not (ROOT / (m.replace(".", "/") + ".py")).is_file())
    assert not missing, f"modules named in the docs that do not exist: {missing}"
