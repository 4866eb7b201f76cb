"""Digest subscriptions of chats (their topics and pace follow them when a group moves)."""

from __future__ import annotations

from enum import Enum

from sqlalchemy import CursorResult, delete, select, update
from sqlalchemy.orm import Session

from storage import paces, topics
from storage.conflicts import insert_ignoring_conflicts
from storage.models import Delivery, DigestBatch, Subscription, utcnow


class Change(Enum):
    """What a subscribe or unsubscribe request did."""

    DONE = "done"
    ALREADY = "already"


def subscribe(session: Session, *, chat_id: int, chat_type: str, title: str | None) -> Change:
    """Subscribe the chat; repeating it, even at the same moment, changes nothing."""
    # Insert first and read nothing before: two taps racing both succeed, and on SQLite the
    # write lock is taken at once instead of upgrading a read snapshot another tap outdated.
    now = utcnow()
    added = session.execute(
        insert_ignoring_conflicts(session, Subscription).values(
            chat_id=chat_id, chat_type=chat_type, title=title, active=True, subscribed_at=now
        )
    )
    if _changed(added):
        return Change.DONE
    resumed = session.execute(
        update(Subscription)
        .where(Subscription.chat_id == chat_id, Subscription.active.is_(False))
        .values(active=True, subscribed_at=now, ended_at=None, end_reason=None)
    )
    return Change.DONE if _changed(resumed) else Change.ALREADY


def unsubscribe(session: Session, *, chat_id: int, reason: str = "unsubscribed") -> Change:
    """End the chat's subscription and forget its topics; a chat that has none is told it
    already has none. (Its pace is kept: a preference, not a subscription.)"""
    topics.drop_all(session, chat_id=chat_id)
    ended = session.execute(
        update(Subscription)
        .where(Subscription.chat_id == chat_id, Subscription.active.is_(True))
        .values(active=False, ended_at=utcnow(), end_reason=reason)
    )
    return Change.DONE if _changed(ended) else Change.ALREADY


def is_subscribed(session: Session, *, chat_id: int) -> bool:
    """Whether the chat receives digests."""
    subscription = session.get(Subscription, chat_id)
    return subscription is not None and subscription.active


def move_chat(session: Session, *, old_chat_id: int, new_chat_id: int) -> bool:
    """A group became a supergroup with a new id: its subscription, waiting deliveries and
    unfinished digests follow it. Returns whether there was an active subscription to move."""
    old = session.get(Subscription, old_chat_id)
    if old is None or not old.active:
        return False
    subscribe(session, chat_id=new_chat_id, chat_type="supergroup", title=old.title)
    # An article already waiting for the new chat stays there once, not twice.
    session.execute(
        delete(Delivery).where(
            Delivery.chat_id == old_chat_id,
            Delivery.article_id.in_(
                select(Delivery.article_id).where(Delivery.chat_id == new_chat_id)
            ),
        )
    )
    session.execute(
        update(Delivery).where(Delivery.chat_id == old_chat_id).values(chat_id=new_chat_id)
    )
    session.execute(
        update(DigestBatch).where(DigestBatch.chat_id == old_chat_id).values(chat_id=new_chat_id)
    )
    topics.move_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)
    paces.move_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)
    unsubscribe(session, chat_id=old_chat_id, reason="migrated")
    return True


def _changed(result: object) -> bool:
    return isinstance(result, CursorResult) and result.rowcount > 0
