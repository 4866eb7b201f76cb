"""Digest subscriptions: /subscribe (to everything or to a topic), /unsubscribe, and groups
that become supergroups."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from telegram import Chat, Update
from telegram.ext import ContextTypes

from bot import replies, topic_replies
from bot.context import services
from bot.handlers.permissions import may_change_or_refuse
from bot.handlers.replying import reply_html
from storage import subscriptions, topics
from storage.subscriptions import Change
from storage.topics import MAX_TOPIC_CHARS, TooManyTopics

log = logging.getLogger(__name__)
T = TypeVar("T")


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe this chat to digests of every article, or, with words after the command,
    to a topic (in groups: its administrators only)."""
    chat = update.effective_chat
    if chat is None or not await may_change_or_refuse(update, context, chat):
        return
    topic = " ".join(context.args or [])[:MAX_TOPIC_CHARS].strip()
    if topics.normalise(topic):
        await _follow(update, context, chat, topic)
        return

    def change(session: Session) -> tuple[Change, list[str]]:
        done = subscriptions.subscribe(
            session, chat_id=chat.id, chat_type=chat.type, title=chat.title
        )
        return done, [t.text for t in topics.topics_of(session, chat_id=chat.id)]

    done, followed = await store(context, change)
    if followed:  # a topic chat stays one: /subscribe alone must not widen it silently
        await reply_html(update, topic_replies.subscribed_with_topics(followed))
    else:
        await reply_html(update, replies.subscribed(done))


async def _follow(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat: Chat, topic: str
) -> None:
    """Subscribe the chat to one topic: embedded once now, matched at every ingest."""
    embedder = services(context).core.embedder
    [vector] = await asyncio.to_thread(embedder.embed, [topic])

    def change(session: Session) -> bool:
        subscriptions.subscribe(session, chat_id=chat.id, chat_type=chat.type, title=chat.title)
        return topics.follow(
            session, chat_id=chat.id, text=topic, model=embedder.model_id, vector=vector
        )

    try:
        added = await store(context, change)
    except TooManyTopics:
        await reply_html(update, topic_replies.too_many_topics())
        return
    await reply_html(update, topic_replies.topic_followed(topic, added=added))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop sending digests to this chat and forget its topics (in groups: its
    administrators only)."""
    chat = update.effective_chat
    if chat is None or not await may_change_or_refuse(update, context, chat):
        return
    change = await store(
        context, lambda session: subscriptions.unsubscribe(session, chat_id=chat.id)
    )
    await reply_html(update, replies.unsubscribed(change))


async def chat_migrated(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group became a supergroup: its subscription and waiting digests follow it."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id is not None:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id is not None:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    moved = await store(
        context,
        lambda session: subscriptions.move_chat(session, old_chat_id=old, new_chat_id=new),
    )
    if moved:
        log.info("Chat %s became %s; its subscription moved with it", old, new)


async def store(context: ContextTypes.DEFAULT_TYPE, change: Callable[[Session], T]) -> T:
    """Run one change of a chat's digests in its own transaction, off the event loop."""

    def run() -> T:
        with services(context).core.sessions.begin() as session:
            return change(session)

    return await asyncio.to_thread(run)
