"""The ``qa-bot`` command line. Thin: it parses options, calls the library, prints results.

Library errors (QABotError) become one ``error: ...`` line on stderr and exit status 1; usage
errors exit with 2 (click's convention). Heavy imports happen inside the commands so that
``qa-bot --help`` stays fast.
"""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import click

from ..errors import QABotError
from ..version import __version__
from .opening import bot_options, load_bot, run_build
from .terminal import argument_text, format_answer, format_hits, progress_bar

DEFAULT_CORPUS = "corpus"
DEFAULT_INDEX = "index"

corpus_option = click.option(
    "--corpus", "corpus_dir", default=DEFAULT_CORPUS, show_default=True,
    type=click.Path(file_okay=False, path_type=Path), help="Directory of article files.",
)
index_option = click.option(
    "--index", "index_dir", default=DEFAULT_INDEX, show_default=True,
    type=click.Path(file_okay=False, path_type=Path), help="Directory the index is written to / read from.",
)
model_option = click.option(
    "--model", default=None,
    help="Sentence-transformers model name or path [default: all-MiniLM-L6-v2, bundled; for ask: the index's].",
)

served_option = click.option(
    "--store", "store", default=None, metavar="LOCATION",
    help="Answer from the index a Milvus location serves (milvus://HOST:PORT/COLLECTION or milvus-lite://PATH, "
         "published there by 'qa-bot build --store'), with no local --index.",
)
build_option = click.option(
    "--build", "build_first", is_flag=True,
    help="Build or update the index of --corpus first (without it, a missing index is an error).",
)

cross_encoder_option = click.option(
    "--cross-encoder", "cross_encoder", default=None, metavar="MODEL",
    help="Re-order the best candidates with this sentence-transformers cross-encoder (name or path; off by default).",
)


def abstention_options(command):
    """--strict and --min-confidence: which answerability model decides to decline, and its threshold."""
    command = click.option(
        "--min-confidence", type=click.FloatRange(0, 1), default=None, metavar="P",
        help="Decline questions whose answerability confidence is below P (0 to 1; 0 never declines) "
             "[default: the threshold fitted with the model, see docs/decisions/abstention-threshold.md].",
    )(command)
    return click.option(
        "--strict", is_flag=True,
        help="Also decline questions on a topic the articles cover but do not answer "
             "(declines more answerable ones too).",
    )(command)


