"""Opening an index for a command: building it with a progress bar and a report, and loading it
with the bot's settings, each failure turned into one line that says what to do."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..errors import IndexMissingError
from .terminal import progress_bar

if TYPE_CHECKING:
    from ..bot import QABot


def run_build(corpus_dir: Path, index_dir: Path, model: str | None, token_states: bool | None = None,
              store: str | None = None, ray: str | None = None) -> None:
    from ..bot import QABot
    from ..encoders.models import DEFAULT_MODEL

    click.echo(f"building the index of {corpus_dir} in {index_dir} ...", err=True)
    try:
        report = QABot.build(corpus_dir, index_dir, model=model or DEFAULT_MODEL, progress=progress_bar("embedding"),
                             token_states=token_states, store=store, ray=ray)
    except ImportError as exc:  # an extra that is not installed (Milvus, Ray): its message names the command
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # disk full, file size quota, read-only or unwritable directory
        where = f": {exc.filename}" if exc.filename else ""
        # numpy reports a short write without an errno ("5568 requested and 2016 written").
        reason = exc.strerror or f"a file was cut short, {exc}: the disk is full or a file size limit was reached"
        if exc.errno == errno.EFBIG:
            reason = f"a file size limit was reached: {exc.strerror}"
        raise click.ClickException(
            f"cannot write the index in {index_dir} ({reason}{where}); free some disk space or "
            "choose another --index, then run 'qa-bot build' again. Any previous index was left as it was."
        ) from None
    if report.full_rebuild_reason:
        click.echo(f"full rebuild: {report.full_rebuild_reason}", err=True)
    click.echo(
        f"index {report.generation}: {report.articles} articles, {report.passages} passages, "
        f"{report.sentences} sentences; added {len(report.added)}, changed {len(report.changed)}, "
        f"removed {len(report.removed)}, unchanged {len(report.unchanged)}; "
        f"embedded {report.embedded_texts} texts in {report.seconds:.1f} s",
        err=True,
    )


def bot_options(model: str | None, cross_encoder: str | None = None, strict: bool = False,
                min_confidence: float | None = None) -> dict:
    """The keyword arguments of ``QABot.load`` for a command's model and answering options."""
    from ..answer.config import AnswerConfig
    from ..answer.rerank import load_reranker

    config = AnswerConfig(strict=strict, min_confidence=min_confidence)
    return {"model": model, "reranker": load_reranker(cross_encoder), "config": config}


def load_bot(
    index_dir: Path, corpus_dir: Path, model: str | None, cross_encoder: str | None = None, strict: bool = False,
    min_confidence: float | None = None, *, build: bool = False, store: str | None = None,
) -> QABot:
    """Load the index (``store``: the one a Milvus location serves); with ``build``, build or
    update it from the corpus first. A missing index is an error naming the command that builds
    it: a mistyped --index must not become a new one."""
    from ..bot import QABot

    options = bot_options(model, cross_encoder, strict, min_confidence)
    if store is not None:
        from ..store.vectors import store_kind

        try:
            kind, _ = store_kind(store)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--store") from None
        if kind != "milvus":
            raise click.BadParameter(f"{store!r} is not a Milvus location: write milvus://HOST:PORT/COLLECTION or "
                                     "milvus-lite://PATH (a local index is --index DIR)", param_hint="--store")
    if build:
        run_build(corpus_dir, index_dir, model, store=store)
    if store is not None:
        try:
            return QABot.load(store, **options)
        except ImportError as exc:
            raise click.ClickException(str(exc)) from None
        except IndexMissingError as exc:
            raise click.ClickException(f"{exc}, or pass --build") from None
    try:
        return QABot.load(index_dir, **options)
    except IndexMissingError:
        raise click.ClickException(
            f"no index in {str(index_dir)!r}: build it with 'qa-bot build --corpus {corpus_dir} --index {index_dir}', "
            "or pass --build"
        ) from None
