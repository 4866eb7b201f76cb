"""What Parley is and what it holds: /start, /help, /sources, /latest, unknown commands."""

from __future__ import annotations

import asyncio

from telegram import Update
from telegram.constants import ChatType
from telegram.ext import ContextTypes

from bot import replies
from bot.context import services
from bot.handlers.replying import reply_html
from storage import articles, sources

LATEST_COUNT = 10


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Introduce Parley."""
    await reply_html(update, replies.welcome())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the commands; admins see theirs too."""
    user = update.effective_user
    await reply_html(
        update, replies.help_text(services(context).is_admin(user.id if user else None))
    )


async def list_sources(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the active sources."""

    def load() -> list[sources.SourceSummary]:
        with services(context).core.sessions() as session:
            return sources.active_sources(session)

    await reply_html(update, replies.source_list(await asyncio.to_thread(load)))


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """List the most recent articles with links."""

    def load() -> list[articles.ArticleSummary]:
        with services(context).core.sessions() as session:
            return articles.latest_articles(session, limit=LATEST_COUNT)

    await reply_html(update, replies.article_list(await asyncio.to_thread(load)))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Point to /help; in groups only when the command was meant for us."""
    message = update.effective_message
    chat = update.effective_chat
    if message is None or chat is None or not message.text:
        return
    command = message.text.split()[0]
    if chat.type != ChatType.PRIVATE:
        target = command.partition("@")[2]
        if target.lower() != (context.bot.username or "").lower():
            return
    await reply_html(update, replies.unknown_command(command.partition("@")[0]))
