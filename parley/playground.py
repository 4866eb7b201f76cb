"""`parley playground`: the real bot on the local Bot API server, and a chat page to talk to it.

The bot is built and run exactly as by `parley run`; only its token, its Bot API address, its
admin (when ADMIN_IDS is empty), its database (PLAYGROUND_DATABASE_URL, so nothing made up here
reaches the operator's archive) and ALLOW_PRIVATE_SOURCES differ, so an admin can add a feed
served from this machine.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass

from pydantic import SecretStr
from telegram.ext import Application

from bot.app import build_application, run_polling
from knowledge.embedding import Embedder
from parley.services import Services, build_services, built_to_last
from parley.settings import Settings, SettingsError
from playground.bot_api import BotApiServer
from playground.chat import ChatPage, ChatUser

# Only the local server accepts this token, so it guards nothing and need not be secret.
LOCAL_TOKEN = "1000000:parley-playground-local-token"
BOT_USERNAME = "parley_bot"
DEFAULT_ADMIN_ID = 100
FIRST_USER_ID = 101

log = logging.getLogger(__name__)


@dataclass
class Playground:
    """The local Bot API with the chat page, and the real bot pointed at it (not yet polling)."""

    server: BotApiServer
    users: list[ChatUser]
    settings: Settings  # the bot's: the operator's, pointed at the local server
    services: Services
    application: Application  # type: ignore[type-arg]

    @property
    def url(self) -> str:
        """The chat page's address."""
        return f"{self.server.url}/"

    def close(self) -> None:
        """Release the database and stop serving."""
        self.services.close()
        self.server.stop()


def chat_users(admin_ids: frozenset[int]) -> list[ChatUser]:
    """Alice, Bob and an admin: the smallest of ADMIN_IDS, or a default id when it is empty."""
    free_ids = (n for n in itertools.count(FIRST_USER_ID) if n not in admin_ids)
    admin = ChatUser(min(admin_ids, default=DEFAULT_ADMIN_ID), "Admin", admin=True)
    return [ChatUser(next(free_ids), "Alice"), ChatUser(next(free_ids), "Bob"), admin]


def local_bot_settings(settings: Settings, api_url: str, users: list[ChatUser]) -> Settings:
    """The operator's settings with the bot pointed at the local server and its own archive."""
    admins = settings.admin_ids or frozenset(user.id for user in users if user.admin)
    return settings.model_copy(
        update={
            "database_url": settings.playground_database_url,
            "telegram_bot_token": SecretStr(LOCAL_TOKEN),
            "telegram_api_base_url": api_url,
            "admin_ids": admins,
            "allow_private_sources": True,  # feeds served from this machine are the point
        }
    )


def start_page(
    settings: Settings, *, port: int | None = None
) -> tuple[BotApiServer, list[ChatUser]]:
    """The local Bot API server with the chat page, listening on PLAYGROUND_HOST:PORT."""
    users = chat_users(settings.admin_ids)
    host, port = settings.playground_host, settings.playground_port if port is None else port
    server = BotApiServer(token=LOCAL_TOKEN, bot_username=BOT_USERNAME, host=host, port=port)
    server.mount(ChatPage(server, users))
    try:
        server.start()
    except OSError as error:
        raise SettingsError(
            f"The playground cannot listen on {host}:{port} ({error.strerror or error}); "
            "set PLAYGROUND_PORT to a free port."
        ) from error
    return server, users


def build_bot(
    settings: Settings,
    server: BotApiServer,
    users: list[ChatUser],
    *,
    embedder: Embedder | None = None,
) -> Playground:
    """Services and the application as `parley run` builds them, talking to ``server``."""
    bot_settings = local_bot_settings(settings, server.url, users)
    if not settings.admin_ids:
        log.info("ADMIN_IDS is empty: the playground's Admin has id %d", DEFAULT_ADMIN_ID)
    services = build_services(bot_settings, embedder=embedder)
    try:
        services.seed_if_empty()
        application = build_application(bot_settings, services)
    except BaseException:
        services.close()
        raise
    return Playground(server, users, bot_settings, services, application)


def open_playground(
    settings: Settings, *, port: int | None = None, embedder: Embedder | None = None
) -> Playground:
    """Start the page and build the bot; start polling with `bot.app.start_bot` (tests) or
    `bot.app.run_polling`."""
    server, users = start_page(settings, port=port)
    try:
        return build_bot(settings, server, users, embedder=embedder)
    except BaseException:
        server.stop()
        raise


def run(settings: Settings) -> int:
    """Serve the page and run the bot until SIGTERM or Ctrl-C."""
    server, users = start_page(settings)
    try:
        names = ", ".join(user.name for user in users[:-1]) + f" or {users[-1].name}"
        print(f"Parley playground: {server.url}/", flush=True)
        print(f"Chat with the bot there as {names}. Ctrl-C stops it.", flush=True)
        with built_to_last():
            playground = build_bot(settings, server, users)
        try:
            run_polling(playground.application)
        finally:
            playground.services.close()
    finally:
        server.stop()
    return 0
