"""Sending a reply that may span several messages."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Message, Update
from telegram.constants import ChatType


async def reply_html(update: Update, messages: Sequence[str]) -> list[Message]:
    """Send the messages in order; in groups the first one replies to the asker."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None:
        return []
    quote_asker = chat.type != ChatType.PRIVATE
    sent = []
    for number, text in enumerate(messages):
        sent.append(
            # HTML without link previews: the application's Defaults.
            await message.reply_text(text, do_quote=quote_asker and number == 0)
        )
    return sent
