"""INSERT … ON CONFLICT for SQLite and PostgreSQL: a row that is already there is not an
error, so two requests racing to add the same row both succeed (the row kept, or updated)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, model: type[Any]) -> sqlite.Insert | postgresql.Insert:
    """An INSERT in the dialect of the session's database, which can say ON CONFLICT."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        return sqlite.insert(model)
    if dialect == "postgresql":
        return postgresql.insert(model)
    raise NotImplementedError(f"no INSERT … ON CONFLICT for {dialect}")


def insert_ignoring_conflicts(
    session: Session, model: type[Any]
) -> sqlite.Insert | postgresql.Insert:
    """An INSERT for the model's table that skips rows clashing with a unique constraint.

    Only the two databases Parley supports have it under this name; both count a skipped row
    as zero rows changed, which is how callers tell "added" from "already there".
    """
    statement = _insert(session, model).on_conflict_do_nothing()
    # SQLAlchemy keeps an INSERT's row count only when asked; psycopg's would read -1.
    return statement.execution_options(preserve_rowcount=True)


def upsert(session: Session, model: type[Any], values: Mapping[str, Any], *, key: str) -> None:
    """Insert the row, or update the one with the same `key`: one statement, so that two
    writers of the same key, even on two PostgreSQL workers at once, both succeed and the
    later one wins (a delete then an insert would make the second fail on the unique key)."""
    changes = {name: value for name, value in values.items() if name != key}
    statement = _insert(session, model).values(**values)
    session.execute(statement.on_conflict_do_update(index_elements=[key], set_=changes))
