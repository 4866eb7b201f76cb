"""Digest subscriptions: /subscribe and /unsubscribe."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.ext import ContextTypes

from bot import replies
from bot.context import services
from bot.handlers.replying import reply_html
from storage import subscriptions


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe this chat to digests."""
    chat = update.effective_chat
    if chat is None:
        return

    def store() -> subscriptions.Change:
        with services(context).core.sessions.begin() as session:
            return subscriptions.subscribe(
                session, chat_id=chat.id, chat_type=chat.type, title=chat.title
            )

    change = await asyncio.to_thread(store)
    await reply_html(update, replies.subscribed(change))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop sending digests to this chat."""
    chat = update.effective_chat
    if chat is None:
        return

    def store() -> subscriptions.Change:
        with services(context).core.sessions.begin() as session:
            return subscriptions.unsubscribe(session, chat_id=chat.id)

    change = await asyncio.to_thread(store)
    await reply_html(update, replies.unsubscribed(change))
