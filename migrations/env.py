"""Alembic environment: runs revisions on Parley's engine, in batch mode for SQLite."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Engine

from storage.db import create_database_engine
from storage.models import Base

config = context.config


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        from bot.settings import Settings  # only when Alembic's own CLI runs this file

        url = Settings().database_url
    return create_database_engine(url)


def run_migrations() -> None:
    """Run pending revisions inside one transaction."""
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode may copy a table and drop the original: with foreign keys on, that
            # drop would cascade into every row that refers to it.
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if sqlite:
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


run_migrations()
