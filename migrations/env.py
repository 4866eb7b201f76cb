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
    """Run pending revisions inside one transaction: all of them are applied, or none."""
    engine = _engine()
    with engine.connect() as connection:
        sqlite = connection.dialect.name == "sqlite"
        if sqlite:
            # Batch mode may copy a table and drop the original: with foreign keys on, that
            # drop would cascade into every row that refers to it. (A no-op inside a
            # transaction, so it comes before BEGIN.)
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            # pysqlite opens a transaction only before INSERT, UPDATE or DELETE, so each
            # CREATE TABLE would commit on its own and a crash mid-migration would leave
            # tables without their alembic_version row. An explicit BEGIN makes the DDL
            # transactional; IMMEDIATE also makes a second process starting at the same
            # moment wait, then find the schema up to date.
            connection.exec_driver_sql("BEGIN IMMEDIATE")
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
