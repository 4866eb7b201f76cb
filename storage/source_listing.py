"""The active sources listed, and one stopped, in plain SQL: one text for the bot, which runs it
on its sessions, and for `parley sources list|remove`, which run it on SQLite's own driver
when they can (storage/plain_sql.py), as importing SQLAlchemy would take most of their half
second."""

from __future__ import annotations

from dataclasses import dataclass

from storage.plain_sql import Connection, rows

# SQLite stores booleans as 0 and 1 and reads FALSE as 0: the same text fits both databases.
ACTIVE_SOURCES = """
SELECT sources.id, sources.name, sources.kind, sources.url, count(articles.id)
FROM sources LEFT OUTER JOIN articles ON articles.source_id = sources.id
WHERE sources.active
GROUP BY sources.id, sources.name, sources.kind, sources.url
ORDER BY sources.id
"""
# One statement: a concurrent removal of the same source leaves exactly one winner.
STOP_FOLLOWING = """
UPDATE sources SET active = FALSE
WHERE sources.id = :source_id AND sources.active
RETURNING sources.id, sources.name
"""


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


def active_sources(connection: Connection) -> list[SourceSummary]:
    """Every active source with how many articles it has given."""
    return [
        SourceSummary(id, name, kind, url, int(count))
        for id, name, kind, url, count in rows(connection, ACTIVE_SOURCES)
    ]


def stop_following(connection: Connection, *, source_id: int) -> RemovedSource | None:
    """Deactivate an active source (its articles stay); None when there is no such source."""
    removed = rows(connection, STOP_FOLLOWING, {"source_id": source_id})
    return RemovedSource(removed[0][0], removed[0][1]) if removed else None
