"""The running bot keeps up with what `parley` commands in other processes write, without a
restart: an ingested article becomes answerable, an added source is polled and its digest
sent, a removed source is no longer polled. Real processes (the `parley` command with the
fake embedder, which the bot uses too, so their vectors agree), the real application against
the local Bot API server, a local news site; on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy import select

from parley.settings import Settings
from playground.bot_api import BotApiServer
from storage import subscriptions
from storage.models import Article, Passage, Source
from tests.conftest import PROJECT, SEEDS
from tests.support.bot_harness import USER, RunningBot, eventually, start_running_bot
from tests.support.fake_embedder import FakeEmbedder
from tests.support.news_site import publish, story
from tests.support.web_server import WebServer

pytestmark = [
    pytest.mark.both_databases,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
PROCESS_TIMEOUT = 300  # a guard against a hang on a busy machine, never a measure of speed
POLL_SECONDS = 3

ARTICLE = """Harbour commission agrees on Odesa grain inspections

Kyiv, 14 May 2025

The joint harbour commission agreed on Tuesday that grain ships leaving Odesa will be
inspected by a team led by the Turkish admiral Selim Karadag, the commission's chair said.

Inspectors from both sides will board each ship at anchor off Istanbul, and the first
inspections are due to begin within ten days of the agreement, according to the statement.
"""


@pytest.fixture
async def bot(
    bot_api: BotApiServer, bot_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[RunningBot]:
    """The real bot with the fake embedder, polling sources every few seconds."""
    monkeypatch.setenv("SOURCE_POLL_SECONDS", str(POLL_SECONDS))
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    running = await start_running_bot(bot_api, settings, FakeEmbedder())
    yield running
    await running.stop()


async def parley(settings: Settings, *args: str) -> str:
    """Run `parley ARGS` in its own process on the bot's archive; its standard output."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": settings.database_url,
        "SEEDS_DIR": str(SEEDS),
        "ALLOW_PRIVATE_SOURCES": "true",
    }
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.support.fake_parley",
        *args,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), PROCESS_TIMEOUT)
    assert process.returncode == 0, err.decode()
    return out.decode()


def passage_ids_of(bot: RunningBot, title: str) -> set[int]:
    with bot.services.sessions() as session:
        return set(
            session.scalars(select(Passage.id).join(Article).where(Article.title == title)).all()
        )


def polled_sources(bot: RunningBot) -> set[int]:
    """The sources the bot has polling jobs for."""
    assert bot.application.job_queue is not None
    return {
        job.data
        for job in bot.application.job_queue.jobs()
        if (job.name or "").startswith("poll-source-")
        and isinstance(job.data, int)
        and not job.removed
    }


async def test_an_article_ingested_by_another_process_is_answered_without_a_restart(
    bot: RunningBot, tmp_path: Path
) -> None:
    path = tmp_path / "grain.txt"
    path.write_text(ARTICLE)

    await parley(bot.settings, "ingest", str(path))

    title = "Harbour commission agrees on Odesa grain inspections"
    new_passages = passage_ids_of(bot, title)
    assert new_passages
    # Caught up by the bot's own interval (or notification), before anyone asks.
    await eventually(lambda: new_passages <= set(bot.services.vectors.ids().tolist()))
    [reply] = await bot.ask(USER, "Who leads the grain inspections of ships leaving Odesa?")
    assert "Karadag" in reply
    assert title in reply


async def test_a_source_added_by_another_process_is_polled_and_its_removal_seen(
    bot: RunningBot, site: WebServer
) -> None:
    with bot.services.sessions.begin() as session:
        subscriptions.subscribe(session, chat_id=USER, chat_type="private", title=None)
    first, second = story(1, "Grain corridor"), story(2, "Energy truce")
    feed = publish(site, [first])

    await parley(bot.settings, "sources", "add", feed)

    with bot.services.sessions() as session:
        source_id = session.scalars(select(Source.id).where(Source.url == feed)).one()
    await eventually(lambda: source_id in polled_sources(bot))
    publish(site, [second, first])  # the feed gains an article after it was added
    await bot.server.await_messages(USER, 1, timeout=120)
    await eventually(lambda: any(second.title in text for text in bot.replies(USER)), 120)

    await parley(bot.settings, "sources", "remove", str(source_id))

    await eventually(lambda: source_id not in polled_sources(bot))
    [listing] = await bot.ask(USER, "/sources")
    assert f"#{source_id} " not in listing and feed not in listing
