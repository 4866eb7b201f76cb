"""Digest deliveries: one row per subscriber and article, pending until its digest is sent.

A digest is rendered once into a batch of parts; the batch counts the parts Telegram
accepted, so a digest cut short resumes with its next part and never repeats the first ones.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, literal, or_, select, update
from sqlalchemy.orm import Session

from storage.articles import ArticleSummary, article_summaries
from storage.conflicts import insert_ignoring_conflicts
from storage.models import Delivery, DigestBatch, Subscription, Topic, utcnow
from storage.paces import held_chats

PENDING, SENT, SKIPPED = "pending", "sent", "skipped"
SENDING, DROPPED = "sending", "dropped"  # batches: under way; given up with its chat


@dataclass(frozen=True)
class Part:
    """One message of a digest, exactly as it is sent."""

    text: str
    html: bool = True


@dataclass(frozen=True)
class Batch:
    """A digest on its way to a chat."""

    id: int
    chat_id: int
    parts: tuple[Part, ...]
    parts_sent: int
    article_ids: tuple[int, ...]
    problem: str | None = None


def queue_for_subscribers(
    session: Session, *, article_id: int, topic_chats: Collection[int] = ()
) -> None:
    """Put the article in the next digest of every active subscriber that follows every
    article, and of the chats in `topic_chats` (those whose topics it is about); once,
    however often or concurrently it is queued."""
    now = utcnow()
    followers: ColumnElement[bool] = Subscription.chat_id.not_in(select(Topic.chat_id))
    if topic_chats:
        followers = or_(followers, Subscription.chat_id.in_(sorted(set(topic_chats))))
    session.execute(
        insert_ignoring_conflicts(session, Delivery).from_select(
            ["chat_id", "article_id", "status", "created_at"],
            select(Subscription.chat_id, literal(article_id), literal(PENDING), literal(now)).where(
                Subscription.active, followers
            ),
        )
    )


def chats_with_pending(session: Session, *, now: datetime | None = None) -> list[int]:
    """Active subscribers that have a digest waiting; given `now`, without the chats whose
    daily or weekly summary is not due yet (a digest already under way still counts)."""
    query = (
        select(Delivery.chat_id)
        .join(Subscription, Subscription.chat_id == Delivery.chat_id)
        .where(Delivery.status == PENDING, Subscription.active)
    )
    if now is not None:
        query = query.where(
            or_(Delivery.batch_id.is_not(None), Delivery.chat_id.not_in(held_chats(now=now)))
        )
    return list(session.scalars(query.distinct().order_by(Delivery.chat_id)))


def pending_for_chat(session: Session, *, chat_id: int) -> tuple[list[int], list[ArticleSummary]]:
    """The waiting deliveries of a chat not yet in a digest, and their articles, oldest first."""
    rows = session.execute(
        select(Delivery.id, Delivery.article_id)
        .where(Delivery.chat_id == chat_id, Delivery.status == PENDING, Delivery.batch_id.is_(None))
        .order_by(Delivery.article_id)
    ).all()
    articles = article_summaries(session, ids=[row.article_id for row in rows])
    return [row.id for row in rows], articles


def open_batch(session: Session, *, chat_id: int) -> Batch | None:
    """The chat's digest that is still on its way, if any."""
    row = session.scalars(
        select(DigestBatch)
        .where(DigestBatch.chat_id == chat_id, DigestBatch.status == SENDING)
        .order_by(DigestBatch.id)
        .limit(1)
    ).first()
    return None if row is None else _batch(session, row)


def start_batch(
    session: Session, *, chat_id: int, delivery_ids: Sequence[int], parts: Sequence[Part]
) -> Batch:
    """Record a rendered digest for these deliveries, none of its parts sent yet."""
    row = DigestBatch(chat_id=chat_id, parts=_dump(parts), parts_sent=0, status=SENDING)
    session.add(row)
    session.flush()
    session.execute(update(Delivery).where(Delivery.id.in_(delivery_ids)).values(batch_id=row.id))
    return _batch(session, row)


def record_parts_sent(session: Session, *, batch_id: int, parts_sent: int) -> None:
    """Telegram accepted the first `parts_sent` parts; the last one completes the digest.

    Idempotent and monotonic: recording the same or an older count again changes nothing.
    """
    row = session.get(DigestBatch, batch_id)
    if row is None or row.status != SENDING or parts_sent <= row.parts_sent:
        return
    row.parts_sent = parts_sent
    if parts_sent >= len(json.loads(row.parts)):
        row.status, row.finished_at = SENT, utcnow()
        session.execute(
            update(Delivery)
            .where(Delivery.batch_id == batch_id, Delivery.status == PENDING)
            .values(status=SENT, sent_at=row.finished_at)
        )


def replace_part(session: Session, *, batch_id: int, index: int, parts: Sequence[Part]) -> Batch:
    """Put `parts` where the unsent part `index` was (a plain-text stand-in for it)."""
    row = session.get_one(DigestBatch, batch_id)
    current = _load(row.parts)
    if index < row.parts_sent:
        raise ValueError(f"part {index} of digest {batch_id} was already sent")
    row.parts = _dump([*current[:index], *parts, *current[index + 1 :]])
    return _batch(session, row)


def record_problem(session: Session, *, batch_id: int, problem: str) -> bool:
    """Note why Telegram refused the digest; True when this problem is new for it."""
    problem = problem[:500]
    row = session.get_one(DigestBatch, batch_id)
    if row.problem == problem:
        return False
    row.problem = problem
    return True


def mark(session: Session, *, delivery_ids: Sequence[int], status: str) -> None:
    """Record the deliveries as sent (or skipped)."""
    if delivery_ids:
        session.execute(
            update(Delivery)
            .where(Delivery.id.in_(delivery_ids))
            .values(status=status, sent_at=utcnow())
        )


def skip_chat(session: Session, *, chat_id: int) -> None:
    """Drop a chat's waiting deliveries and unfinished digests (the chat is gone)."""
    session.execute(
        update(Delivery)
        .where(Delivery.chat_id == chat_id, Delivery.status == PENDING)
        .values(status=SKIPPED)
    )
    session.execute(
        update(DigestBatch)
        .where(DigestBatch.chat_id == chat_id, DigestBatch.status == SENDING)
        .values(status=DROPPED, finished_at=utcnow())
    )


def _batch(session: Session, row: DigestBatch) -> Batch:
    article_ids = session.scalars(
        select(Delivery.article_id).where(Delivery.batch_id == row.id).order_by(Delivery.article_id)
    )
    return Batch(
        id=row.id,
        chat_id=row.chat_id,
        parts=tuple(_load(row.parts)),
        parts_sent=row.parts_sent,
        article_ids=tuple(article_ids),
        problem=row.problem,
    )


def _dump(parts: Sequence[Part]) -> str:
    return json.dumps([{"text": part.text, "html": part.html} for part in parts])


def _load(parts: str) -> list[Part]:
    return [Part(str(item["text"]), bool(item["html"])) for item in json.loads(parts)]
