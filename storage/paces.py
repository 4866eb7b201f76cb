"""How often a chat gets its digests: at once (the default), or a daily or weekly summary at
a local hour in the chat's time zone.

A scheduled chat's articles wait as pending deliveries; the next summary's moment is stored
in UTC (`next_due_at`), so one minute-tick serves every chat and a restart loses nothing.
When a chat is due, its digest is rendered and its next moment set in one transaction: the
digest then goes out by the usual batch machinery, exactly once, whatever the pace.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, delete, select, update
from sqlalchemy.orm import Session

from storage.conflicts import upsert
from storage.models import Delivery, DigestPace

NOW, DAILY, WEEKLY = "now", "daily", "weekly"
PENDING = "pending"


@dataclass(frozen=True)
class Pace:
    """A chat's pace: `every` is now, daily or weekly; times are the chat's local ones."""

    every: str = NOW
    minute_of_day: int = 0
    time_zone: str = "UTC"
    weekday: int | None = None  # 0 is Monday; weekly only
    next_due_at: datetime | None = None  # naive UTC

    @property
    def immediate(self) -> bool:
        """Whether digests go out as soon as articles arrive."""
        return self.every == NOW


IMMEDIATE = Pace()


def next_due(pace: Pace, *, after: datetime) -> datetime:
    """The first summary moment strictly after `after` (both naive UTC).

    Worked out in the chat's zone day by day, so 08:00 stays 08:00 local across daylight
    saving changes; a local time that does not exist that day (skipped by the clocks going
    forward) is read with the offset before the change, an hour later on the wall.
    """
    zone = ZoneInfo(pace.time_zone)
    today = after.replace(tzinfo=UTC).astimezone(zone).date()
    hour, minute = divmod(pace.minute_of_day, 60)
    for offset in range(9):
        day = today + timedelta(days=offset)
        if pace.every == WEEKLY and day.weekday() != pace.weekday:
            continue
        moment = _utc(day, time(hour, minute), zone)
        if moment > after:
            return moment
    raise ValueError(f"no summary moment for {pace}")  # unreachable: a week has every weekday


def pace_of(session: Session, *, chat_id: int) -> Pace:
    """The chat's pace (immediate unless it chose a summary)."""
    row = session.get(DigestPace, chat_id)
    if row is None:
        return IMMEDIATE
    return Pace(row.every, row.minute_of_day, row.time_zone, row.weekday, row.next_due_at)


def set_pace(session: Session, *, chat_id: int, pace: Pace, now: datetime) -> Pace:
    """Store the chat's pace; a summary's first moment is the next one after `now`."""
    if pace.immediate:
        session.execute(delete(DigestPace).where(DigestPace.chat_id == chat_id))
        return IMMEDIATE
    due = next_due(pace, after=now)
    row = {
        "chat_id": chat_id,
        "every": pace.every,
        "weekday": pace.weekday,
        "minute_of_day": pace.minute_of_day,
        "time_zone": pace.time_zone,
        "next_due_at": due,
        "updated_at": now,
    }
    upsert(session, DigestPace, row, key="chat_id")
    # The statement bypasses the ORM: refresh a copy of the row the session may hold.
    session.get(DigestPace, chat_id, populate_existing=True)
    return Pace(pace.every, pace.minute_of_day, pace.time_zone, pace.weekday, due)


def is_due(session: Session, *, chat_id: int, now: datetime) -> bool:
    """Whether the chat's waiting articles may go out now."""
    row = session.get(DigestPace, chat_id)
    return row is None or row.next_due_at <= now


def advance(session: Session, *, chat_id: int, now: datetime) -> None:
    """The chat's summary is being sent: its next one is the next moment after `now`."""
    row = session.get(DigestPace, chat_id)
    if row is not None and row.next_due_at <= now:
        row.next_due_at = next_due(pace_of(session, chat_id=chat_id), after=now)


def advance_idle(session: Session, *, now: datetime) -> None:
    """Chats due with nothing waiting skip this summary: an article arriving after the
    summary's hour belongs in the next summary, not in a digest sent on arrival."""
    waiting = select(Delivery.chat_id).where(
        Delivery.status == PENDING, Delivery.batch_id.is_(None)
    )
    idle = session.scalars(
        select(DigestPace.chat_id).where(
            DigestPace.next_due_at <= now, DigestPace.chat_id.not_in(waiting)
        )
    )
    for chat_id in list(idle):
        advance(session, chat_id=chat_id, now=now)


def held_chats(*, now: datetime) -> Select[int]:
    """A query of the chats whose summary is not due yet (their articles wait)."""
    return select(DigestPace.chat_id).where(DigestPace.next_due_at > now)


def move_chat(session: Session, *, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its pace follows it."""
    if session.get(DigestPace, new_chat_id) is None:
        session.execute(
            update(DigestPace).where(DigestPace.chat_id == old_chat_id).values(chat_id=new_chat_id)
        )


def _utc(day: date, at: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, at, tzinfo=zone).astimezone(UTC).replace(tzinfo=None)
