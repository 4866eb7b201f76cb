"""Leases: which worker leads a kind of shared work, taken, renewed and handed over in one
conditional UPDATE each, on the database's own clock.

A holder leads while its lease runs. It renews before the lease runs out; when it dies, the
lease runs out and the next worker that asks takes it. Two workers asking at once cannot both
win: the UPDATE re-checks its condition on the row it changes (row locks on PostgreSQL, one
writer at a time on SQLite).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Float, func, literal_column, or_, select, update
from sqlalchemy.orm import Session

from storage.conflicts import insert_ignoring_conflicts
from storage.models import Leader


def claim(session: Session, *, name: str, holder: str, lease_seconds: float) -> bool:
    """Take the lease if it is free or has run out, or renew it if `holder` has it; commit.
    Whether `holder` now leads for `lease_seconds` from the database's now."""
    session.execute(
        insert_ignoring_conflicts(session, Leader).values(name=name, holder="", expires_at=0.0)
    )
    now = database_now(session)
    taken = session.execute(
        update(Leader)
        .where(Leader.name == name, or_(Leader.holder == holder, Leader.expires_at < now))
        .values(holder=holder, expires_at=now + lease_seconds)
        .execution_options(synchronize_session=False)
    )
    session.commit()
    return bool(taken.rowcount == 1)  # type: ignore[attr-defined]


def release(session: Session, *, name: str, holder: str) -> None:
    """Give the lease up at once, if `holder` has it (a clean stop); commit."""
    session.execute(
        update(Leader)
        .where(Leader.name == name, Leader.holder == holder)
        .values(expires_at=0.0)
        .execution_options(synchronize_session=False)
    )
    session.commit()


def current_holder(session: Session, *, name: str) -> str | None:
    """Who holds a lease that has not run out, if anyone."""
    return session.scalar(
        select(Leader.holder).where(Leader.name == name, Leader.expires_at >= database_now(session))
    )


def database_now(session: Session) -> ColumnElement[float]:
    """The database's clock in Unix seconds, as an SQL expression."""
    if session.get_bind().dialect.name == "sqlite":
        # julianday's epoch is noon, 24 November 4714 BC; 2440587.5 is 1 January 1970.
        return literal_column("((julianday('now') - 2440587.5) * 86400.0)", Float)
    # clock_timestamp, not now(): now() is frozen at the start of the transaction.
    return func.extract("epoch", func.clock_timestamp()).cast(Float)
