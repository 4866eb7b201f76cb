"""The one error handler: log with the update's context, tell the user in one sentence."""

from __future__ import annotations

import asyncio
import logging

from telegram import Update
from telegram.error import Forbidden, TelegramError
from telegram.ext import ContextTypes

from bot import replies
from bot.context import services
from storage import subscriptions

log = logging.getLogger(__name__)


async def handle_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Log the failure first; then deactivate a chat that blocked us, or apologise."""
    chat = update.effective_chat if isinstance(update, Update) else None
    if isinstance(context.error, Forbidden) and chat is not None:
        log.info("Chat %s blocked the bot or removed it (%s)", chat.id, context.error)
        await asyncio.to_thread(_end_subscription, context, chat.id)
        return
    log.error("Failed to handle update %s", _describe(update), exc_info=context.error)
    if chat is None:
        return
    try:
        await context.bot.send_message(chat.id, replies.SOMETHING_WENT_WRONG)
    except TelegramError:
        log.warning("Could not tell chat %s about the failure either", chat.id)


def _end_subscription(context: ContextTypes.DEFAULT_TYPE, chat_id: int) -> None:
    with services(context).core.sessions.begin() as session:
        subscriptions.unsubscribe(session, chat_id=chat_id, reason="blocked")


def _describe(update: object) -> str:
    """Enough of the update to find it again, without message text (it may be private)."""
    if not isinstance(update, Update):
        return repr(update)
    chat = update.effective_chat
    user = update.effective_user
    message = update.effective_message
    text = message.text if message and message.text else ""
    command = text.split()[0] if text.startswith("/") else None
    return (
        f"#{update.update_id} chat={chat.id if chat else None} "
        f"user={user.id if user else None} command={command}"
    )
