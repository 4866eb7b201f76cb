"""4. Digest fan-out: one new article for every subscriber, against a local Bot API server that
answers 429 above 30 messages a second overall and one a second per chat, as Telegram does."""

from __future__ import annotations

import asyncio
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import text

from bench.archive import Say
from bench.botapi import SEEDS, ReplyWatcher, bot_settings, local_bot_api
from bench.stats import median
from bot.app import build_application
from bot.context import SERVICES_KEY, BotServices
from knowledge.embedding import Embedder
from parley.services import build_services
from storage import deliveries
from storage.models import utcnow

FIRST_CHAT = 5_000_000
SERVER_LIMIT = 30  # messages a second overall, as Telegram allows bots


class Arrivals:
    """When each digest reached the server, per chat."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.times: list[float] = []
        self.per_chat: Counter[int] = Counter()

    def note(self, chat: int, arrived: float, _message: dict[str, Any]) -> None:
        with self._lock:
            self.times.append(arrived)
            self.per_chat[chat] += 1


def _subscribe(database_url: str, embedder: Embedder, subscribers: int) -> int:
    """Store the seed article and `subscribers` subscriptions, queue the article for all;
    returns how many deliveries are pending."""
    services = build_services(bot_settings(database_url), embedder=embedder)
    try:
        plans, _ = services.ingestor.plan_files([str(SEEDS)])
        report = services.ingestor.store(plans)
        now = utcnow()
        with services.sessions.begin() as session:
            session.execute(
                text(
                    "INSERT INTO subscriptions (chat_id, chat_type, active, subscribed_at) "
                    "VALUES (:chat_id, 'private', 1, :now)"
                ),
                [{"chat_id": FIRST_CHAT + n, "now": now} for n in range(subscribers)],
            )
            deliveries.queue_for_subscribers(session, article_id=report.article_ids[0])
        with services.sessions() as session:
            return len(deliveries.chats_with_pending(session))
    finally:
        services.close()


async def _send(database_url: str, embedder: Embedder, subscribers: int) -> dict[str, object]:
    arrivals = Arrivals()
    with local_bot_api() as server:
        settings = bot_settings(database_url, server.url)
        services = build_services(settings, embedder=embedder)
        application = build_application(settings, services)
        await application.initialize()  # the bot, its limiters and HTTP pool; no polling
        bot_services = application.bot_data[SERVICES_KEY]
        assert isinstance(bot_services, BotServices)
        server.enforce_rate_limit(per_second=SERVER_LIMIT, per_chat_per_second=1)
        refused_in_first_second: list[int] = []
        with ReplyWatcher(server) as watcher:
            watcher.on_message = arrivals.note
            started = time.perf_counter()
            sampler = threading.Timer(
                1.0, lambda: refused_in_first_second.append(server.too_many_requests)
            )
            sampler.start()
            report = await bot_services.digests.send_pending(application.bot)
            finished = time.perf_counter()
            sampler.join()
            await asyncio.sleep(0.3)  # let the watcher see the last messages
        refused = server.too_many_requests
        sent_per_chat = Counter(message["chat_id"] for message in server.sent_messages)
        await application.shutdown()
        with services.sessions() as session:
            still_pending = len(deliveries.chats_with_pending(session))
        services.close()
    elapsed = finished - started
    messages = sum(sent_per_chat.values())
    seconds = [int(moment - started) for moment in sorted(arrivals.times)]
    per_second = Counter(seconds)
    full_seconds = [per_second[s] for s in range(int(elapsed))]  # complete seconds only
    expected = {FIRST_CHAT + n for n in range(subscribers)}
    return {
        "subscribers": subscribers,
        "seconds": round(elapsed, 2),
        "messages": messages,
        "messages_per_second": round(messages / elapsed, 2) if elapsed else 0.0,
        "messages_per_second_median_of_seconds": median(full_seconds) if full_seconds else None,
        "server_limit_per_second": SERVER_LIMIT,
        "too_many_requests_total": refused,
        "too_many_requests_after_first_second": refused - refused_in_first_second[0],
        "sent": report.sent,
        "blocked": report.blocked,
        "failed": report.failed,
        "still_pending": still_pending,
        "every_subscriber_exactly_once": set(sent_per_chat) == expected
        and all(count == 1 for count in sent_per_chat.values()),
        "subscribers_served_twice": sum(count > 1 for count in sent_per_chat.values()),
        "subscribers_missed": len(expected - set(sent_per_chat)),
    }


def run(*, subscribers: int, embedder: Embedder, say: Say) -> dict[str, object]:
    """Fan one article out to `subscribers` chats through `DigestSender.send_pending`."""
    with tempfile.TemporaryDirectory(prefix="parley-bench-digests-") as temporary:
        url = f"sqlite:///{Path(temporary) / 'digests.db'}"
        pending = _subscribe(url, embedder, subscribers)
        say(f"digests: {pending:,} subscribers waiting; sending at most {SERVER_LIMIT}/s")
        return asyncio.run(_send(url, embedder, subscribers))
