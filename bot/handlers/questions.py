"""Questions: private messages, group mentions and replies, and /ask."""

from __future__ import annotations

import re

from telegram import Message, Update
from telegram.constants import ChatAction, MessageEntityType
from telegram.ext import ContextTypes, filters

from bot import replies
from bot.context import services
from bot.handlers.replying import reply_html


class AddressedToBot(filters.MessageFilter):
    """Group messages that mention the bot or reply to one of its messages."""

    def filter(self, message: Message) -> bool:
        bot = message.get_bot()
        replied = message.reply_to_message
        if replied and replied.from_user and replied.from_user.id == bot.id:
            return True
        mention = f"@{bot.username}".lower()
        return any(
            text.lower() == mention
            for text in message.parse_entities([MessageEntityType.MENTION]).values()
        )


async def answer_message(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer a plain-text question (a private message, or a group message addressed to us)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    question = _without_mention(message.text, context.bot.username)
    if not question:
        await reply_html(update, replies.ask_hint())
        return
    await _answer(update, context, question)


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Answer the question after /ask."""
    question = " ".join(context.args or []).strip()
    if not question:
        await reply_html(update, replies.ask_hint())
        return
    await _answer(update, context, question)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, question: str) -> None:
    chat = update.effective_chat
    if chat is not None:
        await context.bot.send_chat_action(chat.id, ChatAction.TYPING)
    # Batched on a worker thread: other chats keep being served while the model works.
    answer = await services(context).questions.ask(question)
    await reply_html(update, replies.answer(answer))


def _without_mention(text: str, username: str | None) -> str:
    if username:
        text = re.sub(rf"@{re.escape(username)}\b", " ", text, flags=re.IGNORECASE)
    return " ".join(text.split())
