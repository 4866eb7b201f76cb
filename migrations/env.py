"""Alembic environment: runs revisions on Parley's engine, in batch mode for SQLite.

Self-contained, like the revisions: Parley hands its engine in (``storage.db``), and
Alembic's own command line gets one from ``sqlalchemy.url`` or ``DATABASE_URL``.
"""

from __future__ import annotations

import os
from typing import Any

from alembic import context
from sqlalchemy import Connection, Engine, create_engine, text

config = context.config

# Any fixed number: the key of the advisory lock that makes PostgreSQL upgrades take turns.
UPGRADE_LOCK_KEY = 0x7061726C6579  # "parley"


def _engine() -> Engine:
    engine = config.attributes.get("engine")
    if isinstance(engine, Engine):
        return engine
    url = config.get_main_option("sqlalchemy.url") or os.environ.get("DATABASE_URL")
    return create_engine(url or "sqlite:///data/parley.db")


def _target_metadata() -> Any:
    """The models, only for `alembic revision --autogenerate`, which compares them with the
    database; running revisions never needs (or imports) application code."""
    if not getattr(config.cmd_opts, "autogenerate", False):
        return None
    from storage.models import Base

    return Base.metadata


def _begin_sqlite(connection: Connection) -> None:
    # Batch mode may copy a table and drop the original: with foreign keys on, that drop
    # would cascade into every row that refers to it. (A no-op inside a transaction, so it
    # comes before BEGIN.)
    connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
    # pysqlite opens a transaction only before INSERT, UPDATE or DELETE, so each CREATE
    # TABLE would commit on its own and a crash mid-migration would leave tables without
    # their alembic_version row. An explicit BEGIN makes the DDL transactional; IMMEDIATE
    # also makes a second process starting at the same moment wait, then find the schema
    # up to date.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _begin_postgresql(connection: Connection) -> None:
    # PostgreSQL's DDL is transactional already. Workers starting together take turns:
    # the second waits here until the first commits, then finds the schema up to date.
    # The lock ends with the transaction, or with the connection if the process dies.
    connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": UPGRADE_LOCK_KEY})


def run_migrations() -> None:
    """Run pending revisions inside one transaction: all of them are applied, or none."""
    engine = _engine()
    with engine.connect() as connection:
        dialect = connection.dialect.name
        if dialect == "sqlite":
            _begin_sqlite(connection)
        elif dialect == "postgresql":
            _begin_postgresql(connection)
        context.configure(
            connection=connection,
            target_metadata=_target_metadata(),
            render_as_batch=dialect == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()
        if dialect == "sqlite":
            connection.exec_driver_sql("PRAGMA foreign_keys=ON")


run_migrations()
