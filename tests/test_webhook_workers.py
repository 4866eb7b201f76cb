"""Two real `parley run --webhook` workers behind a load balancer, on one PostgreSQL: every
update is answered once, one worker polls the sources, every subscriber gets each digest
once, and when the leader is killed (SIGKILL) the other takes polling and digests over."""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, select

from bot.leadership import SCHEDULER
from playground.bot_api import BotApiServer
from playground.load_balancer import LoadBalancer
from storage.models import Leader
from tests.support.news_site import publish, story
from tests.support.postgres import PostgresServer
from tests.support.waiting import wait_until
from tests.support.web_server import WebServer
from tests.support.webhook_workers import (
    READY_TIMEOUT,
    WEBHOOK_PATH,
    Worker,
    command,
    free_port,
    worker_env,
)

SUBSCRIBERS = (3101, 3102, 3103)
ASKERS = (3201, 3202, 3203, 3204)
LEASE_SECONDS = 3  # short, so the test is quick; production's is 30
TAKEOVER_LIMIT = 60  # the "within a minute"
WAIT = 120  # generous guard; every wait returns as soon as its event happens


@pytest.fixture
def database_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


class Cluster:
    """The local Bot API, a load balancer and two workers on one database."""

    def __init__(self, folder: Path, database_url: str, server: BotApiServer) -> None:
        self.server, self.database_url = server, database_url
        ports = {"a": free_port(), "b": free_port()}
        self.balancer = LoadBalancer([f"http://127.0.0.1:{port}" for port in ports.values()])
        self.balancer.__enter__()
        self.workers = {
            name: Worker(
                name,
                worker_env(
                    name=name,
                    database_url=database_url,
                    bot_api_url=server.url,
                    webhook_url=f"{self.balancer.url}{WEBHOOK_PATH}",
                    port=port,
                    LEADER_LEASE_SECONDS=str(LEASE_SECONDS),
                    SOURCE_POLL_SECONDS="1",
                ),
                folder,
            )
            for name, port in ports.items()
        }

    def leader(self) -> Worker | None:
        """The worker whose lease is in the database right now."""
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as connection:
                holder = connection.scalar(select(Leader.holder).where(Leader.name == SCHEDULER))
        finally:
            engine.dispose()
        for worker in self.workers.values():
            if holder and f":{worker.process.pid}:" in holder:
                return worker
        return None

    def close(self) -> None:
        for worker in self.workers.values():
            worker.close()
        self.balancer.__exit__(None, None, None)


def texts_to(server: BotApiServer, chat_id: int) -> list[str]:
    return [m["plain_text"] for m in server.sent_messages if m["chat_id"] == chat_id]


def got_digest(server: BotApiServer, chat_id: int, words: str) -> Callable[[], bool]:
    return lambda: any(words in text for text in texts_to(server, chat_id))


def polls_by(site: WebServer, user_agent: str) -> int:
    return sum(
        1
        for request in site.requests
        if request.path.startswith("/feed.xml") and request.headers.get("user-agent") == user_agent
    )


def test_two_workers_answer_once_poll_once_and_hand_over_when_the_leader_dies(
    tmp_path: Path, database_url: str, bot_api: BotApiServer, site: WebServer
) -> None:
    # A feed with one article, added from the command line before the workers start.
    feed = publish(site, [story(1, "Ceasefire", hours_ago=72)])
    added = subprocess.run(
        command("sources", "add", feed),
        cwd=tmp_path,
        env=worker_env(
            name="cli",
            database_url=database_url,
            bot_api_url=bot_api.url,
            webhook_url="",
            port=1,
        ),
        capture_output=True,
        text=True,
        timeout=READY_TIMEOUT,
    )
    assert added.returncode == 0, added.stderr

    cluster = Cluster(tmp_path, database_url, bot_api)
    try:
        for worker in cluster.workers.values():
            worker.wait_until_listening()

        # Every update answered once, by whichever worker the balancer chose.
        for chat_id in SUBSCRIBERS:
            bot_api.send_user_message(chat_id=chat_id, text="/subscribe")
        for chat_id in ASKERS:
            bot_api.send_user_message(chat_id=chat_id, text="Who leads the Russian delegation?")
        for chat_id in SUBSCRIBERS + ASKERS:
            bot_api.wait_for_messages(chat_id, 1, timeout=WAIT)
        assert all(cluster.balancer.answered[w.url] >= 2 for w in cluster.workers.values())

        # One poller: the leader polls the feed, the other never does.
        leader = cluster.leader()
        assert leader is not None
        [follower] = [w for w in cluster.workers.values() if w is not leader]
        wait_until(lambda: polls_by(site, leader.user_agent) >= 3, what="the leader polls")
        assert polls_by(site, follower.user_agent) == 0

        # A new article: every subscriber gets its digest once.
        older = [story(2, "Grain corridor"), story(1, "Ceasefire", hours_ago=72)]
        publish(site, older)
        for chat_id in SUBSCRIBERS:
            wait_until(got_digest(bot_api, chat_id, "round 2"), what=f"digest to {chat_id}")
        polled = polls_by(site, leader.user_agent)
        wait_until(lambda: polls_by(site, leader.user_agent) >= polled + 3, what="more polls")

        # The leader dies; the follower takes polling and digests over within a minute.
        leader.kill()
        wait_until(
            lambda: polls_by(site, follower.user_agent) >= 1,
            timeout=TAKEOVER_LIMIT,
            what="the follower takes over polling",
        )
        assert cluster.leader() is follower
        publish(site, [story(3, "Prisoner exchange"), *older])
        for chat_id in SUBSCRIBERS:
            wait_until(got_digest(bot_api, chat_id, "round 3"), what=f"second digest to {chat_id}")
        polled = polls_by(site, follower.user_agent)
        wait_until(lambda: polls_by(site, follower.user_agent) >= polled + 3, what="more polls")

        # Still answering, through the one worker left.
        bot_api.send_user_message(chat_id=ASKERS[0], text="/start")
        bot_api.wait_for_messages(ASKERS[0], 2, timeout=WAIT)
        assert follower.stop() == 0, follower.output()
    finally:
        cluster.close()

    for chat_id in SUBSCRIBERS:
        digests = [t for t in texts_to(bot_api, chat_id) if "round" in t]
        assert sum("round 2" in t for t in digests) == 1, digests
        assert sum("round 3" in t for t in digests) == 1, digests
    for chat_id in ASKERS:
        assert len(texts_to(bot_api, chat_id)) == (2 if chat_id == ASKERS[0] else 1)
    assert len(texts_to(bot_api, SUBSCRIBERS[0])) == 3  # "subscribed" and two digests
