"""The active sources listed, and one stopped, with SQLAlchemy Core alone.

`parley sources list|remove` must answer in under half a second, and importing the ORM and
the models takes about as long again as SQLAlchemy itself: these queries name the few columns
they read (tests check the names against the models) and run on a connection or a session.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Boolean, Integer, String, column, func, select, table, update

if TYPE_CHECKING:
    from sqlalchemy import Connection
    from sqlalchemy.orm import Session

SOURCES = table(
    "sources",
    column("id", Integer),
    column("name", String),
    column("kind", String),
    column("url", String),
    column("active", Boolean),
)
ARTICLES = table("articles", column("id", Integer), column("source_id", Integer))


@dataclass(frozen=True)
class SourceSummary:
    """A source as users see it listed."""

    id: int
    name: str
    kind: str
    url: str | None
    articles: int


@dataclass(frozen=True)
class RemovedSource:
    """A source no longer followed."""

    id: int
    name: str


def active_sources(connection: Connection | Session) -> list[SourceSummary]:
    """Every active source with how many articles it has given."""
    rows = connection.execute(
        select(
            SOURCES.c.id,
            SOURCES.c.name,
            SOURCES.c.kind,
            SOURCES.c.url,
            func.count(ARTICLES.c.id),
        )
        .select_from(SOURCES.outerjoin(ARTICLES, ARTICLES.c.source_id == SOURCES.c.id))
        .where(SOURCES.c.active)
        .group_by(SOURCES.c.id, SOURCES.c.name, SOURCES.c.kind, SOURCES.c.url)
        .order_by(SOURCES.c.id)
    ).all()
    return [SourceSummary(id, name, kind, url, int(count)) for id, name, kind, url, count in rows]


def stop_following(connection: Connection | Session, *, source_id: int) -> RemovedSource | None:
    """Deactivate an active source (its articles stay); None when there is no such source."""
    # One statement: a concurrent removal of the same source leaves exactly one winner.
    row = connection.execute(
        update(SOURCES)
        .where(SOURCES.c.id == source_id, SOURCES.c.active)
        .values(active=False)
        .returning(SOURCES.c.id, SOURCES.c.name)
    ).first()
    return None if row is None else RemovedSource(row.id, row.name)
