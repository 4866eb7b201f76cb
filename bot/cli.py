"""The `parley` command: ingest articles, ask questions, manage the database, run the bot."""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import logging
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, TextIO

from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from sqlalchemy.exc import SQLAlchemyError

from bot import cli_sources, logs
from bot.services import ModelMismatchError, Services, build_services
from bot.settings import Settings, SettingsError
from knowledge import ingest
from knowledge.answering import Answer
from knowledge.documents import DocumentError
from knowledge.embedding import EmbeddingError
from knowledge.ranking import RankingModelError
from knowledge.sources import SourceError
from storage import archive
from storage.db import create_database_engine, current_revision, upgrade_database

if TYPE_CHECKING:
    from telegram.error import TelegramError

PROGRESS_THRESHOLD = 200  # passages; shorter runs finish before a bar would help

log = logging.getLogger("parley")
stderr = Console(stderr=True)


class CommandError(Exception):
    """A command cannot go on; the message is for the person who ran it."""


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `parley` console script."""
    args = build_parser().parse_args(argv)
    try:
        settings = Settings()
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
        )
        print(f"parley: invalid settings: {problems}", file=sys.stderr)
        return 2
    configure_logging(settings.log_level, secrets=logs.secrets_in(settings))
    try:
        handler: Callable[[argparse.Namespace, Settings], int] = args.handler
        return handler(args, settings)
    except (
        CommandError,
        ModelMismatchError,
        EmbeddingError,
        RankingModelError,
        SettingsError,
        SourceError,
    ) as error:
        print(f"parley: {error}", file=sys.stderr)
        return 1
    except SQLAlchemyError as error:
        print(f"parley: database error: {error.__class__.__name__}: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def build_parser() -> argparse.ArgumentParser:
    """The command line's grammar."""
    parser = argparse.ArgumentParser(
        prog="parley",
        description="Follow negotiations in the news and answer questions about them.",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest_parser = commands.add_parser("ingest", help="ingest article files or folders")
    ingest_parser.add_argument(
        "paths",
        nargs="+",
        type=_non_empty_path,
        metavar="PATH_OR_URL",
        help=".txt, .md or .html files or folders",
    )
    ingest_parser.add_argument(
        "--dry-run", action="store_true", help="store nothing; show what would be stored"
    )
    ingest_parser.add_argument(
        "--json", action="store_true", help="print one JSON object per article"
    )
    ingest_parser.set_defaults(handler=run_ingest)

    ask_parser = commands.add_parser("ask", help="answer questions from the archive")
    ask_parser.add_argument(
        "questions",
        nargs="*",
        metavar="QUESTION",
        help="questions; none reads standard input, one per line",
    )
    ask_parser.add_argument("--json", action="store_true", help="print one JSON object per answer")
    ask_parser.set_defaults(handler=run_ask)

    db_parser = commands.add_parser("db", help="manage the database")
    db_commands = db_parser.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    db_commands.add_parser("upgrade", help="apply pending migrations").set_defaults(
        handler=run_db_upgrade
    )

    commands.add_parser(
        "reindex", help="re-embed every passage with the configured model"
    ).set_defaults(handler=run_reindex)
    commands.add_parser("run", help="start the Telegram bot").set_defaults(handler=run_main)
    commands.add_parser(
        "playground", help="try the bot in a browser, on a local stand-in for Telegram"
    ).set_defaults(handler=run_playground)
    cli_sources.add_parser(commands, run_sources_command)
    return parser


def _non_empty_path(text: str) -> str:
    # An empty path would resolve to the current folder and ingest everything in it.
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty path names no file or folder")
    return text


def configure_logging(level: str, *, secrets: Sequence[str] = ()) -> None:
    """Log to standard error, with ``secrets`` redacted; quiet the chatty libraries."""
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    logs.redact_logs(secrets)
    for name in (
        "httpx",
        "httpcore",
        "sentence_transformers",
        "transformers",
        "urllib3",
        "alembic",
        "apscheduler",
    ):
        logging.getLogger(name).setLevel(logging.WARNING)


@contextmanager
def services_for(settings: Settings, *, check_model: bool = True) -> Iterator[Services]:
    """Services for one command, closed when it ends."""
    services = build_services(settings, check_model=check_model)
    try:
        yield services
    finally:
        services.close()


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on standard error for long runs on a terminal."""
    if total < PROGRESS_THRESHOLD or not stderr.is_terminal:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda advance: progress.advance(task, advance)


def run_ingest(args: argparse.Namespace, settings: Settings) -> int:
    """`parley ingest`: store new articles, or preview them with --dry-run."""
    urls = [path for path in args.paths if path.lower().startswith(("http://", "https://"))]
    paths = [path for path in args.paths if path not in urls]
    with services_for(settings) as services:
        plans, problems = services.ingestor.plan_files(paths) if paths else ([], [])
        if urls:
            page_plans, page_problems = asyncio.run(_plan_pages(services, urls))
            plans, problems = plans + page_plans, problems + page_problems
        if args.dry_run:
            for plan in plans:
                print(_preview(plan, as_json=args.json), flush=True)
        else:
            total = sum(len(plan.passages) for plan in plans)
            with progress_bar(total, "Embedding passages") as advance:
                report = services.ingestor.store(plans, progress=advance)
            for plan in report.stored:
                _say(args, "stored", plan)
            for plan in report.duplicates:
                _say(args, "duplicate", plan)
            stored_passages = sum(len(plan.passages) for plan in report.stored)
            print(
                f"Stored {len(report.stored)} article(s) with {stored_passages} passage(s); "
                f"{len(report.duplicates)} already in the archive.",
                file=sys.stderr,
            )
    for problem in problems:
        print(f"parley: {problem}", file=sys.stderr)
    return 1 if problems else 0


async def _plan_pages(
    services: Services, urls: list[str]
) -> tuple[list[ingest.ArticlePlan], list[DocumentError]]:
    plans, problems = [], []
    for url in urls:
        try:
            plans.append(await services.sources.preview_page(url))
        except SourceError as error:
            problems.append(DocumentError(url, str(error)))
    return plans, problems


def _preview(plan: ingest.ArticlePlan, *, as_json: bool) -> str:
    preview = plan.preview()
    if as_json:
        return json.dumps(preview, ensure_ascii=False)
    return (
        f"{preview['title']}\n  source: {preview['source']}  date: {preview['date'] or 'unknown'}"
        f"  passages: {preview['passages']}\n  {preview['url']}"
    )


def _say(args: argparse.Namespace, status: str, plan: ingest.ArticlePlan) -> None:
    if args.json:
        print(json.dumps({"status": status, **plan.preview()}, ensure_ascii=False), flush=True)
    else:
        print(f"{status}: {plan.document.title} ({plan.document.url})")


def run_ask(args: argparse.Namespace, settings: Settings) -> int:
    """`parley ask`: answer questions from arguments or standard input."""
    questions = _questions(args.questions, sys.stdin)
    first = next(questions, None)
    if first is None:
        raise CommandError("no question given: pass one as an argument or on standard input")
    with services_for(settings) as services:
        services.seed_if_empty()
        for question in itertools.chain([first], questions):
            started = time.perf_counter()
            answer = services.answerer.ask(question)
            elapsed_ms = (time.perf_counter() - started) * 1000
            print(_render_answer(answer, as_json=args.json, elapsed_ms=elapsed_ms), flush=True)
    return 0


def _questions(given: Sequence[str], stdin: TextIO) -> Iterator[str]:
    """The questions given, else standard input's lines one at a time as they arrive, so that
    a live conversation on a pipe gets each answer before it writes the next question."""
    for line in given or stdin:
        if line.strip():
            yield line.strip()


def _render_answer(answer: Answer, *, as_json: bool, elapsed_ms: float) -> str:
    if as_json:
        record = {**answer.as_json(), "elapsed_ms": round(elapsed_ms, 1)}
        return json.dumps(record, ensure_ascii=False)
    return f"Q: {answer.question}\n{answer.text}\n"


def run_sources_command(args: argparse.Namespace, settings: Settings) -> int:
    """`parley sources add|list|remove`."""
    with services_for(settings) as services:
        for line in cli_sources.run_sources(args, services):
            print(line)
    return 0


def run_db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    """`parley db upgrade`: apply pending migrations."""
    engine = create_database_engine(settings.database_url)
    try:
        upgrade_database(engine)
        print(f"Database is at revision {current_revision(engine)}.")
    finally:
        engine.dispose()
    return 0


def run_reindex(_args: argparse.Namespace, settings: Settings) -> int:
    """`parley reindex`: re-embed every passage with the configured model."""
    with services_for(settings, check_model=False) as services:
        with services.sessions() as session:
            total = archive.passage_count(session)
        with progress_bar(total, "Re-embedding passages") as advance:
            count = ingest.reindex(
                sessions=services.sessions, embedder=services.embedder, progress=advance
            )
    print(f"Re-embedded {count} passage(s) with {services.embedder.model_id}.")
    return 0


def run_main(_args: argparse.Namespace, settings: Settings) -> int:
    """`parley run`: migrate, seed an empty archive, and run the bot until SIGTERM."""
    from telegram.error import TelegramError

    from bot.app import build_application, serve  # Telegram is loaded only to run the bot

    token = settings.bot_token()  # a missing or malformed token fails before the model loads
    with services_for(settings) as services:
        services.seed_if_empty()
        application = build_application(settings, services)
        try:
            asyncio.run(serve(application, settings))
        except TelegramError as error:
            raise CommandError(_bot_api_failure(error, settings, token)) from None
    return 0


def _bot_api_failure(error: TelegramError, settings: Settings, token: str) -> str:
    """One sentence for the operator on why the bot could not start talking to Telegram."""
    from telegram.error import InvalidToken, NetworkError

    reason = str(error).replace(token, "[token]")
    where = settings.telegram_api_base_url
    if isinstance(error, InvalidToken):
        return (
            f"the Telegram Bot API at {where} refused TELEGRAM_BOT_TOKEN ({reason}); "
            "check the token with @BotFather."
        )
    if isinstance(error, NetworkError):
        return (
            f"cannot reach the Telegram Bot API at {where} ({reason}); "
            "check the network and TELEGRAM_API_BASE_URL."
        )
    return f"the Telegram Bot API at {where} failed while the bot was starting ({reason})."


def run_playground(_args: argparse.Namespace, settings: Settings) -> int:
    """`parley playground`: the bot on a local Bot API server, with a chat page, until SIGTERM."""
    from playground.runner import run  # the playground is loaded only when it is asked for

    return run(settings)


if __name__ == "__main__":
    sys.exit(main())
