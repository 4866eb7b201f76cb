"""Digest subscriptions: /subscribe and /unsubscribe."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from sqlalchemy.orm import Session
from telegram import Update
from telegram.ext import ContextTypes

from bot import replies
from bot.context import services
from bot.handlers.replying import reply_html
from storage import subscriptions


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe this chat to digests."""
    chat = update.effective_chat
    if chat is not None:
        change = await _store(
            context,
            lambda session: subscriptions.subscribe(
                session, chat_id=chat.id, chat_type=chat.type, title=chat.title
            ),
        )
        await reply_html(update, replies.subscribed(change))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop sending digests to this chat."""
    chat = update.effective_chat
    if chat is not None:
        change = await _store(
            context, lambda session: subscriptions.unsubscribe(session, chat_id=chat.id)
        )
        await reply_html(update, replies.unsubscribed(change))


async def _store(
    context: ContextTypes.DEFAULT_TYPE, change: Callable[[Session], subscriptions.Change]
) -> subscriptions.Change:
    """Run one subscription change in its own transaction, off the event loop."""

    def run() -> subscriptions.Change:
        with services(context).core.sessions.begin() as session:
            return change(session)

    return await asyncio.to_thread(run)
