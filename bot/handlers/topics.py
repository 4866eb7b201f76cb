"""/topics: the topics a chat follows, with a button to drop each; and every inline button's
answer, so a stale or forged one gets a clear sentence instead of an error."""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import topic_replies
from bot.handlers.permissions import may_change
from bot.handlers.subscriptions import store
from storage import topics
from storage.topics import FollowedTopic

log = logging.getLogger(__name__)
# Callback data is whatever the client sends: only this shape is read, and the id is then
# looked up among this chat's own topics, never trusted.
DROP = re.compile(r"topic:drop:(\d{1,18})")


async def list_topics(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the chat's topics, each with a button that stops following it."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    followed = await store(context, lambda session: topics.topics_of(session, chat_id=chat.id))
    texts = topic_replies.topic_list([topic.text for topic in followed])
    for number, text in enumerate(texts):
        last = number == len(texts) - 1
        await message.reply_text(
            text,
            do_quote=chat.type != ChatType.PRIVATE and number == 0,
            reply_markup=keyboard(followed) if last and followed else None,
        )


async def topic_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on a topic's button: drop it if it is still this chat's, then show the rest."""
    query, chat = update.callback_query, update.effective_chat
    if query is None:
        return
    match = DROP.fullmatch(query.data or "")
    if match is None or chat is None or not isinstance(query.message, Message):
        await query.answer(topic_replies.BUTTON_EXPIRED)
        return
    if not await may_change(update, context, chat):
        await query.answer(topic_replies.ADMINS_ONLY, show_alert=True)
        return
    topic_id = int(match.group(1))

    def change(session: Session) -> tuple[str | None, list[FollowedTopic]]:
        dropped = topics.drop(session, chat_id=chat.id, topic_id=topic_id)
        return dropped, topics.topics_of(session, chat_id=chat.id)

    dropped, left = await store(context, change)
    await query.answer(
        topic_replies.topic_dropped(dropped) if dropped else topic_replies.TOPIC_GONE
    )
    await _refresh(query.message, left)


async def expired_button(update: Update, _context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any other button: one Parley no longer has (or never made)."""
    if update.callback_query is not None:
        await update.callback_query.answer(topic_replies.BUTTON_EXPIRED)


def keyboard(followed: Sequence[FollowedTopic]) -> InlineKeyboardMarkup:
    """One button per topic; tapping it drops the topic."""
    return InlineKeyboardMarkup(
        [
            [InlineKeyboardButton(f"✕ {topic.text}", callback_data=f"topic:drop:{topic.id}")]
            for topic in followed
        ]
    )


async def _refresh(message: Message, left: Sequence[FollowedTopic]) -> None:
    """Show the topics left in place of the old list (its buttons go with it)."""
    [text, *_] = topic_replies.topic_list([topic.text for topic in left])
    try:
        await message.edit_text(text, reply_markup=keyboard(left) if left else None)
    except BadRequest as error:  # unchanged (a stale tap), or the message is gone
        log.info("Topic list in chat %s not updated: %s", message.chat_id, error)
