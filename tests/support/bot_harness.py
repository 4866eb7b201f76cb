"""The real Parley application against the local Bot API server, started and stopped with
production's steps and hooks inside the test's event loop (`bot.app.start_bot` / `stop_bot`)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from telegram.ext import Application

from bot.app import build_application, start_bot, stop_bot
from knowledge.embedding import Embedder
from parley.services import Services, build_services
from parley.settings import Settings
from playground.bot_api import BotApiServer

TOKEN = "123456:TEST-token-for-the-local-bot-api"
ADMIN = 1001
USER = 2002


@dataclass
class RunningBot:
    """A started bot, its services and the server it talks to."""

    server: BotApiServer
    settings: Settings
    services: Services
    application: Application  # type: ignore[type-arg]

    async def ask(
        self, chat_id: int, text: str, *, user_id: int | None = None, count: int = 1
    ) -> list[str]:
        """Send a private message and return the texts of the replies it gets."""
        before = len(self.replies(chat_id))
        self.server.send_user_message(chat_id=chat_id, user_id=user_id or chat_id, text=text)
        messages = await self.server.await_messages(chat_id, before + count, timeout=120)
        return [message["text"] for message in messages[before:]]

    def replies(self, chat_id: int) -> list[str]:
        """Every text sent to the chat so far."""
        return [m["text"] for m in self.server.sent_messages if m["chat_id"] == chat_id]

    async def stop(self) -> None:
        """Stop polling and close the services."""
        await stop_bot(self.application)
        self.services.close()


async def start_running_bot(
    server: BotApiServer, settings: Settings, embedder: Embedder
) -> RunningBot:
    """Build services and the application exactly as `parley run` does, and start polling."""
    services = build_services(settings, embedder=embedder)
    services.seed_if_empty()
    application = build_application(settings, services)
    await start_bot(application)
    return RunningBot(server, settings, services, application)


async def eventually(condition: Callable[[], bool], timeout: float = 60.0) -> None:
    """Wait until the condition holds, failing after the timeout."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)
