"""The scheduler lease: one holder at a time, renewed by its holder, taken over once it runs
out, given up on a clean stop; on SQLite and on PostgreSQL."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from bot.leadership import SCHEDULER, Leadership
from storage import leadership
from storage.db import create_database_engine, session_factory, upgrade_database
from storage.models import Leader
from tests.support.waiting import wait_until

pytestmark = pytest.mark.both_databases
LEASE = 30.0


@pytest.fixture
def sessions(database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    yield session_factory(engine)
    engine.dispose()


def claim(sessions: sessionmaker[Session], holder: str, lease: float = LEASE) -> bool:
    with sessions() as session:
        return leadership.claim(session, name=SCHEDULER, holder=holder, lease_seconds=lease)


def holder(sessions: sessionmaker[Session]) -> str | None:
    with sessions() as session:
        return leadership.current_holder(session, name=SCHEDULER)


def run_out(sessions: sessionmaker[Session]) -> None:
    """Make the lease end now, as if its holder had died a lease ago."""
    with sessions.begin() as session:
        session.execute(update(Leader).values(expires_at=0.0))


def test_the_first_worker_to_ask_leads_and_the_second_does_not(
    sessions: sessionmaker[Session],
) -> None:
    assert claim(sessions, "a")
    assert not claim(sessions, "b")
    assert claim(sessions, "a")  # renewing
    assert holder(sessions) == "a"


def test_a_lease_that_ran_out_is_taken_over(sessions: sessionmaker[Session]) -> None:
    claim(sessions, "a")
    run_out(sessions)

    assert holder(sessions) is None
    assert claim(sessions, "b")
    assert not claim(sessions, "a")  # the old leader, back, must not lead again
    assert holder(sessions) == "b"


def test_a_lease_runs_out_by_the_database_clock(sessions: sessionmaker[Session]) -> None:
    assert claim(sessions, "a", lease=0.2)
    wait_until(lambda: claim(sessions, "b"), what="the lease runs out")
    assert holder(sessions) == "b"


def test_giving_the_lease_up_lets_another_lead_at_once(sessions: sessionmaker[Session]) -> None:
    claim(sessions, "a")
    with sessions() as session:
        leadership.release(session, name=SCHEDULER, holder="b")  # not b's to give
    assert not claim(sessions, "b")

    with sessions() as session:
        leadership.release(session, name=SCHEDULER, holder="a")

    assert claim(sessions, "b")


def test_workers_asking_at_once_elect_exactly_one(sessions: sessionmaker[Session]) -> None:
    start = threading.Barrier(8)
    won: list[str] = []

    def ask(name: str) -> None:
        start.wait()
        if claim(sessions, name):
            won.append(name)

    threads = [threading.Thread(target=ask, args=(f"w{n}",)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(won) == 1
    assert holder(sessions) == won[0]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_leader_that_cannot_renew_stops_leading_when_its_lease_would_end(
    sessions: sessionmaker[Session],
) -> None:
    clock = FakeClock()
    worker = Leadership(sessions, lease_seconds=LEASE, holder="a", clock=clock)
    assert worker.renew() and worker.leading

    clock.now += LEASE - 1
    assert worker.leading
    clock.now += 1  # no renewal came through: the others may take over now, so it stops
    assert not worker.leading


def test_leadership_changes_hands_when_the_leader_stops(sessions: sessionmaker[Session]) -> None:
    first = Leadership(sessions, lease_seconds=LEASE, holder="a")
    second = Leadership(sessions, lease_seconds=LEASE, holder="b")
    assert first.renew() and not second.renew()

    first.release()

    assert not first.leading
    assert second.renew() and second.leading
