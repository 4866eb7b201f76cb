"""Catching up: /whatsnew and /timeline, in private chats and groups alike."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot import news_replies, replies
from bot.context import services
from bot.handlers.replying import reply_html
from knowledge.news import BadSpan, NewsDesk, parse_since
from storage.models import utcnow

MAX_TOPIC_CHARS = 200


def _desk(context: ContextTypes.DEFAULT_TYPE) -> NewsDesk:
    core = services(context).core
    return NewsDesk(
        sessions=core.sessions, embedder=core.embedder, fulltext=core.fulltext, vectors=core.vectors
    )


async def whats_new(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The stories new since this chat last caught up, or since a span or date."""
    chat = update.effective_chat
    if chat is None:
        return
    try:
        since = parse_since(" ".join(context.args or []), now=utcnow())
    except BadSpan as problem:
        await reply_html(update, replies.problem(str(problem)))
        return
    news = await asyncio.to_thread(_desk(context).whats_new, chat.id, since)
    await reply_html(update, news_replies.whats_new(news))


async def timeline(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The dated sequence of events on a topic, oldest first."""
    topic = " ".join(context.args or [])[:MAX_TOPIC_CHARS].strip()
    if not topic:
        await reply_html(update, news_replies.timeline_hint())
        return
    events = await asyncio.to_thread(_desk(context).timeline, topic)
    await reply_html(update, news_replies.timeline(topic, events))
