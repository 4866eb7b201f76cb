"""Digest delivery guarantees, through real SQLite and real HTTP to the local Bot API server:
nobody lost, nothing doubled, whatever Telegram answers."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import select, text
from telegram.ext import ExtBot
from telegram.request import HTTPXRequest

from bot.app import bot_defaults
from bot.delivery import DeliveryRateLimiter
from bot.digests import DigestSender, render_digest
from parley.services import Services
from playground.bot_api import BotApiServer
from storage import deliveries, subscriptions
from storage.models import Article, Delivery, Source
from tests.support.bot_harness import ADMIN, TOKEN

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL

CHAT = 4242
ARTICLES = 40  # enough for a digest of several messages


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(token=TOKEN) as running:
        yield running


def make_bot(server: BotApiServer, *, read_timeout: float = 5.0) -> ExtBot[None]:
    """A bot with production's limiter and defaults, made quick: short per-chat gap, fast
    retries."""
    limiter = DeliveryRateLimiter(network_retries=1, backoff=0.01, chat_interval=0.01)
    return ExtBot(
        TOKEN,
        base_url=f"{server.url}/bot",
        request=HTTPXRequest(read_timeout=read_timeout),
        rate_limiter=limiter,
        defaults=bot_defaults(),
    )


@pytest.fixture
async def bot(server: BotApiServer) -> AsyncIterator[ExtBot[None]]:
    async with make_bot(server) as running:
        yield running


def subscribe(services: Services, *chat_ids: int, articles: int = ARTICLES) -> None:
    """Subscribe the chats, then store articles: each lands in every chat's next digest."""
    with services.sessions.begin() as session:
        for chat_id in chat_ids:
            chat_type = "private" if chat_id > 0 else "group"
            subscriptions.subscribe(session, chat_id=chat_id, chat_type=chat_type, title=None)
        source = Source(name="Example Wire", kind="feed", url="https://example.org/feed")
        for number in range(articles):
            body = (
                f"Negotiators met in Geneva on day {number} to discuss the humanitarian corridor "
                "and the exchange of prisoners. Both delegations said the talks were useful."
            )
            article = Article(
                source=source,
                url=f"https://example.org/news/{number}",
                title=f"Round {number} of the corridor talks ends in Geneva",
                text=body,
                content_hash=f"hash-{number}",
            )
            session.add(article)
            session.flush()
            deliveries.queue_for_subscribers(session, article_id=article.id)


def received(server: BotApiServer, chat_id: int) -> list[str]:
    return [m["text"] for m in server.sent_messages if m["chat_id"] == chat_id]


def statuses(services: Services, chat_id: int) -> set[str]:
    with services.sessions() as session:
        return set(session.scalars(select(Delivery.status).where(Delivery.chat_id == chat_id)))


def is_subscribed(services: Services, chat_id: int) -> bool:
    with services.sessions() as session:
        return subscriptions.is_subscribed(session, chat_id=chat_id)


def digest_parts(services: Services, chat_id: int) -> list[str]:
    """The digest the chat should get, rendered as the sender renders it."""
    with services.sessions() as session:
        _, articles = deliveries.pending_for_chat(session, chat_id=chat_id)
        return render_digest(session, articles)


async def test_a_digest_cut_short_resumes_with_its_next_part(
    services: Services, server: BotApiServer, bot: ExtBot[None]
) -> None:
    subscribe(services, CHAT)
    parts = digest_parts(services, CHAT)
    assert len(parts) >= 3
    server.refuse_messages(CHAT, "Internal Server Error", status=500, after=1, count=2)
    sender = DigestSender(services.sessions)

    first = await sender.send_pending(bot)
    second = await sender.send_pending(bot)

    assert (first.failed, second.sent) == (1, 1)
    assert received(server, CHAT) == parts  # every part once, in order
    assert statuses(services, CHAT) == {deliveries.SENT}


async def test_a_part_that_timed_out_is_sent_again_but_never_the_parts_before_it(
    services: Services, server: BotApiServer
) -> None:
    subscribe(services, CHAT)
    parts = digest_parts(services, CHAT)
    server.answer_slowly(CHAT, 1.0, after=1)  # Telegram shows part 2, but answers too late

    async with make_bot(server, read_timeout=0.3) as slow_network:
        report = await DigestSender(services.sessions).send_pending(slow_network)

    assert report.sent == 1
    # At-least-once per part: the part that timed out twice, every other part once.
    assert received(server, CHAT) == [parts[0], parts[1], *parts[1:]]
    assert statuses(services, CHAT) == {deliveries.SENT}


