"""Plain SQL that runs the same on SQLite's own driver and on SQLAlchemy.

The commands that only read or flip a row (`parley sources list|remove`, `parley db upgrade`)
open a SQLite archive with the standard library's `sqlite3`, since importing SQLAlchemy would
take most of the half second they have; the bot runs the very same statements on its
sessions. Parameters are named (``:source_id``), the style both accept.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, TypeAlias

if TYPE_CHECKING:
    from sqlalchemy import Connection as CoreConnection
    from sqlalchemy.orm import Session

Connection: TypeAlias = "sqlite3.Connection | CoreConnection | Session"


def rows(
    connection: Connection, sql: str, parameters: Mapping[str, Any] | None = None
) -> list[Sequence[Any]]:
    """Every row the statement returns, as tuples."""
    if isinstance(connection, sqlite3.Connection):
        return connection.execute(sql, dict(parameters or {})).fetchall()
    # A SQLAlchemy connection or session: SQLAlchemy is loaded already.
    from sqlalchemy import text

    return list(connection.execute(text(sql), dict(parameters or {})).all())
