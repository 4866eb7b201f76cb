"""Digest deliveries: one row per subscriber and article, pending until its digest is sent."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import insert, literal, select, update
from sqlalchemy.orm import Session

from storage.models import Delivery, Subscription, utcnow
from storage.sources import ArticleSummary, article_summaries

PENDING, SENT, SKIPPED = "pending", "sent", "skipped"


def queue_for_subscribers(session: Session, *, article_id: int) -> None:
    """Put the article in the next digest of every active subscriber."""
    now = utcnow()
    session.execute(
        insert(Delivery).from_select(
            ["chat_id", "article_id", "status", "created_at"],
            select(Subscription.chat_id, literal(article_id), literal(PENDING), literal(now)).where(
                Subscription.active
            ),
        )
    )


def chats_with_pending(session: Session) -> list[int]:
    """Active subscribers that have a digest waiting."""
    return list(
        session.scalars(
            select(Delivery.chat_id)
            .join(Subscription, Subscription.chat_id == Delivery.chat_id)
            .where(Delivery.status == PENDING, Subscription.active)
            .distinct()
            .order_by(Delivery.chat_id)
        )
    )


def pending_for_chat(session: Session, *, chat_id: int) -> tuple[list[int], list[ArticleSummary]]:
    """The waiting deliveries of a chat and their articles, oldest first."""
    rows = session.execute(
        select(Delivery.id, Delivery.article_id)
        .where(Delivery.chat_id == chat_id, Delivery.status == PENDING)
        .order_by(Delivery.article_id)
    ).all()
    articles = article_summaries(session, ids=[row.article_id for row in rows])
    return [row.id for row in rows], articles


def mark(session: Session, *, delivery_ids: Sequence[int], status: str) -> None:
    """Record the deliveries as sent (or skipped)."""
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids))
            .values(status=status, sent_at=utcnow())
        )


def skip_chat(session: Session, *, chat_id: int) -> None:
    """Drop a chat's waiting deliveries (it blocked the bot)."""
    session.execute(
        update(Delivery)
        .where(Delivery.chat_id == chat_id, Delivery.status == PENDING)
        .values(status=SKIPPED)
    )