class _Group(click.Group):
    """Turns library errors into one clear line and a non-zero exit, never a traceback."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except QABotError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted; nothing half-written was kept", err=True)
            sys.exit(130)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="qa-bot")
def main() -> None:
    """Answer questions about a curated news corpus with verbatim, cited quotes.

    \b
    Typical use:
      qa-bot add article.txt --source "The Indian Express" --published 2026-02-01
      qa-bot build
      qa-bot ask "What does the BLA want?"
      qa-bot serve
    """


# ---------------------------------------------------------------------------- add


@main.command()
@click.argument("sources", nargs=-1)
@corpus_option
@click.option("--feed", "feed_url", metavar="URL",
              help="An RSS or Atom feed: add the articles its items link to, and remember the feed in the corpus.")
@click.option("--limit", type=click.IntRange(1), default=None, metavar="N",
              help="With --feed: read at most N new items.")
@click.option("--title", help="Headline (overrides what the source says).")
@click.option("--source", "outlet", help="Outlet, e.g. 'The Indian Express'.")
@click.option("--published", help="Publication date, YYYY-MM-DD.")
@click.option("--url", help="Link to the article.")
@click.option("--author", help="Author or desk.")
@click.option("--id", "article_id", help="Article id (only with a single article).")
@click.option("--replace", is_flag=True,
              help="Overwrite articles whose id already exists, or whose text is already in the corpus.")
@click.option("--quiet", "-q", is_flag=True, help="Do not list what cleaning removed.")
def add(sources, corpus_dir, feed_url, limit, title, outlet, published, url, author, article_id, replace,
        quiet) -> None:
    """Add articles to the corpus.

    SOURCE is a .txt/.md file pasted from a web page, an .html file, an http(s) URL, or a .jsonl
    file of articles (fields text, title, and optional id, url, source, published/date, author).
    Page clutter (ads, share prompts, author bio, link lists) is removed and reported. An article
    whose text is already in the corpus is reported and skipped (--replace overwrites it). Invalid
    sources are reported; the valid ones in the same call are still added.
    """
    from ..corpus.ingest import AddReport, Overrides, add_feed, add_sources

    if not sources and not feed_url:
        raise click.UsageError("give a SOURCE to add (a file or a URL) or --feed URL")
    if limit is not None and not feed_url:
        raise click.BadParameter("--limit counts the items of a feed: give it with --feed URL", param_hint="--limit")
    overrides = Overrides(title=title, source=outlet, published=published, url=url, author=author, id=article_id)
    report = add_sources(corpus_dir, list(sources), overrides, replace=replace) if sources else AddReport([], [])
    if feed_url:
        from_feed, feed = add_feed(corpus_dir, feed_url, overrides, limit=limit, replace=replace)
        report = AddReport(report.added + from_feed.added, report.errors + from_feed.errors,
                           report.skipped + from_feed.skipped)
        if feed is not None:
            click.echo(f"feed {feed.title or feed.url!r}: {len(feed.items)} item(s); "
                       f"followed in {Path(corpus_dir) / 'feeds.yaml'}")
    for ingested, path in report.added:
        article = ingested.article
        click.echo(f"added {path}  ({article.title!r}, {len(article.text):,} characters)")
        if not article.published:
            click.echo(f"  no published date found: give it with --published YYYY-MM-DD (or in {path.name}'s "
                       "front matter); until then it shows as 'date unknown' and time words never select it")
        if ingested.page_chars > len(article.text) and not quiet:
            click.echo(f"  kept {len(article.text):,} of the {ingested.page_chars:,} characters of text on the page: "
                       "menus, links, ads, comments and other page furniture left out")
        if ingested.dropped and not quiet:
            reasons = Counter(d.reason for d in ingested.dropped)
            summary = ", ".join(f"{n} × {reason}" for reason, n in reasons.most_common())
            click.echo(f"  removed {len(ingested.dropped)} line(s) of page clutter: {summary}")
    for duplicate in report.skipped:
        click.echo(f"skipped {duplicate}", err=True)
    for error in report.errors:
        click.echo(f"error: {error}", err=True)
    if report.added:
        click.echo(f"{len(report.added)} article(s) added to {corpus_dir}; run 'qa-bot build' to index them")
    if report.errors:
        raise click.exceptions.Exit(1)


@main.command()
@corpus_option
@index_option
@click.option("--limit", type=click.IntRange(1), default=None, metavar="N", help="Read at most N new items a feed.")
@click.option("--build", "build_after", is_flag=True,
              help="Update the index (--index) when articles were added or replaced.")
def sync(corpus_dir, index_dir, limit, build_after) -> None:
    """Poll the feeds the corpus follows (qa-bot add --feed): add new items, replace articles whose
    page changed (the old text kept in the corpus's .history), report a feed or item that fails."""
    from ..corpus.sync import sync as sync_feeds

    results = sync_feeds(corpus_dir, limit=limit)
    if not results:
        raise click.ClickException(f"{corpus_dir} follows no feed; add one with 'qa-bot add --feed URL --corpus "
                                   f"{corpus_dir}'")
    changed = 0
    for result in results:
        if result.unchanged and not result.retried:
            click.echo(f"{result.url}: unchanged")
            continue
        changed += len(result.added) + len(result.replaced)
        if result.unchanged:
            click.echo(f"{result.url}: unchanged; {result.retried} item(s) that had failed read again, "
                       f"{len(result.added)} added")
        else:
            click.echo(f"{result.url}: {len(result.added)} added, {len(result.replaced)} replaced")
        for path in [*result.added, *result.replaced]:
            click.echo(f"  {path}")
        for error in result.errors:
            click.echo(f"error: {error}", err=True)
    if build_after and changed:
        run_build(corpus_dir, index_dir, None)
    if any(result.errors for result in results):
        raise click.exceptions.Exit(1)


# ---------------------------------------------------------------------------- build


@main.command()
@corpus_option
@index_option
@model_option
@click.option(
    "--token-states/--no-token-states", default=None,
    help="Keep each sentence's token states for MaxSim ranking: better answers, about 2.75x the index "
         "size. Default: as the index was built (on for a new index).",
)
@click.option(
    "--store", "store", default=None, metavar="LOCATION",
    help="Where the passage vectors go: milvus://HOST:PORT/COLLECTION (a Milvus server or cluster, "
         "pip install 'qa-bot[milvus]') or milvus-lite://PATH (Milvus Lite in a file). "
         "Default: where the index keeps them (the FAISS files in --index for a new index).",
)
@click.option(
    "--ray", "ray", is_flag=False, flag_value="local", default=None, metavar="[ADDRESS]",
    help="Embed the new and edited articles on a Ray cluster (its address, e.g. 10.0.0.5:6379 or auto; "
         "without one, a local cluster started for the build); pip install 'qa-bot[ray]'.",
)
def build(corpus_dir, index_dir, model, token_states, store, ray) -> None:
    """Build or update the index (only new and changed articles are embedded)."""
    if store is not None:
        from ..store.vectors import store_kind

        try:
            store_kind(store)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--store") from None
    run_build(corpus_dir, index_dir, model, token_states, store, ray)


# ---------------------------------------------------------------------------- ask / search


@main.command()
@click.argument("question")
@index_option
@corpus_option
@model_option
@build_option
@served_option
@cross_encoder_option
@abstention_options
@click.option("--as-of", "as_of", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="The date the question is asked on: time words such as 'this week' are read against it "
                   "[default: today].")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object (the library's Answer.to_dict()).")
def ask(question, index_dir, corpus_dir, model, build_first, store, cross_encoder, strict, min_confidence, as_of,
        as_json) -> None:
    """Answer QUESTION with verbatim quotes and citations."""
    from ..retrieval.question import clean_question

    question = argument_text(question)
    clean_question(question)  # reject a bad question before loading anything
    bot = load_bot(index_dir, corpus_dir, model, cross_encoder, strict, min_confidence, build=build_first,
                   store=store)
    answer = bot.ask(question, as_of=as_of.date() if as_of is not None else None)
    if as_json:
        click.echo(json.dumps(answer.to_dict(), ensure_ascii=False))
    else:
        click.echo(format_answer(answer))


@main.command()
@click.argument("query")
@index_option
@corpus_option
@model_option
@build_option
@served_option
@click.option("-k", "k", default=5, show_default=True, type=click.IntRange(1, 100), help="Number of passages.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def search(query, index_dir, corpus_dir, model, build_first, store, k, as_json) -> None:
    """Show the passages that hybrid retrieval finds for QUERY (no answer selection)."""
    from ..retrieval.question import clean_question

    query = argument_text(query)
    clean_question(query)
    hits = load_bot(index_dir, corpus_dir, model, build=build_first, store=store).search(query, k)
    if as_json:
        click.echo(json.dumps([h.to_dict() for h in hits], ensure_ascii=False))
        return
    if hits:
        click.echo(format_hits(hits))


@main.command(name="list")
@index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_articles(index_dir, as_json) -> None:
    """List the articles in the index."""
    from ..store.files import load_index

    articles = load_index(index_dir).articles
    if as_json:
        click.echo(json.dumps([a.citation().to_dict() for a in articles], ensure_ascii=False))
        return
    for a in articles:
        click.echo(f"{a.published or '----------'}  {a.source or '-':24.24}  {a.title}  [{a.id}]")


# ---------------------------------------------------------------------------- eval


@main.command(name="eval")
@click.argument("data", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@index_option
@model_option
@cross_encoder_option
@abstention_options
@click.option("--k", "k", default=5, show_default=True, type=click.IntRange(1, 20), help="Largest k for accuracy@k.")
@click.option("--limit", type=click.IntRange(1), help="Ask only the first N questions.")
@click.option(
    "--baseline", "systems", multiple=True, default=("full",), show_default=True,
    help="Systems to compare in this run: dense, bm25, hybrid, full, answer-all (full, never declining), "
         "or all (repeatable).",
)
@click.option("--include-fitted", is_flag=True, help="Also score questions on paragraphs the answerer was fitted on.")
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON (one object per system).")
@click.option("--details", type=click.Path(dir_okay=False, path_type=Path), metavar="FILE",
              help="Also write every question as asked and scored, one JSON object a line (JSONL).")
def evaluate(
    data, index_dir, model, cross_encoder, strict, min_confidence, k, limit, systems, include_fitted, as_json,
    details,
) -> None:
    """Score answers on DATA: a question file (JSONL of {"q", "gold"}) asked against --index, or a
    SQuAD JSON / MRQA JSONL(.gz) / NewsQA file, or a RealTime QA quarter's questions file (its
    articles file beside it), whose articles are first indexed as one corpus (in --index if given,
    else a temporary directory)."""
    import contextlib
    import tempfile

    from ..answer.config import AnswerConfig
    from ..answer.rerank import load_reranker
    from ..bot import QABot
    from ..corpus.files import save_articles
    from ..evaluation.baselines import System, make_system, reads_dates
    from ..evaluation.datasets import questions_to_score
    from ..evaluation.run import DetailsFile, format_table, run_eval

    try:
        chosen = System.named(systems)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--baseline") from None
    reranker = load_reranker(cross_encoder)
    eval_set, excluded = questions_to_score(data, include_fitted=include_fitted, limit=limit)
    # accuracy@k needs k quotes: no margin may cut the list short (abstention still applies).
    config = AnswerConfig(
        max_quotes=k, extra_quote_margin=float("inf"), strict=strict, min_confidence=min_confidence
    )
    try:  # opened before the long part, so that a path that cannot be written fails at once
        record = DetailsFile(details) if details else None
    except OSError as exc:
        raise click.BadParameter(f"cannot write {details}: {exc.strerror}", param_hint="--details") from None
    with tempfile.TemporaryDirectory(prefix="qa-bot-eval-") as tmp, record or contextlib.nullcontext():
        if eval_set.articles:
            work = Path(tmp)
            index = index_dir if index_dir != Path(DEFAULT_INDEX) else work / "index"
            save_articles(work / "corpus", eval_set.articles)
            run_build(work / "corpus", index, model)
            bot = QABot.load(index, model=model, config=config, reranker=reranker)
        else:
            loaded = load_bot(index_dir, Path(DEFAULT_CORPUS), model)
            bot = QABot(loaded.data, loaded.encoder, config, reranker=reranker)
        # A set whose questions carry their dates is scored with them and, for qa-bot, without.
        dated = any(q.as_of for q in eval_set.questions)
        runs = [(system, True) for system in chosen] + [(s, False) for s in chosen if dated and reads_dates(s)]
        reports = []
        for system, dates in runs:
            scored = make_system(bot, system, dates=dates)
            reports.append(run_eval(scored, eval_set, k=k, progress=progress_bar(f"asking ({scored.name})"),
                                    record=record))
    if as_json:
        for report in reports:
            click.echo(json.dumps(report.to_dict() | {"excluded_fitted_questions": excluded}))
        return
    click.echo(format_table(reports, k, excluded))


# ---------------------------------------------------------------------------- serve


@main.command()
@index_option
@corpus_option
@model_option
@build_option
@served_option
@cross_encoder_option
@abstention_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind (0.0.0.0 exposes it).")
@click.option("--port", default=7860, show_default=True, type=click.IntRange(1, 65535))
@click.option("--api-only", is_flag=True,
              help="Serve the REST API (/api/...) without the chat; it answers 503 until the index is built.")
@click.option("--log-questions", "log_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Append each question asked (time, answered or not, confidence, articles cited; nothing "
                   "about the reader) to this JSON-lines file, for 'qa-bot report'.")
def serve(index_dir, corpus_dir, model, build_first, store, cross_encoder, strict, min_confidence, host,
          port, api_only, log_file) -> None:
    """Start the web chat and the REST API (with --build, on the index of --corpus built or updated first)."""
    from ..store.generations import live_name
    from .web import launch

    questions = None
    if log_file is not None:
        from .questionlog import QuestionLog

        try:
            questions = QuestionLog(log_file)
        except OSError as exc:
            raise click.BadParameter(f"cannot write {log_file}: {exc.strerror}", param_hint="--log-questions") from None
    if api_only and not build_first and store is None and not live_name(index_dir):
        from ..bot import QABot
        from .live import PendingBot

        options = bot_options(model, cross_encoder, strict, min_confidence)
        click.echo(f"no index in {index_dir} yet: the API answers 503 until 'qa-bot build' makes one", err=True)
        launch(None, host=host, port=port, pending=PendingBot(lambda: QABot.load(index_dir, **options)),
               api_only=True, questions=questions)
        return
    bot = load_bot(index_dir, corpus_dir, model, cross_encoder, strict, min_confidence, build=build_first,
                   store=store)
    launch(bot, host=host, port=port, api_only=api_only, questions=questions)


# ---------------------------------------------------------------------------- report


@main.command()
@click.argument("log_file", metavar="LOG", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@model_option
@click.option("--limit", default=50, show_default=True, type=click.IntRange(1), help="Topics and answers listed.")
@click.option("--low-confidence", default=0.6, show_default=True, type=click.FloatRange(0, 1),
              help="List answers given with less confidence than this.")
@click.option("--since", type=click.DateTime(formats=["%Y-%m-%d"]), metavar="YYYY-MM-DD",
              help="Only the questions asked on or after this day (UTC).")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def report(log_file, model, limit, low_confidence, since, as_json) -> None:
    """What readers asked that the articles could not answer: the declined questions of a
    'serve --log-questions' LOG grouped by topic, most asked first, and the answers given with low
    confidence."""
    from ..encoders.factory import make_encoder
    from ..encoders.models import DEFAULT_MODEL
    from .questionlog import read_log
    from .report import format_report, make_report, report_json

    try:
        logged = [a for a in read_log(log_file) if since is None or a.time[:10] >= since.date().isoformat()]
    except ValueError as exc:
        raise click.ClickException(f"{exc}; remove or mend that line and run 'qa-bot report' again") from None
    result = make_report(logged, make_encoder(model or DEFAULT_MODEL), low_confidence=low_confidence)
    if as_json:
        click.echo(json.dumps(report_json(result), ensure_ascii=False))
    else:
        click.echo(format_report(result, limit=limit))


if __name__ == "__main__":  # pragma: no cover
    main()
