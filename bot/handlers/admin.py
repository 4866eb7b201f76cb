"""Admin commands: /addsource, /removesource, /ingest. Everyone else is politely refused."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.constants import ChatAction
from telegram.ext import ContextTypes

from bot import polling, replies
from bot.context import services
from bot.handlers.replying import reply_html
from web.source_manager import SourceError

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


def admins_only(handler: Handler) -> Handler:
    """Run the handler for admins; refuse everyone else without changing anything."""

    @functools.wraps(handler)
    async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        user = update.effective_user
        if not services(context).is_admin(user.id if user else None):
            await reply_html(update, replies.admins_only())
            return
        try:
            await handler(update, context)
        except SourceError as error:
            await reply_html(update, replies.problem(str(error)))

    return guarded


def _argument(context: ContextTypes.DEFAULT_TYPE) -> str:
    return " ".join(context.args or [])


async def _working(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    if update.effective_chat is not None:
        await context.bot.send_chat_action(update.effective_chat.id, ChatAction.TYPING)


@admins_only
async def add_source(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Detect, fetch and store a new source, then poll it on schedule and send its digest."""
    await _working(update, context)
    bot_services = services(context)
    check = await bot_services.source_manager.add(_argument(context))
    await reply_html(update, replies.source_added(check))
    if context.job_queue is not None:
        polling.schedule_source(
            context.job_queue,
            check.source_id,
            bot_services.poll_seconds,
            first=bot_services.poll_seconds,
        )
    if check.stored:  # sent here when this worker leads, else by the leader within a minute
        await polling.send_digests(context)


@admins_only
async def remove_source(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop following a source."""
    bot_services = services(context)
    source = await asyncio.to_thread(bot_services.source_manager.remove, _argument(context))
    if context.job_queue is not None:
        polling.unschedule_source(context.job_queue, source.id)
    await reply_html(update, replies.source_removed(source.id, source.name))


@admins_only
async def ingest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch and store one article page."""
    await _working(update, context)
    result = await services(context).source_manager.ingest_page(_argument(context))
    await reply_html(update, replies.page_ingested(result.plan, stored=result.stored))
