"""What the `parley` commands share: the error that ends one, the services or the bare
archive it runs on, a progress bar. Heavy modules are imported inside, when a command runs."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from parley.services import Services
    from parley.settings import Settings

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


@contextmanager
def archive_for(settings: Settings) -> Iterator[Engine]:
    """The migrated database alone, for commands that need neither the model nor the web:
    an engine for SQLAlchemy Core, since importing the ORM would double their start-up."""
    from storage.db import create_database_engine, upgrade_database

    engine = create_database_engine(settings.database_url)
    try:
        upgrade_database(engine)
        yield engine
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
