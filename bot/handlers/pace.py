"""/digest: how often this chat gets its digests (at once, daily or weekly), by command or
by button."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from sqlalchemy.orm import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ChatType
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot import topic_replies
from bot.handlers.permissions import may_change, may_change_or_refuse
from bot.handlers.replying import reply_html
from bot.handlers.subscriptions import store
from bot.pace_input import DEFAULT_MINUTE, PaceInputError, parse_pace
from storage import paces, subscriptions
from storage.models import utcnow
from storage.paces import DAILY, IMMEDIATE, NOW, WEEKLY, Pace

log = logging.getLogger(__name__)
BUTTON = re.compile(r"pace:(now|daily|weekly)")


async def digest_pace(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Show the chat's pace with buttons, or set it: `/digest daily 08:00 Europe/Kyiv`."""
    message, chat = update.effective_message, update.effective_chat
    if message is None or chat is None:
        return
    current = await store(context, lambda session: paces.pace_of(session, chat_id=chat.id))
    if not context.args:
        [text, *_] = topic_replies.pace_shown(current)
        await message.reply_text(
            text, do_quote=chat.type != ChatType.PRIVATE, reply_markup=keyboard()
        )
        return
    if not await may_change_or_refuse(update, context, chat):
        return
    try:
        pace = parse_pace(context.args, current=current)
    except PaceInputError as error:
        await reply_html(update, topic_replies.pace_error(str(error)))
        return
    stored, subscribed = await store(context, _setter(chat.id, pace))
    await reply_html(update, topic_replies.pace_set(stored, subscribed=subscribed))


async def pace_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A tap on now / daily / weekly: keeps the chat's hour, day and zone (08:00 UTC,
    Mondays, at first)."""
    query, chat = update.callback_query, update.effective_chat
    if query is None:
        return
    match = BUTTON.fullmatch(query.data or "")
    if match is None or chat is None or not isinstance(query.message, Message):
        await query.answer(topic_replies.BUTTON_EXPIRED)
        return
    if not await may_change(update, context, chat):
        await query.answer(topic_replies.ADMINS_ONLY, show_alert=True)
        return
    current = await store(context, lambda session: paces.pace_of(session, chat_id=chat.id))
    stored, _ = await store(context, _setter(chat.id, _chosen(match.group(1), current)))
    await query.answer(f"Digests: {topic_replies.pace_label(stored)}"[:200])
    [text, *_] = topic_replies.pace_shown(stored)
    try:
        await query.message.edit_text(text, reply_markup=keyboard())
    except BadRequest as error:  # the same pace tapped again: nothing to change
        log.info("Pace message in chat %s not updated: %s", chat.id, error)


def keyboard() -> InlineKeyboardMarkup:
    """The three paces."""
    return InlineKeyboardMarkup(
        [
            [
                InlineKeyboardButton("At once", callback_data=f"pace:{NOW}"),
                InlineKeyboardButton("Daily", callback_data=f"pace:{DAILY}"),
                InlineKeyboardButton("Weekly", callback_data=f"pace:{WEEKLY}"),
            ]
        ]
    )


def _chosen(every: str, current: Pace) -> Pace:
    if every == NOW:
        return IMMEDIATE
    minute = DEFAULT_MINUTE if current.immediate else current.minute_of_day
    weekday = (current.weekday or 0) if every == WEEKLY else None
    return Pace(every, minute, current.time_zone, weekday)


def _setter(chat_id: int, pace: Pace) -> Callable[[Session], tuple[Pace, bool]]:
    """Store the pace; say whether the chat is subscribed, for the reply."""

    def change(session: Session) -> tuple[Pace, bool]:
        stored = paces.set_pace(session, chat_id=chat_id, pace=pace, now=utcnow())
        return stored, subscriptions.is_subscribed(session, chat_id=chat_id)

    return change
