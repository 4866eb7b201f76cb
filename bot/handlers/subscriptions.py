"""Digest subscriptions: /subscribe and /unsubscribe, and groups that become supergroups."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.orm import Session
from telegram import Chat, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import replies
from bot.context import services
from bot.handlers.replying import reply_html
from storage import subscriptions

log = logging.getLogger(__name__)
T = TypeVar("T")
CHAT_ADMINS = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Subscribe this chat to digests (in groups: its administrators only)."""
    chat = update.effective_chat
    if chat is None or not await _may_change(update, context, chat):
        return
    change = await _store(
        context,
        lambda session: subscriptions.subscribe(
            session, chat_id=chat.id, chat_type=chat.type, title=chat.title
        ),
    )
    await reply_html(update, replies.subscribed(change))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop sending digests to this chat (in groups: its administrators only)."""
    chat = update.effective_chat
    if chat is None or not await _may_change(update, context, chat):
        return
    change = await _store(
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
    moved = await _store(
        context,
        lambda session: subscriptions.move_chat(session, old_chat_id=old, new_chat_id=new),
    )
    if moved:
        log.info("Chat %s became %s; its subscription moved with it", old, new)


async def _may_change(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: Chat) -> bool:
    """Whether the sender may change this chat's digests; refuses politely when not.

    Anyone in a private chat; in a group, its administrators and Parley's admins. A message
    sent as the group itself comes from an anonymous administrator.
    """
    if chat.type in (Chat.PRIVATE, Chat.CHANNEL):
        return True
    message = update.effective_message
    sender_chat = message.sender_chat if message is not None else None
    if sender_chat is not None and sender_chat.id == chat.id:
        return True
    user = update.effective_user
    if user is not None and services(context).is_admin(user.id):
        return True
    if user is not None and await _is_chat_admin(context, chat.id, user.id):
        return True
    await reply_html(update, replies.chat_admins_only())
    return False


async def _is_chat_admin(context: ContextTypes.DEFAULT_TYPE, chat_id: int, user_id: int) -> bool:
    try:
        member = await context.bot.get_chat_member(chat_id, user_id)
    except TelegramError as error:  # cannot tell: changing nothing is the safe answer
        log.warning("Could not check %s's rights in chat %s: %s", user_id, chat_id, error)
        return False
    return member.status in CHAT_ADMINS


async def _store(context: ContextTypes.DEFAULT_TYPE, change: Callable[[Session], T]) -> T:
    """Run one subscription change in its own transaction, off the event loop."""

    def run() -> T:
        with services(context).core.sessions.begin() as session:
            return change(session)

    return await asyncio.to_thread(run)
