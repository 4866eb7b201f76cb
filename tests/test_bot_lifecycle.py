"""The application as PTB runs it: set up once on the builder (HTML, no link previews) and
started and stopped with its own hooks (command menu, jobs, digests left pending on stop)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.settings import Settings
from playground.bot_api import BotApiServer
from tests.support.bot_harness import USER, RunningBot, start_running_bot
from tests.support.fake_embedder import FakeEmbedder


@pytest.fixture
async def running(bot_api: BotApiServer, bot_settings: Settings) -> AsyncIterator[RunningBot]:
    started = await start_running_bot(bot_api, bot_settings, FakeEmbedder())
    yield started
    await started.stop()


async def test_replies_are_html_without_link_previews(
    running: RunningBot, bot_api: BotApiServer
) -> None:
    await running.ask(USER, "/latest")

    [reply] = [m for m in bot_api.sent_messages if m["chat_id"] == USER]
    assert reply["parse_mode"] == "HTML"
    assert reply["link_preview_options"] == {"is_disabled": True}


async def test_starting_shows_the_command_menu(running: RunningBot, bot_api: BotApiServer) -> None:
    assert {"ask", "latest", "subscribe"} <= {c["command"] for c in bot_api.commands}
