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
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


run_migrations()
