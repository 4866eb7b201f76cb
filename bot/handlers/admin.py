"""Admin commands: /addsource, /removesource, /ingest. Everyone else is politely refused."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from bot import replies
from bot.context import services
from bot.handlers.replying import reply_html
from knowledge import sources
from knowledge.sources import SourceError

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


@admins_only
async def add_source(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Validate, store and confirm a new source."""
    source = await asyncio.to_thread(
        sources.add_source, services(context).core.sessions, _argument(context)
    )
    await reply_html(update, replies.source_added(source.id, source.url or ""))


@admins_only
async def remove_source(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stop following a source."""
    source = await asyncio.to_thread(
        sources.remove_source, services(context).core.sessions, _argument(context)
    )
    await reply_html(update, replies.source_removed(source.id, source.name))


@admins_only
async def ingest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Fetch and store one article page."""
    bot_services = services(context)
    result = await sources.ingest_page(
        _argument(context), fetcher=bot_services.fetcher, ingestor=bot_services.core.ingestor
    )
    await reply_html(update, replies.page_ingested(result.plan, stored=result.stored))