@pytest.mark.sqlite_only  # the fault is a SQLite trigger
async def test_a_failed_record_after_a_successful_send_does_not_resend(
    services: Services, server: BotApiServer, bot: ExtBot[None]
) -> None:
    subscribe(services, CHAT)
    parts = digest_parts(services, CHAT)
    with services.engine.begin() as connection:  # the database refuses to record progress
        connection.execute(
            text(
                "CREATE TRIGGER refuse_progress BEFORE UPDATE OF parts_sent ON digest_batches "
                "BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        )
    sender = DigestSender(services.sessions, record_attempts=2, record_backoff=0.01)

    stalled = await sender.send_pending(bot)
    with services.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER refuse_progress"))
    resumed = await sender.send_pending(bot)

    assert (stalled.failed, resumed.sent) == (1, 1)
    assert received(server, CHAT) == parts
    assert statuses(services, CHAT) == {deliveries.SENT}


async def test_an_upgraded_group_gets_its_digest_in_the_supergroup(
    services: Services, server: BotApiServer, bot: ExtBot[None]
) -> None:
    group, supergroup = -5, -1000000000005
    subscribe(services, group, articles=2)
    server.upgrade_group(group, supergroup, announce=False)

    report = await DigestSender(services.sessions).send_pending(bot)

    assert (report.moved, report.sent) == (1, 1)
    [digest] = received(server, supergroup)
    assert "Round 0 of the corridor talks" in digest and "Round 1" in digest
    assert not is_subscribed(services, group) and is_subscribed(services, supergroup)
    assert statuses(services, supergroup) == {deliveries.SENT}


@pytest.mark.parametrize("gone", ["blocked", "removed"])
async def test_a_chat_that_is_gone_is_unsubscribed_and_the_others_served(
    services: Services, server: BotApiServer, bot: ExtBot[None], gone: str
) -> None:
    subscribe(services, CHAT, CHAT + 1, articles=2)
    if gone == "blocked":
        server.block_chat(CHAT)  # 403 Forbidden: bot was blocked by the user
    else:
        server.remove_chat(CHAT)  # 400 Bad Request: chat not found

    report = await DigestSender(services.sessions).send_pending(bot)

    assert (report.blocked, report.sent) == (1, 1)
    assert not is_subscribed(services, CHAT) and statuses(services, CHAT) == {deliveries.SKIPPED}
    assert is_subscribed(services, CHAT + 1) and len(received(server, CHAT + 1)) == 1


async def test_a_digest_refused_for_its_markup_goes_as_plain_text_and_admins_hear_once(
    services: Services, server: BotApiServer, bot: ExtBot[None]
) -> None:
    chats = [CHAT, CHAT + 1]
    subscribe(services, *chats, articles=2)
    for chat_id in chats:
        server.refuse_messages(
            chat_id,
            'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 3',
            formatted_only=True,
        )
    sender = DigestSender(services.sessions, admin_ids=frozenset({ADMIN}))

    report = await sender.send_pending(bot)
    await sender.send_pending(bot)

    assert report.sent == 2
    for chat_id in chats:
        [digest] = [m for m in server.sent_messages if m["chat_id"] == chat_id]
        assert digest["parse_mode"] is None
        assert (
            "Round 0 of the corridor talks ends in Geneva (https://example.org/news/0)"
            in (digest["text"])
        )
        assert is_subscribed(services, chat_id) and statuses(services, chat_id) == {"sent"}
    [notice] = received(server, ADMIN)
    assert "parse entities" in notice and "plain text" in notice and "#1, #2" in notice


async def test_a_digest_refused_even_as_plain_text_stays_pending_and_admins_hear_once(
    services: Services, server: BotApiServer, bot: ExtBot[None]
) -> None:
    subscribe(services, CHAT, articles=2)
    server.refuse_messages(CHAT, "Bad Request: message is too long")
    sender = DigestSender(services.sessions, admin_ids=frozenset({ADMIN}))

    first = await sender.send_pending(bot)
    told_after_first = received(server, ADMIN)
    second = await sender.send_pending(bot)  # as the retry job does every minute

    assert (first.failed, second.failed) == (1, 1)
    assert is_subscribed(services, CHAT) and statuses(services, CHAT) == {deliveries.PENDING}
    assert received(server, ADMIN) == told_after_first  # nothing new the second time
    assert [("plain text" in n, "stays pending" in n) for n in told_after_first] == [
        (True, False),
        (False, True),
    ]


async def test_two_fanouts_at_once_send_each_digest_once(
    services: Services, server: BotApiServer, bot: ExtBot[None]
) -> None:
    chats = list(range(7000, 7020))
    subscribe(services, *chats, articles=2)
    sender = DigestSender(services.sessions, concurrency=4)

    await asyncio.gather(sender.send_pending(bot), sender.send_pending(bot))

    assert all(len(received(server, chat_id)) == 1 for chat_id in chats)


@pytest.mark.sqlite_only  # the fault is a SQLite trigger
async def test_one_chat_failing_unexpectedly_stops_the_fanout_without_doubling_anyone(
    services: Services, server: BotApiServer, bot: ExtBot[None]
) -> None:
    chats = list(range(7000, 7020))
    subscribe(services, *chats, articles=2)
    with services.engine.begin() as connection:  # one chat's digest cannot even be stored
        connection.execute(
            text(
                "CREATE TRIGGER broken_chat BEFORE INSERT ON digest_batches "
                "WHEN NEW.chat_id = 7010 BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
            )
        )
    sender = DigestSender(services.sessions, concurrency=4)

    with pytest.raises(ExceptionGroup):
        await sender.send_pending(bot)
    with services.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER broken_chat"))
    await sender.send_pending(bot)

    assert [len(received(server, chat_id)) for chat_id in chats] == [1] * len(chats)
