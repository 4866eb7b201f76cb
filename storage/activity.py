"""When each chat last caught up with the news: the start of its next /whatsnew."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from storage.conflicts import insert_ignoring_conflicts
from storage.models import Base
from storage.news import last_digest_at


class ChatActivity(Base):
    """When a chat last asked what's new (its digests are recorded with their batches)."""

    __tablename__ = "chat_activity"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    whatsnew_at: Mapped[datetime]


def last_seen(session: Session, *, chat_id: int) -> datetime | None:
    """When the chat last got a digest or asked what's new, whichever was later."""
    activity = session.get(ChatActivity, chat_id)
    moments = [moment for moment in (activity and activity.whatsnew_at,) if moment]
    digest = last_digest_at(session, chat_id=chat_id)
    if digest is not None:
        moments.append(digest)
    return max(moments, default=None)


def record_seen(session: Session, *, chat_id: int, at: datetime) -> None:
    """Remember that the chat caught up at `at`; an earlier moment never replaces a later."""
    session.execute(
        insert_ignoring_conflicts(session, ChatActivity).values(chat_id=chat_id, whatsnew_at=at)
    )
    session.execute(
        update(ChatActivity)
        .where(ChatActivity.chat_id == chat_id, ChatActivity.whatsnew_at < at)
        .values(whatsnew_at=at)
    )
