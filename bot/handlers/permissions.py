"""Who may change a chat's digests: its subscription, topics and pace."""

from __future__ import annotations

import logging

from telegram import Chat, ChatMember, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot import replies
from bot.context import services
from bot.handlers.replying import reply_html

log = logging.getLogger(__name__)
CHAT_ADMINS = frozenset({ChatMember.OWNER, ChatMember.ADMINISTRATOR})


async def may_change(update: Update, context: ContextTypes.DEFAULT_TYPE, chat: Chat) -> bool:
    """Whether the sender may change this chat's digests.

    Anyone in a private chat; in a group, its administrators and Parley's admins. A message
    sent as the group itself comes from an anonymous administrator.
    """
    if chat.type in (Chat.PRIVATE, Chat.CHANNEL):
        return True
    message = update.message  # a button's message is the bot's own: no sender_chat to trust
    sender_chat = message.sender_chat if message is not None else None
    if sender_chat is not None and sender_chat.id == chat.id:
        return True
    user = update.effective_user
    if user is not None and services(context).is_admin(user.id):
        return True
    return user is not None and await _is_chat_admin(context, chat.id, user.id)


async def may_change_or_refuse(
    update: Update, context: ContextTypes.DEFAULT_TYPE, chat: Chat
) -> bool:
    """`may_change`, replying with a polite refusal when not."""
    if await may_change(update, context, chat):
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
