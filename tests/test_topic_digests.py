"""Topic digests with the real model, through the real application and the local Bot API
server: a prisoner-swap report reaches the chat that follows "prisoner exchange", a tariff
report does not; a chat following everything gets both."""

from __future__ import annotations

import asyncio

import pytest

from bot.context import SERVICES_KEY, BotServices
from evaluation.folds import DEFAULT_DATA, NEGOTIATIONS
from knowledge.embedding import Embedder
from parley.settings import Settings
from playground.bot_api import BotApiServer
from tests.conftest import PROJECT
from tests.support.bot_harness import RunningBot, start_running_bot

TARIFFS = DEFAULT_DATA / NEGOTIATIONS / "articles" / "038.html"
pytestmark = [
    pytest.mark.model,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
    pytest.mark.skipif(not TARIFFS.is_file(), reason="shared/data is not beside the project"),
]
SWAP = PROJECT / "tests" / "data" / "topics" / "101.html"
SWAP_URL = "https://example.org/parley-tests/2025/05/25/prisoner-exchange"
TARIFF_URL = "https://www.freightwaves.com/news/china-raises-retaliatory-tariffs-on-us-goods-to-125"
SWAPS_CHAT, TRADE_CHAT, EVERYTHING_CHAT = 6101, 6102, 6103


async def test_a_swap_reaches_the_prisoner_exchange_chat_and_a_tariff_report_does_not(
    bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder
) -> None:
    running = await start_running_bot(bot_api, bot_settings, real_embedder)
    try:
        await running.ask(SWAPS_CHAT, "/subscribe prisoner exchange")
        await running.ask(TRADE_CHAT, "/subscribe tariffs")
        await running.ask(EVERYTHING_CHAT, "/subscribe")
        await ingest_for_digests(running)
        bot_services: BotServices = running.application.bot_data[SERVICES_KEY]
        await bot_services.digests.send_pending(running.application.bot)
    finally:
        await running.stop()

    assert linked(bot_api, SWAPS_CHAT) == {SWAP_URL}
    assert linked(bot_api, TRADE_CHAT) == {TARIFF_URL}
    assert linked(bot_api, EVERYTHING_CHAT) == {SWAP_URL, TARIFF_URL}


async def ingest_for_digests(running: RunningBot) -> None:
    """Store both articles as a poll would: queued in the transaction that stores each."""
    ingestor = running.services.ingestor

    def store() -> None:
        plans, problems = ingestor.plan_files([str(SWAP), str(TARIFFS)])
        assert not problems
        assert len(ingestor.store(plans, digest=lambda _plan: True).article_ids) == 2

    await asyncio.to_thread(store)


def linked(server: BotApiServer, chat_id: int) -> set[str]:
    """Which of the two articles the chat's messages link to."""
    text = "".join(m["text"] for m in server.sent_messages if m["chat_id"] == chat_id)
    return {url for url in (SWAP_URL, TARIFF_URL) if url in text}
