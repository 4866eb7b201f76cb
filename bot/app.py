"""Building and running the Telegram application: the same for production and tests.

python-telegram-bot runs it. `parley run` calls `run_polling`, PTB's own loop: initialise,
`post_init` (command menu, jobs), poll until SIGTERM or SIGINT, stop, `post_stop`, shut down.
Code that owns its event loop (tests, the bench, the playground's test harness) uses
`start_bot`/`stop_bot`, PTB's documented steps for custom loops, with the same hooks in the
same order. `parley run --webhook` calls `run_webhook` instead: PTB's own web server takes
Telegram's POSTs (refusing any without the secret token, 403), with the same hooks; so do
`start_bot(..., webhook=...)` and `stop_bot` for code that owns its loop. Several workers
may run at once: all answer, one leads the scheduled work (bot.leadership).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from telegram import BotCommand, BotCommandScopeChat, LinkPreviewOptions, Update
from telegram.constants import ParseMode
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    Defaults,
    MessageHandler,
    filters,
)

from bot import errors, polling
from bot.batching import QuestionBatcher
from bot.config import BotSettings, CoreServices, WebhookSettings
from bot.context import SERVICES_KEY, BotServices
from bot.delivery import DeliveryRateLimiter
from bot.digests import DigestSender
from bot.handlers import admin, info, news, pace, questions, subscriptions, topics
from bot.leadership import LEADERSHIP_KEY, Leadership, leadership_of, schedule_leadership

log = logging.getLogger(__name__)
ALLOWED_UPDATES = Update.ALL_TYPES

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


def bot_defaults() -> Defaults:
    """Every message is Telegram HTML without link previews unless a call says otherwise
    (the digests' plain-text fallback passes ``parse_mode=None``)."""
    return Defaults(
        parse_mode=ParseMode.HTML, link_preview_options=LinkPreviewOptions(is_disabled=True)
    )


class ParleyApplication(Application):  # type: ignore[type-arg]
    """PTB's Application with the one hook it lacks: `before_stop`, called the moment stopping
    begins. PTB's `stop` then waits for the updates and jobs under way, and a digest fan-out
    must hear first that it may start no new digest, or that wait would send them all."""

    def __init__(self, *, before_stop: Callable[[], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._before_stop = before_stop

    async def stop(self) -> None:
        """Stop new digests, then stop as PTB does."""
        log.info("Stopping Parley")
        self._before_stop()
        await super().stop()


def build_application(settings: BotSettings, services: CoreServices) -> Application:  # type: ignore[type-arg]
    """The Telegram application with every handler, talking to the configured Bot API."""
    bot_services = BotServices(
        core=services,
        digests=DigestSender(services.sessions, admin_ids=settings.admin_ids),
        questions=QuestionBatcher(services.answerer.ask_many),
        admin_ids=settings.admin_ids,
        poll_seconds=settings.source_poll_seconds,
        catch_up_seconds=settings.catch_up_seconds,
    )
    application = (
        ApplicationBuilder()
        .application_class(ParleyApplication, {"before_stop": bot_services.digests.stop})
        .token(settings.bot_token())
        .base_url(settings.bot_api_url())
        .base_file_url(settings.bot_file_url())
        .defaults(bot_defaults())
        .concurrent_updates(True)
        .rate_limiter(DeliveryRateLimiter())
        .post_init(_started)
        .post_stop(_stopped)
        .build()
    )
    application.bot_data[SERVICES_KEY] = bot_services
    application.bot_data[LEADERSHIP_KEY] = Leadership(
        services.sessions, lease_seconds=settings.leader_lease_seconds
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


async def _started(application: Application) -> None:  # type: ignore[type-arg]
    """PTB's post_init: the command menu, the scheduler lease, then polling sources and
    resuming pending digests (both done only while this worker leads)."""
    bot_services: BotServices = application.bot_data[SERVICES_KEY]
    await register_commands(application, bot_services.admin_ids)
    # Asked before the jobs start, so that a lone worker leads from its first job on.
    await asyncio.to_thread(leadership_of(application).renew)
    polling.schedule_all(application, bot_services)
    schedule_leadership(application, on_gained=polling.send_digests)
    log.info("Parley is starting as @%s", application.bot.username)


async def _stopped(application: Application) -> None:  # type: ignore[type-arg]
    """PTB's post_stop: updates, jobs and digests under way have finished; another worker
    may lead at once."""
    await asyncio.to_thread(leadership_of(application).release)
    log.info("Parley stopped; digests not sent yet stay pending for the next start")


def run_polling(application: Application) -> None:  # type: ignore[type-arg]
    """Long polling until SIGTERM or SIGINT (PTB's stop signals), then a clean stop.

    A Bot API that cannot be reached or refuses the token raises its TelegramError here.
    """
    application.run_polling(allowed_updates=ALLOWED_UPDATES)


def run_webhook(application: Application, webhook: WebhookSettings) -> None:  # type: ignore[type-arg]
    """Take Telegram's webhook POSTs until SIGTERM or SIGINT, then stop as `run_polling` does.

    Each worker registers the same public URL and secret token at start (Telegram keeps one
    webhook per bot, and setting it again is harmless) and leaves it registered when it stops,
    for the workers still running. A Bot API that refuses it raises its TelegramError here.
    """
    application.run_webhook(
        listen=webhook.listen,
        port=webhook.port,
        url_path=webhook.path,
        webhook_url=webhook.url,
        secret_token=webhook.secret_token,
        allowed_updates=ALLOWED_UPDATES,
    )


async def start_bot(
    application: Application,  # type: ignore[type-arg]
    *,
    webhook: WebhookSettings | None = None,
) -> None:
    """`run_polling`'s start (or `run_webhook`'s) inside an event loop the caller owns."""
    await application.initialize()
    if application.post_init is not None:
        await application.post_init(application)
    assert application.updater is not None
    if webhook is None:
        await application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
    else:
        await application.updater.start_webhook(
            listen=webhook.listen,
            port=webhook.port,
            url_path=webhook.path,
            webhook_url=webhook.url,
            secret_token=webhook.secret_token,
            allowed_updates=ALLOWED_UPDATES,
        )
    await application.start()


async def stop_bot(application: Application) -> None:  # type: ignore[type-arg]
    """`run_polling`'s stop inside an event loop the caller owns; unsent digests stay pending."""
    if application.updater is not None and application.updater.running:
        await application.updater.stop()
    if application.running:
        await application.stop()
        if application.post_stop is not None:
            await application.post_stop(application)
    await application.shutdown()
    if application.post_shutdown is not None:
        await application.post_shutdown(application)
