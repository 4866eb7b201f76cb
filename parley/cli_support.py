"""What the `parley` commands share: the error that ends one, the services or the bare
archive it runs on, a progress bar. Heavy modules are imported inside, when a command runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    from parley.services import Services
    from parley.settings import Settings
    from storage.plain_sql import Connection

T = TypeVar("T")

PROGRESS_THRESHOLD = 200  # passages; shorter runs finish before a bar would help


class CommandError(Exception):
    """A command cannot go on; the message is for the person who ran it."""


@contextmanager
def knowledge_errors() -> Iterator[None]:
    """The model's, the archive's and the sources' errors as one sentence for the operator.
    Imported here, where the commands that can raise them begin, not with the CLI."""
    from knowledge.embedding import EmbeddingError
    from knowledge.ranking import RankingModelError
    from parley.services import ModelMismatchError
    from web.source_manager import SourceError

    try:
        yield
    except (ModelMismatchError, EmbeddingError, RankingModelError, SourceError) as error:
        raise CommandError(str(error)) from None


@contextmanager
def services_for(settings: Settings, *, check_model: bool = True) -> Iterator[Services]:
    """Services for one command, closed when it ends."""
    with knowledge_errors():
        from parley.services import build_services

        services = build_services(settings, check_model=check_model)
        try:
            yield services
        finally:
            services.close()


def on_archive(settings: Settings, work: Callable[[Connection], T]) -> T:
    """``work`` done on the migrated archive alone, in one transaction, for the commands that
    need neither the model nor the web.

    A SQLite file already at the newest revision is opened with the standard library's driver:
    importing SQLAlchemy would take most of the half second these commands have. Anything
    else (PostgreSQL, an archive to create or upgrade) takes SQLAlchemy Core after the upgrade;
    so does work that fails on the driver, redone there so that it is reported as ever.
    """
    import sqlite3

    from storage import sqlite_file

    connection = sqlite_file.open_at_head(settings.database_url)
    if connection is not None:
        try:
            with connection:  # commits, or rolls back on an error
                return work(connection)
        except sqlite3.Error:
            # Rolled back; redone below, where a lasting failure (a locked file, after its
            # wait) reads as it always has.
            pass
        finally:
            connection.close()
    from storage.db import create_database_engine, upgrade_database

    engine = create_database_engine(settings.database_url)
    try:
        upgrade_database(engine)
        with engine.begin() as core_connection:
            return work(core_connection)
    finally:
        engine.dispose()


@contextmanager
def progress_bar(total: int, label: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on standard error for long runs on a terminal."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    stderr = Console(stderr=True)
    if total < PROGRESS_THRESHOLD or not stderr.is_terminal:
        yield None
        return
    columns = (TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=stderr, transient=True) as progress:
        task = progress.add_task(label, total=total)
        yield lambda advance: progress.advance(task, advance)
