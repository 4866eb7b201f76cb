"""One message a second per chat, as Telegram sees it: through the real limiter and HTTP to
the local Bot API server, which refuses a second message within a second (429)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from telegram.ext import ExtBot

from bot.app import bot_defaults
from bot.delivery import DeliveryRateLimiter
from playground.bot_api import BotApiServer
from tests.support.bot_harness import TOKEN

CHAT = 5151


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(token=TOKEN) as running:
        running.enforce_rate_limit(per_second=30, per_chat_per_second=1)
        yield running


async def test_a_retried_message_keeps_the_next_one_to_its_chat_a_second_away(
    server: BotApiServer,
) -> None:
    # The first attempt fails on the way and is retried a second later: the chat's next
    # message must count its second from the retry Telegram accepted, not from the first try.
    server.refuse_messages(CHAT, "Bad Gateway", status=502, count=1)
    limiter = DeliveryRateLimiter(network_retries=1, backoff=1.0)
    async with ExtBot(
        TOKEN, base_url=f"{server.url}/bot", rate_limiter=limiter, defaults=bot_defaults()
    ) as bot:
        await bot.send_message(CHAT, "first")
        await bot.send_message(CHAT, "second")

    assert [m["text"] for m in server.sent_messages] == ["first", "second"]
    assert server.too_many_requests == 0
