"""Digests end to end: a feed is added, new articles reach every subscriber exactly once."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from knowledge.embedding import Embedder
from parley.settings import Settings
from playground.bot_api import BotApiServer
from storage import subscriptions
from tests.support.bot_harness import ADMIN, RunningBot, eventually, start_running_bot
from tests.support.news_site import publish, story
from tests.support.web_server import WebServer

pytestmark = [
    pytest.mark.model,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
SUBSCRIBERS = [3001, 3002, 3003]


@pytest.fixture
def site() -> Iterator[WebServer]:
    with WebServer() as server:
        yield server


def subscribe(running: RunningBot, chat_ids: list[int]) -> None:
    with running.services.sessions.begin() as session:
        for chat_id in chat_ids:
            subscriptions.subscribe(session, chat_id=chat_id, chat_type="private", title=None)


def digests_to(server: BotApiServer, chat_id: int) -> list[str]:
    return [
        m["text"] for m in server.sent_messages if m["chat_id"] == chat_id and "New:" in m["text"]
    ]


async def test_a_new_feed_item_reaches_every_subscriber_once_and_can_be_asked_about(
    bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder, site: WebServer
) -> None:
    settings = bot_settings.model_copy(update={"source_poll_seconds": 1.0})
    running = await start_running_bot(bot_api, settings, real_embedder)
    try:
        subscribe(running, SUBSCRIBERS)
        feed_url = publish(site, [story(1, "Ceasefire")])
        [added] = await running.ask(ADMIN, f"/addsource {feed_url}")
        for chat_id in SUBSCRIBERS:
            await bot_api.await_messages(chat_id, 1, timeout=120)

        grain = story(2, "Grain corridor")
        grain.paragraphs.append("The grain corridor will be monitored by Turkish naval officers.")
        publish(site, [grain, story(1, "Ceasefire")])
        for chat_id in SUBSCRIBERS:
            await bot_api.await_messages(chat_id, 2, timeout=120)
        [answer] = await running.ask(4004, "Who will monitor the grain corridor?")
    finally:
        await running.stop()

    assert "Added source #" in added and "Example Wire" in added and "Found 1 article" in added
    for chat_id in SUBSCRIBERS:
        first, second = digests_to(bot_api, chat_id)
        assert "Ceasefire talks: round 1 ends in Geneva" in first and "Grain" not in first
        assert (
            "Grain corridor talks: round 2 ends in Geneva" in second and "Ceasefire" not in second
        )
        assert "Example Wire" in second and f'href="{site.url}/news/story-2"' in second
        assert "Negotiators met in Geneva on Monday" in second  # the summary
    assert "Turkish naval officers" in answer


async def test_a_fanout_interrupted_by_a_stop_resumes_without_losing_or_repeating(
    bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder, site: WebServer
) -> None:
    subscribers = list(range(5000, 5090))
    bot_api.enforce_rate_limit(per_second=30, per_chat_per_second=1)
    running = await start_running_bot(bot_api, bot_settings, real_embedder)
    subscribe(running, subscribers)
    await running.ask(ADMIN, f"/addsource {publish(site, [story(1, 'Ceasefire')])}")
    await eventually(lambda: sum(bool(digests_to(bot_api, c)) for c in subscribers) >= 20)

    await running.stop()
    delivered_before_restart = sum(bool(digests_to(bot_api, c)) for c in subscribers)
    restarted = await start_running_bot(bot_api, bot_settings, real_embedder)
    try:
        await eventually(lambda: all(digests_to(bot_api, c) for c in subscribers), timeout=120)
    finally:
        await restarted.stop()

    assert delivered_before_restart < len(subscribers)
    assert all(len(digests_to(bot_api, chat_id)) == 1 for chat_id in subscribers)


async def test_a_subscriber_who_blocked_the_bot_is_skipped_and_the_others_served(
    running_bot: RunningBot, bot_api: BotApiServer, site: WebServer
) -> None:
    subscribe(running_bot, SUBSCRIBERS)
    bot_api.block_chat(SUBSCRIBERS[0])

    await running_bot.ask(ADMIN, f"/addsource {publish(site, [story(1, 'Ceasefire')])}")
    for chat_id in SUBSCRIBERS[1:]:
        await bot_api.await_messages(chat_id, 1, timeout=120)

    def blocked_is_unsubscribed() -> bool:
        with running_bot.services.sessions() as session:
            return not subscriptions.is_subscribed(session, chat_id=SUBSCRIBERS[0])

    await eventually(blocked_is_unsubscribed)
    assert digests_to(bot_api, SUBSCRIBERS[0]) == []


async def test_admins_are_told_when_a_failing_source_is_deactivated(
    bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder, site: WebServer
) -> None:
    settings = bot_settings.model_copy(
        update={"source_poll_seconds": 0.5, "max_source_failures": 2}
    )
    running = await start_running_bot(bot_api, settings, real_embedder)
    try:
        feed_url = publish(site, [story(1, "Ceasefire")])
        [added] = await running.ask(ADMIN, f"/addsource {feed_url}")
        site.add("/feed.xml", b"<html><body>Gone</body></html>", content_type="text/html")
        notice = (await bot_api.await_messages(ADMIN, 2, timeout=120))[-1]
        [listed] = await running.ask(ADMIN, "/sources")
    finally:
        await running.stop()

    assert added.startswith("Added source #")
    assert "was deactivated" in notice["text"] and "not an RSS or Atom feed" in notice["text"]
    assert "Example Wire" not in listed


async def test_a_long_digest_is_split_and_paced_to_one_message_a_second_per_chat(
    bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder, site: WebServer
) -> None:
    # Three days apart, the rounds are separate events, never one story.
    stories = [
        story(number, "Very long running humanitarian corridor", hours_ago=1 + 72 * number)
        for number in range(40)
    ]
    settings = bot_settings.model_copy(update={"digest_backfill_hours": 72 * 41})
    running_bot = await start_running_bot(bot_api, settings, real_embedder)
    try:
        subscribe(running_bot, [SUBSCRIBERS[0]])
        bot_api.enforce_rate_limit(per_second=30, per_chat_per_second=1)

        await running_bot.ask(ADMIN, f"/addsource {publish(site, stories)}")
        await eventually(lambda: len(digests_to(bot_api, SUBSCRIBERS[0])) >= 1, timeout=180)
        await eventually(
            lambda: "Ask me about them" in "".join(running_bot.replies(SUBSCRIBERS[0])),
            timeout=120,
        )
    finally:
        await running_bot.stop()

    parts = running_bot.replies(SUBSCRIBERS[0])
    assert len(parts) >= 2 and all(len(part) <= 4096 for part in parts)
    joined = "\n".join(parts)
    assert all(joined.count(f"round {n} ends in Geneva</a>") == 1 for n in range(40))
    assert bot_api.too_many_requests == 0
