"""The curated corpus: one Markdown file per article with a YAML front-matter block.

A corpus file looks like::

    ---
    id: pakistan-what-is-baloch-liberation-army
    title: 'Pakistan: What is Baloch Liberation Army?'
    source: The Indian Express
    url: ''
    published: '2026-02-01'
    author: Express Global Desk
    ---

    First paragraph of the body.

    ## A section heading

    Paragraph under the heading.

The body after the front matter is ``Article.text``; quotes and offsets refer to it.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import tempfile
import unicodedata
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import ArticleError, CorpusError
from ..records import Article

SUFFIX = ".md"
# The C loader (libyaml) when PyYAML has it: the same safe subset, several times faster, which
# matters when a build reads a hundred thousand article files.
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

FIELDS = ("id", "title", "source", "url", "published", "author", "license")
REQUIRED = ("id", "title")
_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
_FRONT_RE = re.compile(r"\A---[ \t]*\n(.*?\n)---[ \t]*\n", re.DOTALL)


@dataclass(frozen=True)
class CorpusLoad:
    """Articles read from a corpus directory, and the files that could not be read."""

    articles: list[Article]
    errors: list[ArticleError]


def validate_id(article_id: str, where: str) -> str:
    """Return ``article_id`` if it is safe as a file name, else raise ArticleError."""
    if not isinstance(article_id, str) or not _ID_RE.match(article_id) or ".." in article_id:
        raise ArticleError(
            where,
            f"invalid article id {article_id!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit (no slashes, no '..')",
        )
    if article_id.isupper():
        raise ArticleError(where, f"invalid article id {article_id!r}: an id in capitals names a file about the "
                                  "corpus (ATTRIBUTION.md), not an article; use some lower-case letters")
    return article_id


def slugify(text: str, max_len: int = 60) -> str:
    """Make a file-safe id from a title: ``"Pakistan: What is X?"`` -> ``"pakistan-what-is-x"``."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    if len(slug) > max_len:  # cut at a word boundary, not mid-word
        cut = slug.rfind("-", 0, max_len + 1)
        slug = slug[: cut if cut > 0 else max_len]
    return slug.strip("-") or "article"


