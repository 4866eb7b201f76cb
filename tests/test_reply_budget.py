"""One overall message budget for replies and digests: a burst of users draws no 429s, and
replies go before digests waiting for the same budget."""

from __future__ import annotations

import asyncio

import pytest

from bot.delivery import SendBudget
from parley.settings import Settings
from playground.bot_api import BotApiServer
from tests.support.bot_harness import start_running_bot
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
BURST = 150


async def test_a_burst_of_users_subscribing_at_once_draws_no_flood_refusals(
    bot_api: BotApiServer, bot_settings: Settings
) -> None:
    bot_api.enforce_rate_limit(per_second=30, per_chat_per_second=1)  # as Telegram does
    running = await start_running_bot(bot_api, bot_settings, FakeEmbedder())
    users = range(8000, 8000 + BURST)
    try:
        for user in users:
            bot_api.send_user_message(chat_id=user, text="/subscribe")
        for user in users:
            await bot_api.await_messages(user, 1, timeout=120)
    finally:
        await running.stop()

    assert bot_api.too_many_requests == 0
    assert all(len(running.replies(user)) == 1 for user in users)
    assert all(running.replies(user)[0].startswith("Subscribed") for user in users)


async def test_a_reply_takes_the_next_slot_before_waiting_digests() -> None:
    budget = SendBudget(per_second=200)
    order: list[str] = []

    async def send(name: str, *, urgent: bool) -> None:
        await budget.acquire(urgent=urgent)
        order.append(name)

    await send("first digest", urgent=False)  # takes the free slot; the rest must wait
    digests = [asyncio.create_task(send(f"digest {n}", urgent=False)) for n in range(3)]
    await asyncio.sleep(0)  # the digests are queued first
    reply = asyncio.create_task(send("reply", urgent=True))
    await asyncio.gather(*digests, reply)

    assert order == ["first digest", "reply", "digest 0", "digest 1", "digest 2"]


async def test_a_cancelled_wait_gives_its_slot_to_the_next() -> None:
    budget = SendBudget(per_second=200)
    await budget.acquire(urgent=True)
    abandoned = asyncio.create_task(budget.acquire(urgent=True))
    waiting = asyncio.create_task(budget.acquire(urgent=False))
    await asyncio.sleep(0)

    abandoned.cancel()
    await asyncio.wait_for(waiting, timeout=5)

    assert abandoned.cancelled() and waiting.done()
