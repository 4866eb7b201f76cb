"""Topics chats follow: several per chat, each stored once per chat however it is typed."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from storage.conflicts import insert_ignoring_conflicts
from storage.models import Subscription, Topic, utcnow
from storage.vector_engine import Matrix
from storage.vectors import blob_to_vector, vector_to_blob

MAX_TOPIC_CHARS = 100
MAX_TOPICS_PER_CHAT = 20
_NOT_WORD = re.compile(r"[\W_]+")


class TooManyTopics(Exception):
    """The chat follows as many topics as a chat may."""


@dataclass(frozen=True)
class FollowedTopic:
    """A topic as a chat follows it, with its embedding (by `model`)."""

    id: int
    chat_id: int
    text: str
    model: str
    vector: Matrix


def normalise(text: str) -> str:
    """The form two spellings of one topic share: lower case, words only, single spaces."""
    return " ".join(_NOT_WORD.sub(" ", text.casefold()).split())


def follow(session: Session, *, chat_id: int, text: str, model: str, vector: Matrix) -> bool:
    """Add a topic to a subscribed chat; False when the chat follows it already (typed the
    same or differently, even at the same moment)."""
    key = normalise(text)
    if _count(session, chat_id) >= MAX_TOPICS_PER_CHAT and not _has(session, chat_id, key):
        raise TooManyTopics(f"chat {chat_id} follows {MAX_TOPICS_PER_CHAT} topics")
    added = session.execute(
        insert_ignoring_conflicts(session, Topic).values(
            chat_id=chat_id,
            text=" ".join(text.split())[:MAX_TOPIC_CHARS],
            normalised=key[:MAX_TOPIC_CHARS],
            model=model,
            vector=vector_to_blob(vector),
            created_at=utcnow(),
        )
    )
    return bool(getattr(added, "rowcount", 0))


def topics_of(session: Session, *, chat_id: int) -> list[FollowedTopic]:
    """The chat's topics, oldest first."""
    rows = session.scalars(select(Topic).where(Topic.chat_id == chat_id).order_by(Topic.id))
    return [_followed(row) for row in rows]


def followed_by_active_chats(session: Session) -> list[FollowedTopic]:
    """Every topic of every subscribed chat: what a new article is matched against."""
    rows = session.scalars(
        select(Topic)
        .join(Subscription, Subscription.chat_id == Topic.chat_id)
        .where(Subscription.active)
        .order_by(Topic.id)
    )
    return [_followed(row) for row in rows]


def drop(session: Session, *, chat_id: int, topic_id: int) -> str | None:
    """Stop following one of the chat's topics; its text, or None when the chat has no such
    topic (another chat's id, a forged one, or one dropped already)."""
    row = session.scalars(
        select(Topic).where(Topic.id == topic_id, Topic.chat_id == chat_id)
    ).first()
    if row is None:
        return None
    session.delete(row)
    return row.text


def drop_all(session: Session, *, chat_id: int) -> int:
    """Forget every topic of the chat; how many there were."""
    result = session.execute(delete(Topic).where(Topic.chat_id == chat_id))
    return int(getattr(result, "rowcount", 0) or 0)


def move_chat(session: Session, *, old_chat_id: int, new_chat_id: int) -> None:
    """A group became a supergroup: its topics follow it (the new chat is subscribed)."""
    for topic in topics_of(session, chat_id=old_chat_id):
        session.execute(
            insert_ignoring_conflicts(session, Topic).values(
                chat_id=new_chat_id,
                text=topic.text,
                normalised=normalise(topic.text),
                model=topic.model,
                vector=vector_to_blob(topic.vector),
                created_at=utcnow(),
            )
        )
    drop_all(session, chat_id=old_chat_id)


def _count(session: Session, chat_id: int) -> int:
    return len(list(session.scalars(select(Topic.id).where(Topic.chat_id == chat_id))))


def _has(session: Session, chat_id: int, key: str) -> bool:
    found = select(Topic.id).where(Topic.chat_id == chat_id, Topic.normalised == key)
    return session.scalars(found).first() is not None


def _followed(row: Topic) -> FollowedTopic:
    vector = np.frombuffer(row.vector, dtype="<f4")
    return FollowedTopic(
        id=row.id,
        chat_id=row.chat_id,
        text=row.text,
        model=row.model,
        vector=blob_to_vector(row.vector, vector.shape[0]),
    )
