"""Digest subscriptions of chats."""

from __future__ import annotations

from enum import Enum

from sqlalchemy.orm import Session

from storage.models import Subscription, utcnow


class Change(Enum):
    """What a subscribe or unsubscribe request did."""

    DONE = "done"
    ALREADY = "already"


def subscribe(session: Session, *, chat_id: int, chat_type: str, title: str | None) -> Change:
    """Subscribe the chat; repeating it changes nothing."""
    subscription = session.get(Subscription, chat_id)
    if subscription is None:
        session.add(Subscription(chat_id=chat_id, chat_type=chat_type, title=title))
        return Change.DONE
    if subscription.active:
        return Change.ALREADY
    subscription.active = True
    subscription.subscribed_at = utcnow()
    subscription.ended_at = None
    subscription.end_reason = None
    return Change.DONE


def unsubscribe(session: Session, *, chat_id: int, reason: str = "unsubscribed") -> Change:
    """End the chat's subscription; a chat that has none is told it already has none."""
    subscription = session.get(Subscription, chat_id)
    if subscription is None or not subscription.active:
        return Change.ALREADY
    subscription.active = False
    subscription.ended_at = utcnow()
    subscription.end_reason = reason
    return Change.DONE


def is_subscribed(session: Session, *, chat_id: int) -> bool:
    """Whether the chat receives digests."""
    subscription = session.get(Subscription, chat_id)
    return subscription is not None and subscription.active
