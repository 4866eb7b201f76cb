"""The archive's change log: every process catches up with what any other one wrote.

Each writing transaction that changes what the in-memory indexes hold (an article stored,
every vector re-embedded) adds one row here, in the same transaction. A process remembers
the newest change id it has applied and reads only the newer rows. That works only if ids
become visible in increasing order: SQLite serialises writers, so they do; on PostgreSQL ids
come from a sequence and a later id may commit first, so writers take a transaction-level
advisory lock before taking an id, and hold it until they commit. The same transaction sends
a NOTIFY, delivered at commit, so listeners catch up at once.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import Engine, Integer, String, func, insert, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.models import Article, Base, utcnow

log = logging.getLogger(__name__)
NOTIFY_CHANNEL = "parley_archive_changes"
# Any fixed number other than the migrations' (0x7061726C6579): "pchg".
CHANGE_LOCK_KEY = 0x70636867
LISTEN_WAKE_SECONDS = 1.0
LISTEN_RETRY_SECONDS = 5.0
FETCH_CHUNK = 900  # ids per IN (…) query, under SQLite's old 999-variable limit


class ChangeKind(StrEnum):
    """What a change did to the archive."""

    ADDED = "added"  # an article and its passages were stored
    REINDEXED = "reindexed"  # every passage vector was replaced: reload them all


class ArchiveChange(Base):
    """One change to the archive, in commit order."""

    __tablename__ = "archive_changes"
    __table_args__ = {"sqlite_autoincrement": True}  # noqa: RUF012 (SQLAlchemy reads it once)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(20))
    article_id: Mapped[int | None] = mapped_column(Integer, default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


@dataclass(frozen=True)
class Change:
    """A change as a catching-up process reads it."""

    id: int
    kind: str  # a ChangeKind, or one a newer Parley wrote: catching up then reloads everything
    article_id: int | None


def record_change(session: Session, *, kind: ChangeKind, article_id: int | None = None) -> int:
    """Log a change in the caller's transaction (write it last: on PostgreSQL the lock it
    takes makes other writers wait until this transaction ends); returns its id."""
    postgresql = session.get_bind().dialect.name == "postgresql"
    if postgresql:
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHANGE_LOCK_KEY})
    change_id = session.scalar(
        insert(ArchiveChange)
        .values(kind=kind.value, article_id=article_id, created_at=utcnow())
        .returning(ArchiveChange.id)
    )
    assert change_id is not None
    if postgresql:
        session.execute(
            text("SELECT pg_notify(:channel, :payload)"),
            {"channel": NOTIFY_CHANNEL, "payload": str(change_id)},
        )
    return int(change_id)


def article_minhashes(session: Session, *, article_ids: Sequence[int]) -> list[bytes | None]:
    """The MinHash signatures of these articles (None for those too short to have one)."""
    found: list[bytes | None] = []
    for start in range(0, len(article_ids), FETCH_CHUNK):
        chunk = list(article_ids[start : start + FETCH_CHUNK])
        found += session.scalars(select(Article.minhash).where(Article.id.in_(chunk))).all()
    return found


def latest_change_id(session: Session) -> int:
    """The newest change's id (0 before any): what a process compares with its own."""
    return int(session.scalar(select(func.max(ArchiveChange.id))) or 0)


def changes_after(session: Session, *, after_id: int, limit: int = 10_000) -> list[Change]:
    """The changes newer than after_id, oldest first."""
    rows = session.execute(
        select(ArchiveChange.id, ArchiveChange.kind, ArchiveChange.article_id)
        .where(ArchiveChange.id > after_id)
        .order_by(ArchiveChange.id)
        .limit(limit)
    ).all()
    return [Change(int(row.id), str(row.kind), row.article_id) for row in rows]


class ChangeListener:
    """On PostgreSQL, a thread that LISTENs for committed changes and calls `on_change` at
    once for each batch of them; the periodic catch-up still runs, so a lost connection
    only makes catching up wait for its next tick."""

    def __init__(self, engine: Engine, on_change: Callable[[], object]) -> None:
        self._engine = engine
        self._on_change = on_change
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="archive-changes", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop listening (within LISTEN_WAKE_SECONDS)."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join(timeout=LISTEN_WAKE_SECONDS * 3)

    def _run(self) -> None:
        while not self._stopping.is_set():
            try:
                self._listen()
            except Exception:  # a dropped connection must not end the thread
                log.warning("Listening for archive changes failed; retrying", exc_info=True)
                self._stopping.wait(LISTEN_RETRY_SECONDS)

    def _listen(self) -> None:
        import psycopg  # PostgreSQL's driver: loaded by its engine already, never on SQLite

        # Its own connection, taken out of the pool: it sits in LISTEN for the process's life.
        raw = self._engine.raw_connection()
        connection = raw.driver_connection
        raw.detach()
        assert isinstance(connection, psycopg.Connection)
        try:
            connection.autocommit = True
            connection.execute(f"LISTEN {NOTIFY_CHANNEL}")
            self._on_change()  # whatever was committed before LISTEN took effect
            while not self._stopping.is_set():
                # Wakes at least every LISTEN_WAKE_SECONDS to notice a stop.
                if list(connection.notifies(timeout=LISTEN_WAKE_SECONDS)):
                    self._on_change()
        finally:
            connection.close()


def listen_for_changes(engine: Engine, on_change: Callable[[], object]) -> ChangeListener | None:
    """A started listener on PostgreSQL; None on SQLite, which has no notifications."""
    if engine.dialect.name != "postgresql":
        return None
    listener = ChangeListener(engine, on_change)
    listener.start()
    return listener
