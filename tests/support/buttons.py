"""Pressing a bot message's inline buttons on the local Bot API server, as a user would."""

from __future__ import annotations

from typing import Any

from playground.bot_api import BotApiServer
from tests.support.bot_harness import eventually


def buttons(server: BotApiServer, chat_id: int, message_id: int) -> dict[str, str]:
    """The message's buttons as they are now: label → callback data."""
    message = server.message(chat_id, message_id) or {}
    rows: list[list[dict[str, Any]]] = (message.get("reply_markup") or {}).get(
        "inline_keyboard", []
    )
    return {button["text"]: button["callback_data"] for row in rows for button in row}


def last_message(server: BotApiServer, chat_id: int) -> dict[str, Any]:
    """The bot's newest message to the chat, as recorded."""
    sent = [m for m in server.sent_messages if m["chat_id"] == chat_id]
    return dict(sent[-1])


async def press(
    server: BotApiServer, chat_id: int, message_id: int, data: str, *, user_id: int | None = None
) -> dict[str, Any]:
    """Press a button (real or forged data) and return the bot's answer to the press."""
    answered = len(server.callback_answers)
    server.press_button(chat_id, user_id or chat_id, message_id, data)
    await eventually(lambda: len(server.callback_answers) > answered, timeout=60)
    return dict(server.callback_answers[answered])