def normalise_date(value: object, where: str) -> str:
    """Return an ISO date (``YYYY-MM-DD``) for a date, datetime or date-like string; "" stays ""."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).strip()
    try:
        return dt.date.fromisoformat(text[:10]).isoformat()
    except ValueError:
        pass
    from dateutil import parser as date_parser  # lazy: only for non-ISO input

    # Parse twice with different defaults: a field that changes with the default was missing
    # ("2024" or "Tuesday" alone must not become a made-up full date).
    try:
        with warnings.catch_warnings():  # unknown zone names ("IST") do not matter for a date
            warnings.simplefilter("ignore")
            first = date_parser.parse(text, default=dt.datetime(2000, 1, 1))
            second = date_parser.parse(text, default=dt.datetime(2001, 2, 2))
    except (ValueError, OverflowError):
        first = second = None
    if first is None or first.date() != second.date():
        raise ArticleError(where, f"published date {text!r} is not a full date; give it as YYYY-MM-DD")
    return first.date().isoformat()


def render(article: Article) -> str:
    """The corpus file text for ``article``."""
    meta = {name: getattr(article, name) for name in FIELDS}
    for optional in ("author", "license"):
        if not meta[optional]:
            del meta[optional]
    front = yaml.safe_dump(meta, allow_unicode=True, sort_keys=False, width=1000)
    return f"---\n{front}---\n\n{article.text}\n"


def parse(content: str, where: str) -> Article:
    """Parse the text of a corpus file; raise ArticleError naming ``where`` on any problem."""
    # Files edited on Windows may have CRLF line ends; the article text always has LF.
    content = content.replace("\r\n", "\n")
    match = _FRONT_RE.match(content)
    if not match:
        raise ArticleError(where, "no YAML front matter: the file must start with a '---' block")
    try:
        meta = yaml.load(match.group(1), Loader=_YAML_LOADER) or {}
    except yaml.YAMLError as exc:
        raise ArticleError(where, f"front matter is not valid YAML ({exc})") from None
    if not isinstance(meta, dict):
        raise ArticleError(where, "front matter must be a mapping of field: value")
    unknown = sorted(set(meta) - set(FIELDS))
    if unknown:
        raise ArticleError(where, f"unknown front-matter field(s) {unknown}; allowed: {list(FIELDS)}")
    for name in REQUIRED:
        if not str(meta.get(name) or "").strip():
            raise ArticleError(where, f"front matter has no {name!r}")
    text = content[match.end():].strip("\n").rstrip()
    if not text.strip():
        raise ArticleError(where, "the article body is empty")
    return Article(
        id=validate_id(str(meta["id"]), where),
        title=str(meta["title"]).strip(),
        text=text,
        source=str(meta.get("source") or "").strip(),
        url=str(meta.get("url") or "").strip(),
        published=normalise_date(meta.get("published"), where),
        author=str(meta.get("author") or "").strip(),
        license=str(meta.get("license") or "").strip(),
    )


def read_article(path: Path) -> Article:
    """Read one corpus file."""
    try:
        content = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ArticleError(str(path), f"not valid UTF-8 (byte {exc.start}); re-save it as UTF-8") from None
    except OSError as exc:
        raise ArticleError(str(path), f"cannot read file ({exc.strerror})") from None
    article = parse(content, str(path))
    if path.stem != article.id:
        raise ArticleError(
            str(path), f"file name does not match its id {article.id!r}; rename it to {article.id}{SUFFIX}"
        )
    return article


EXAMPLES = "QUESTIONS.md"  # in a corpus: questions for a first-time reader to click, one "- " line each


def load_examples(corpus_dir: Path) -> list[str]:
    """The example questions of a corpus (``QUESTIONS.md``, its "- " lines; none if it has no such file)."""
    path = Path(corpus_dir) / EXAMPLES
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise CorpusError(f"{path} is unreadable ({exc}); save it as UTF-8 text, one '- question' a line") from None
    questions = (line[2:].strip() for line in text.splitlines() if line.startswith("- "))
    return list(dict.fromkeys(q for q in questions if q))


def article_files(corpus_dir: Path) -> list[Path]:
    """The article files of a corpus directory, in name order: every ``.md`` file but hidden ones
    and those named in capitals, which are about the corpus (``ATTRIBUTION.md``, ``README.md``)."""
    corpus_dir = Path(corpus_dir)
    if not corpus_dir.is_dir():
        raise CorpusError(
            f"corpus directory {str(corpus_dir)!r} does not exist; create it with "
            "'qa-bot add SOURCE --corpus DIR' or pass --corpus"
        )
    return sorted(p for p in corpus_dir.iterdir()
                  if p.suffix == SUFFIX and not p.name.startswith(".") and not p.stem.isupper())


def load_corpus(corpus_dir: Path) -> CorpusLoad:
    """Read every article file; unreadable files are returned as errors, never dropped silently."""
    articles: list[Article] = []
    errors: list[ArticleError] = []
    seen: dict[str, Path] = {}
    for path in article_files(corpus_dir):
        try:
            article = read_article(path)
        except ArticleError as exc:
            errors.append(exc)
            continue
        if article.id in seen:
            errors.append(ArticleError(str(path), f"duplicate id {article.id!r} (also in {seen[article.id]})"))
            continue
        seen[article.id] = path
        articles.append(article)
    return CorpusLoad(articles, errors)


def write_atomic(path: Path, data: str) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_articles(corpus_dir: Path, articles: Iterable[Article], *, overwrite: bool = False) -> list[Path]:
    """Write articles to the corpus, one file each; refuse to replace an existing id unless asked.

    Raises ArticleError for the first article whose id is taken; the ones before it are written.
    """
    corpus_dir = Path(corpus_dir)
    corpus_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for article in articles:
        validate_id(article.id, article.id)
        path = corpus_dir / f"{article.id}{SUFFIX}"
        if path.exists() and not overwrite:
            raise ArticleError(
                article.id, f"an article with this id already exists ({path}); pass --id to choose another or --replace"
            )
        write_atomic(path, render(article))
        written.append(path)
    return written
