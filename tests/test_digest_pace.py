"""Digest pace: daily and weekly summaries held until their local hour, sent once, surviving a
restart; the schedule in the chat's time zone across daylight saving; /digest's answers."""

from __future__ import annotations

import asyncio
import threading
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from bot.context import SERVICES_KEY, BotServices
from parley.settings import Settings
from playground.bot_api import BotApiServer
from storage import paces
from storage.models import DigestPace, utcnow
from storage.paces import DAILY, WEEKLY, Pace, next_due
from tests.conftest import PROJECT
from tests.support.bot_harness import USER, RunningBot, eventually, start_running_bot
from tests.support.buttons import buttons, last_message, press
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
SWAP = PROJECT / "tests" / "data" / "topics" / "101.html"
SWAP_URL = "https://example.org/parley-tests/2025/05/25/prisoner-exchange"


def test_a_daily_summary_keeps_its_local_hour_across_daylight_saving() -> None:
    kyiv_eight = Pace(DAILY, 8 * 60, "Europe/Kyiv")

    # Clocks go forward in Kyiv on 29 March 2026: 08:00 is 06:00 UTC before, 05:00 after.
    assert next_due(kyiv_eight, after=datetime(2026, 3, 28, 7, 0)) == datetime(2026, 3, 29, 5, 0)
    assert next_due(kyiv_eight, after=datetime(2026, 3, 27, 5, 59)) == datetime(2026, 3, 27, 6, 0)
    assert next_due(kyiv_eight, after=datetime(2026, 3, 27, 6, 0)) == datetime(2026, 3, 28, 6, 0)


def test_a_weekly_summary_falls_on_its_weekday() -> None:
    mondays = Pace(WEEKLY, 8 * 60 + 30, "America/New_York", weekday=0)

    due = next_due(mondays, after=datetime(2026, 11, 25, 12, 0))  # a Wednesday

    assert due == datetime(2026, 11, 30, 13, 30)  # Monday 08:30 EST


async def test_digest_shows_sets_and_explains_the_pace(
    bot_api: BotApiServer, bot_settings: Settings
) -> None:
    running = await start_running_bot(bot_api, bot_settings, FakeEmbedder())
    try:
        [shown] = await running.ask(USER, "/digest")
        shown_id = last_message(bot_api, USER)["message_id"]
        [daily] = await running.ask(USER, "/digest daily 08:00 europe/kyiv")
        [bad_time] = await running.ask(USER, "/digest daily 25:00 Europe/Kyiv")
        [bad_zone] = await running.ask(USER, "/digest weekly mon 08:00 Europe/Kiyv")
        at_once = await press(bot_api, USER, shown_id, buttons(bot_api, USER, shown_id)["At once"])
    finally:
        await running.stop()

    assert "at once" in shown
    assert "daily at 08:00 (Europe/Kyiv)" in daily and "not subscribed" in daily
    assert "“25:00” is not a time of day" in bad_time
    assert "“Europe/Kiyv” is not a time zone" in bad_zone and "Europe/Kyiv?" in bad_zone
    assert at_once["text"] == "Digests: at once, as articles arrive"


@pytest.mark.parametrize(
    "command", ["/digest daily 08:00 Europe/Kyiv", "/digest weekly mon 08:00 Europe/Kyiv"]
)
async def test_a_summary_waits_for_its_hour_and_is_sent_once_across_a_restart(
    bot_api: BotApiServer, bot_settings: Settings, command: str
) -> None:
    embedder = FakeEmbedder()
    first = await start_running_bot(bot_api, bot_settings, embedder)
    try:
        await first.ask(USER, "/subscribe")
        await first.ask(USER, command)
        await ingest_for_digests(first)
        await send_pending(first)  # the minute tick, run now: the summary is not due
        held = digests(bot_api)
    finally:
        await first.stop()
    the_hour_passes_while_parley_is_down(first)

    second = await start_running_bot(bot_api, bot_settings, embedder)
    try:
        await eventually(lambda: len(digests(bot_api)) >= 1)  # sent by the start's fan-out
        await send_pending(second)
        await send_pending(second)
        with second.services.sessions() as session:
            pace = paces.pace_of(session, chat_id=USER)
    finally:
        await second.stop()

    assert held == []
    assert len(digests(bot_api)) == 1
    assert pace.next_due_at is not None and pace.next_due_at > utcnow()


async def ingest_for_digests(running: RunningBot) -> None:
    """Store an article as a poll would: queued for the subscribers in its transaction."""
    ingestor = running.services.ingestor

    def store() -> None:
        plans, problems = ingestor.plan_files([str(SWAP)])
        assert not problems
        assert ingestor.store(plans, digest=lambda _plan: True).article_ids

    await asyncio.to_thread(store)


async def send_pending(running: RunningBot) -> None:
    bot_services: BotServices = running.application.bot_data[SERVICES_KEY]
    await bot_services.digests.send_pending(running.application.bot)


def digests(server: BotApiServer) -> list[str]:
    return [
        m["text"] for m in server.sent_messages if m["chat_id"] == USER and SWAP_URL in m["text"]
    ]


def the_hour_passes_while_parley_is_down(running: RunningBot) -> None:
    """The summary's moment comes and goes while no Parley runs (what a day would do)."""
    with running.services.sessions.begin() as session:
        session.execute(
            update(DigestPace)
            .where(DigestPace.chat_id == USER)
            .values(next_due_at=utcnow() - timedelta(minutes=5))
        )


@pytest.mark.both_databases
def test_two_workers_choosing_a_pace_for_one_chat_at_once_both_succeed(database_url: str) -> None:
    """Two webhook workers handle two /digest choices of one chat at the same moment: the
    second waits for the first and then replaces its pace, instead of failing on the key."""
    from storage.db import create_database_engine, session_factory, upgrade_database

    engine = create_database_engine(database_url)
    upgrade_database(engine)
    sessions = session_factory(engine)
    now = datetime(2026, 3, 2, 6, 0)
    daily, weekly = Pace(DAILY, 8 * 60, "Europe/Kyiv"), Pace(WEEKLY, 9 * 60, "UTC", weekday=0)
    failures: list[BaseException] = []

    def second_worker() -> None:
        try:
            with sessions.begin() as session:
                paces.set_pace(session, chat_id=7, pace=weekly, now=now)
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    with sessions.begin() as first:
        paces.set_pace(first, chat_id=7, pace=daily, now=now)
        worker = threading.Thread(target=second_worker)
        worker.start()
        worker.join(timeout=1.0)  # it waits on the first worker's uncommitted row
    worker.join()
    assert failures == []
    with sessions() as session:
        assert paces.pace_of(session, chat_id=7).every == WEEKLY
        assert session.query(DigestPace).count() == 1
    engine.dispose()
