"""INSERT … ON CONFLICT DO NOTHING for SQLite and PostgreSQL: a row that is already there is
not an error, so two requests racing to add the same row both succeed."""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignoring_conflicts(
    session: Session, model: type[Any]
) -> sqlite.Insert | postgresql.Insert:
    """An INSERT for the model's table that skips rows clashing with a unique constraint.

    Only the two databases Parley supports have it under this name; both count a skipped row
    as zero rows changed, which is how callers tell "added" from "already there".
    """
    dialect = session.get_bind().dialect.name
    statement: sqlite.Insert | postgresql.Insert
    if dialect == "sqlite":
        statement = sqlite.insert(model).on_conflict_do_nothing()
    elif dialect == "postgresql":
        statement = postgresql.insert(model).on_conflict_do_nothing()
    else:
        raise NotImplementedError(f"no insert-or-ignore for {dialect}")
    # SQLAlchemy keeps an INSERT's row count only when asked; psycopg's would read -1.
    return statement.execution_options(preserve_rowcount=True)
