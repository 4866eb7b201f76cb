"""Building and running the Telegram application: the same for production and tests."""

from __future__ import annotations

import asyncio
import logging
import signal

from telegram import BotCommand, BotCommandScopeChat, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    MessageHandler,
    filters,
)

from bot import errors, polling
from bot.batching import QuestionBatcher
from bot.context import SERVICES_KEY, BotServices
from bot.delivery import DeliveryRateLimiter
from bot.digests import DigestSender
from bot.handlers import admin, info, news, pace, questions, subscriptions, topics
from bot.services import Services
from bot.settings import Settings

log = logging.getLogger(__name__)

USER_COMMANDS = [
    BotCommand("ask", "Ask a question about the talks"),
    BotCommand("latest", "The most recent articles"),
    BotCommand("whatsnew", "New stories since you last looked (or: 7d, 2025-06-01)"),
    BotCommand("timeline", "What happened on a topic, oldest first"),
    BotCommand("sources", "Where the articles come from"),
    BotCommand("subscribe", "Digests of every new article, or of a topic: /subscribe <topic>"),
    BotCommand("unsubscribe", "Stop the digests and forget this chat's topics"),
    BotCommand("topics", "The topics this chat follows, with buttons to drop them"),
    BotCommand("digest", "How often digests come: now, daily or weekly (e.g. daily 08:00 UTC)"),
    BotCommand("help", "What Parley can do"),
    BotCommand("start", "About Parley"),
]
ADMIN_COMMANDS = [
    BotCommand("addsource", "Add a news source (admins)"),
    BotCommand("removesource", "Stop following a source (admins)"),
    BotCommand("ingest", "Add one article by its URL (admins)"),
]


def build_application(settings: Settings, services: Services) -> Application:  # type: ignore[type-arg]
    """The Telegram application with every handler, talking to the configured Bot API."""
    application = (
        ApplicationBuilder()
        .token(settings.bot_token())
        .base_url(settings.bot_api_url())
        .base_file_url(settings.bot_file_url())
        .concurrent_updates(True)
        .rate_limiter(DeliveryRateLimiter())
        .build()
    )
    application.bot_data[SERVICES_KEY] = BotServices(
        core=services,
        digests=DigestSender(services.sessions, admin_ids=settings.admin_ids),
        questions=QuestionBatcher(services.answerer.ask_many),
        admin_ids=settings.admin_ids,
        poll_seconds=settings.source_poll_seconds,
    )
    _add_handlers(application)
    application.add_error_handler(errors.handle_error)
    return application


def _add_handlers(application: Application) -> None:  # type: ignore[type-arg]
    commands = {
        "start": info.start,
        "help": info.help_command,
        "ask": questions.ask,
        "subscribe": subscriptions.subscribe,
        "unsubscribe": subscriptions.unsubscribe,
        "topics": topics.list_topics,
        "digest": pace.digest_pace,
        "sources": info.list_sources,
        "latest": info.latest,
        "whatsnew": news.whats_new,
        "timeline": news.timeline,
        "addsource": admin.add_source,
        "removesource": admin.remove_source,
        "ingest": admin.ingest,
    }
    # New messages only: editing an old message must not run its command (or question) again.
    new = filters.UpdateType.MESSAGE
    for name, callback in commands.items():
        application.add_handler(CommandHandler(name, callback, filters=new))
    text = new & filters.TEXT & ~filters.COMMAND
    application.add_handler(
        MessageHandler(filters.ChatType.PRIVATE & text, questions.answer_message)
    )
    application.add_handler(
        MessageHandler(
            filters.ChatType.GROUPS & text & questions.AddressedToBot(), questions.answer_message
        )
    )
    application.add_handler(MessageHandler(new & filters.COMMAND, info.unknown_command))
    application.add_handler(
        MessageHandler(filters.StatusUpdate.MIGRATE, subscriptions.chat_migrated)
    )
    application.add_handler(CallbackQueryHandler(topics.topic_button, pattern=r"^topic:"))
    application.add_handler(CallbackQueryHandler(pace.pace_button, pattern=r"^pace:"))
    application.add_handler(CallbackQueryHandler(topics.expired_button))  # stale or forged


async def register_commands(application: Application, admin_ids: frozenset[int]) -> None:  # type: ignore[type-arg]
    """Show the command menu: user commands for all, admin commands in admins' own chats."""
    await application.bot.set_my_commands(USER_COMMANDS)
    for admin_id in sorted(admin_ids):
        try:
            await application.bot.set_my_commands(
                USER_COMMANDS + ADMIN_COMMANDS, scope=BotCommandScopeChat(admin_id)
            )
        except TelegramError as error:  # the admin has not opened a chat with the bot yet
            log.info("No admin command menu for %s: %s", admin_id, error)


async def start_bot(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Initialise, register commands and start long polling."""
    await application.initialize()
    await register_commands(application, settings.admin_ids)
    await application.start()
    polling.schedule_all(application, application.bot_data[SERVICES_KEY])
    assert application.updater is not None
    await application.updater.start_polling(allowed_updates=Update.ALL_TYPES)
    log.info("Parley is running as @%s", application.bot.username)


async def stop_bot(application: Application) -> None:  # type: ignore[type-arg]
    """Stop polling and shut down cleanly; unsent digests stay pending for the next start."""
    bot_services = application.bot_data.get(SERVICES_KEY)
    if isinstance(bot_services, BotServices):
        bot_services.digests.stop()
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
    await application.shutdown()


async def serve(application: Application, settings: Settings) -> None:  # type: ignore[type-arg]
    """Run until SIGTERM or SIGINT, then stop cleanly."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopping.set)
    await start_bot(application, settings)
    try:
        await stopping.wait()
    finally:
        log.info("Stopping Parley")
        await stop_bot(application)
