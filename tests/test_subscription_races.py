"""Two requests at the same moment: a double /subscribe tap, an article queued twice."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from parley.services import Services
from storage import deliveries, subscriptions
from storage.models import Article, Delivery, Source

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL

T = TypeVar("T")
ROUNDS = 20


def race(sessions: sessionmaker[Session], work: Callable[[Session], T]) -> list[T | BaseException]:
    """Run `work` in two threads, each in its own transaction, released at the same instant."""
    start = threading.Barrier(2)
    results: list[T | BaseException] = []

    def run() -> None:
        start.wait()
        try:
            with sessions.begin() as session:
                results.append(work(session))
        except BaseException as error:  # the outcome is what we assert
            results.append(error)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def changes(outcomes: list[subscriptions.Change | BaseException]) -> list[str]:
    """What each request did, sorted; an error fails the comparison."""
    return sorted(o.value if isinstance(o, subscriptions.Change) else repr(o) for o in outcomes)


def add_article(sessions: sessionmaker[Session]) -> int:
    with sessions.begin() as session:
        source = Source(name="Wire", kind="file")
        article = Article(
            source=source, url="/a.txt", title="Talks", text="Talks.", content_hash="h"
        )
        session.add(article)
        session.flush()
        return article.id


def test_a_double_subscribe_tap_subscribes_once_and_says_already(services: Services) -> None:
    for chat_id in range(ROUNDS):
        tap = functools.partial(
            subscriptions.subscribe, chat_id=chat_id, chat_type="private", title=None
        )
        outcomes = race(services.sessions, tap)

        assert changes(outcomes) == ["already", "done"], outcomes
    with services.sessions() as session:
        assert all(subscriptions.is_subscribed(session, chat_id=c) for c in range(ROUNDS))


def test_a_double_unsubscribe_tap_ends_once(services: Services) -> None:
    with services.sessions.begin() as session:
        subscriptions.subscribe(session, chat_id=7, chat_type="private", title=None)

    outcomes = race(services.sessions, lambda s: subscriptions.unsubscribe(s, chat_id=7))

    assert changes(outcomes) == ["already", "done"], outcomes


def test_an_article_queued_twice_at_once_waits_once_for_each_subscriber(
    services: Services,
) -> None:
    with services.sessions.begin() as session:
        for chat_id in (1, 2, 3):
            subscriptions.subscribe(session, chat_id=chat_id, chat_type="private", title=None)
    article_id = add_article(services.sessions)

    for _ in range(ROUNDS):
        outcomes = race(
            services.sessions,
            lambda session: deliveries.queue_for_subscribers(session, article_id=article_id),
        )
        assert not [o for o in outcomes if isinstance(o, BaseException)], outcomes

    with services.sessions() as session:
        rows = session.execute(
            select(Delivery.chat_id, func.count()).group_by(Delivery.chat_id)
        ).all()
    assert sorted(rows) == [(1, 1), (2, 1), (3, 1)]
