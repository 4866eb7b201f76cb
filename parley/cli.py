"""The `parley` command: ingest articles, ask questions, manage the database, run the bot.

Only the standard library is imported up front, so that `parley --help` answers at once: each
command imports what it uses (the model, torch, Telegram) when it runs.
"""

from __future__ import annotations

import argparse
import gc
import sys
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import TYPE_CHECKING

from parley import cli_sources
from parley.cli_articles import run_ask, run_ingest, run_reindex
from parley.cli_support import CommandError, knowledge_errors, on_archive, services_for

if TYPE_CHECKING:
    from logging import LogRecord

    from telegram.error import TelegramError

    from parley.settings import Settings


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `parley` console script."""
    args = build_parser().parse_args(argv)
    try:
        return _run(args)
    finally:
        gc.unfreeze()  # for a caller that lives on (the tests): collectable again


def _run(args: argparse.Namespace) -> int:
    # These imports make some 80,000 lasting objects and almost no garbage (a few hundred
    # cycles), so the cyclic collector's passes over them are wasted: a quarter of a command
    # that needs no model. Frozen after, they are never scanned again.
    gc.disable()
    try:
        from pydantic import ValidationError

        from parley import logs
        from parley.settings import Settings, SettingsError

        try:
            settings = Settings()
        except ValidationError as error:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in error.errors()
            )
            print(f"parley: invalid settings: {problems}", file=sys.stderr)
            return 2
    finally:
        gc.freeze()
        gc.enable()
    configure_logging(settings.log_level, secrets=logs.secrets_in(settings))
    try:
        handler: Callable[[argparse.Namespace, Settings], int] = args.handler
        return handler(args, settings)
    except (CommandError, SettingsError) as error:
        print(f"parley: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:
        failure = _database_failure(error)
        if failure is None:
            raise
        print(f"parley: {failure}", file=sys.stderr)
        return 1


def _database_failure(error: Exception) -> str | None:
    """The sentence for a database error, None for any other error. Only the commands that use
    SQLAlchemy import it (the half-second ones do not): an error can only be one of its own
    once it is loaded."""
    if "sqlalchemy" not in sys.modules:
        return None
    from sqlalchemy.exc import SQLAlchemyError

    if not isinstance(error, SQLAlchemyError):
        return None
    return f"database error: {error.__class__.__name__}: {error}"


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
    run_parser = commands.add_parser("run", help="start the Telegram bot")
    run_parser.add_argument(
        "--webhook",
        action="store_true",
        help="take updates by webhook (WEBHOOK_* settings) instead of long polling",
    )
    run_parser.set_defaults(handler=run_main)
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
    import logging

    from parley import logs

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
    logging.getLogger("telegram.ext").addFilter(_startup_failure_traceback)


def _startup_failure_traceback(record: LogRecord) -> bool:
    """Drop the traceback PTB logs when it gives up starting (the Bot API unreachable, the
    token refused): `parley run` says why in one sentence. Its polling loop retries forever
    and so never logs this."""
    return not (record.module == "networkloop" and record.levelname in ("ERROR", "CRITICAL"))


def run_sources_command(args: argparse.Namespace, settings: Settings) -> int:
    """`parley sources add|list|remove`; only adding needs the model."""
    if args.sources_command == "add":
        with services_for(settings) as services:
            print(cli_sources.add(args.url, services))
        return 0
    if args.sources_command == "list":
        print("\n".join(on_archive(settings, cli_sources.listing)))
        return 0
    removed = on_archive(
        settings, lambda connection: cli_sources.remove(connection, source_id=args.source_id)
    )
    if removed is None:
        raise CommandError(
            f"There is no active source #{args.source_id}; `parley sources list` lists them."
        )
    print(removed)
    return 0


def run_db_upgrade(_args: argparse.Namespace, settings: Settings) -> int:
    """`parley db upgrade`: apply pending migrations."""
    from storage.revisions import current_revision

    print(f"Database is at revision {on_archive(settings, current_revision)}.")
    return 0


def run_main(args: argparse.Namespace, settings: Settings) -> int:
    """`parley run [--webhook]`: migrate, seed an empty archive, and run the bot until SIGTERM."""
    token = settings.bot_token()  # a missing or malformed token fails before the model loads
    webhook = settings.webhook() if args.webhook else None  # so do webhook settings
    # Telegram and the bot (with the vector engine) are loaded only to run it: seconds of
    # imports that an operator who forgot the token should not wait for.
    from telegram.error import TelegramError

    from bot.app import build_application, run_polling, run_webhook
    from parley.services import built_to_last

    with ExitStack() as running:
        with built_to_last():
            services = running.enter_context(services_for(settings))
            services.seed_if_empty()
            application = build_application(settings, services)
        try:
            if webhook is None:
                run_polling(application)
            else:
                run_webhook(application, webhook)
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
    from parley.playground import run  # the playground is loaded only when it is asked for

    with knowledge_errors():
        return run(settings)


if __name__ == "__main__":
    sys.exit(main())
