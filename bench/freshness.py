"""Freshness: how soon after `parley ingest` exits a running bot can answer from the article.

The real bot (the real model, the application against the local Bot API server) runs on an
archive holding the seed articles; each round a `parley ingest` process (the real command and
model) stores a new article with a made-up name in it. Two figures, from the moment that
process exits:

- `background_seconds`: until the bot's own catch-up (every CATCH_UP_SECONDS, or at once on
  PostgreSQL's NOTIFY) has put the article's passages in its vector index, nobody asking
  (0 when that happened before the process had finished exiting); and the same from the
  article's insert, `background_from_insert_seconds`, which shows the interval;
- `ask_at_once_seconds`: a question sent the moment the process exits, until the reply that
  quotes the made-up name arrives (answering catches up first when behind).
"""

from __future__ import annotations

import asyncio
import os
import random
import tempfile
import time
from datetime import UTC
from pathlib import Path

from sqlalchemy import select

from bench.archive import Say
from bench.botapi import bot_settings, local_bot_api
from bench.startup import parley_command
from bench.stats import percentile
from bot.app import build_application, start_bot, stop_bot
from knowledge.embedding import Embedder, load_embedder
from parley.services import Services, build_services
from playground.bot_api import BotApiServer
from storage.models import Article, Passage

PROCESS_TIMEOUT = 300.0
REPLY_TIMEOUT = 120.0
POLL_SECONDS = 0.01
FIRST_CHAT = 40_000
ENVOYS = ["Quillon Vesper", "Maren Oskarsdottir", "Tadeo Ruvalcaba", "Ilse Brandvold"]
DETAIL_WORDS = (
    "envoy mediator ministry harbour border convoy drones energy sanctions shelling corridor "
    "observers deadline parliament referendum airport bridge reactor pipeline customs ferry "
    "railway hospital school satellite radar frontier insurance tanker pilot buoy"
).split()
# A different port and cargo each round, so a question finds its own round's article.
CARGOES = [
    ("Odesa", "grain"),
    ("Mykolaiv", "fertiliser"),
    ("Izmail", "steel"),
    ("Chornomorsk", "sunflower oil"),
    ("Pivdennyi", "ammonia"),
    ("Kherson", "timber"),
    ("Reni", "coal"),
    ("Berdiansk", "iron ore"),
]


def article(round_number: int) -> tuple[str, str, str, str]:
    """A new article's text, its title, a question it answers and the made-up name that
    answers it."""
    port, cargo = CARGOES[round_number % len(CARGOES)]
    envoy = f"{ENVOYS[round_number % len(ENVOYS)]}"
    title = f"{cargo.capitalize()} monitors appointed for {port}"
    text = (
        f"{title}\n\nGeneva, 3 June 2025\n\n"
        f"The monitoring mission for {cargo} ships leaving {port} will be led by {envoy}, the "
        "commission announced on Tuesday after talks that lasted late into the night.\n\n"
        "Inspectors from both sides will board each ship at anchor, and the first inspections "
        "are due within ten days of the agreement, according to the commission's statement.\n\n"
        f"{_details(round_number)}\n"
    )
    return text, title, f"Who leads the monitoring of {cargo} ships leaving {port}?", envoy


def _details(round_number: int) -> str:
    """A paragraph of its own, so no two rounds' articles look like syndicated copies (the
    near-duplicate check would store only the first)."""
    words = random.Random(round_number).choices(DETAIL_WORDS, k=120)
    return "Background: " + " ".join(words) + "."


async def ingest(path: Path, database_url: str) -> float:
    """Run `parley ingest PATH` in its own process; the moment it exited."""
    process = await asyncio.create_subprocess_exec(
        *parley_command(),
        "ingest",
        str(path),
        env={**os.environ, "DATABASE_URL": database_url, "LOG_LEVEL": "WARNING"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await asyncio.wait_for(process.communicate(), PROCESS_TIMEOUT)
    exited = time.perf_counter()
    if process.returncode != 0:
        raise RuntimeError(f"parley ingest failed: {err.decode()[-500:]}")
    return exited


def stored_article(services: Services, title: str) -> tuple[set[int], float] | None:
    """The article's passage ids and when it was stored (epoch seconds), once it is."""
    with services.sessions() as session:
        found = session.scalars(select(Article).where(Article.title == title)).first()
        if found is None:
            return None
        ids = session.scalars(select(Passage.id).where(Passage.article_id == found.id))
        return set(ids), found.ingested_at.replace(tzinfo=UTC).timestamp()


async def held(services: Services, title: str) -> tuple[float, float]:
    """Watch from before the ingest starts: when the bot's index came to hold the article
    (perf_counter), and how long after the article was stored (its insert) that was."""
    while (article := stored_article(services, title)) is None:
        await asyncio.sleep(POLL_SECONDS)
    wanted, stored_at = article
    while not wanted <= set(services.vectors.ids().tolist()):
        await asyncio.sleep(POLL_SECONDS)
    return time.perf_counter(), time.time() - stored_at


async def ask_at_once(
    server: BotApiServer, chat_id: int, question: str, envoy: str, exited: float
) -> float:
    """Seconds from the process's exit until the reply to a question asked then names it."""
    server.send_user_message(chat_id=chat_id, user_id=chat_id, text=question)
    [reply] = await server.await_messages(chat_id, 1, timeout=REPLY_TIMEOUT)
    took = time.perf_counter() - exited
    if envoy not in reply["text"]:
        raise AssertionError(f"the reply does not quote the new article: {reply['text'][:200]}")
    return took


async def _measure(
    embedder: Embedder, rounds: int, database_url: str | None, folder: Path, say: Say
) -> dict[str, object]:
    url = database_url or f"sqlite:///{folder / 'archive.db'}"
    with local_bot_api() as server:
        settings = bot_settings(url, server.url)
        services = build_services(settings, embedder=embedder)
        services.seed_if_empty()
        application = build_application(settings, services)
        await start_bot(application)
        unasked: list[float] = []
        asked: list[float] = []
        from_insert: list[float] = []
        try:
            for number in range(rounds * 2):
                text, title, question, envoy = article(number)
                path = folder / f"article-{number}.txt"
                path.write_text(text)
                if number % 2 == 0:
                    watch = asyncio.create_task(held(services, title))
                    exited = await ingest(path, url)
                    ready, after_insert = await asyncio.wait_for(watch, REPLY_TIMEOUT)
                    unasked.append(max(0.0, ready - exited))
                    from_insert.append(after_insert)
                else:
                    exited = await ingest(path, url)
                    chat_id = FIRST_CHAT + number
                    asked.append(await ask_at_once(server, chat_id, question, envoy, exited))
                say(f"freshness: round {number + 1} of {rounds * 2}")
        finally:
            await stop_bot(application)
            services.close()
    return {
        "rounds": rounds,
        "engine": url.split(":", 1)[0],
        "catch_up_seconds": settings.catch_up_seconds,
        "background_seconds": _summary(unasked),
        "background_from_insert_seconds": _summary(from_insert),
        "ask_at_once_seconds": _summary(asked),
    }


def _summary(values: list[float]) -> dict[str, float]:
    return {
        "p50": round(percentile(values, 50), 3),
        "max": round(max(values), 3),
    }


def run(
    *, rounds: int, say: Say, embedder: Embedder | None = None, database_url: str | None = None
) -> dict[str, object]:
    """`rounds` articles (at most 4) found unasked and `rounds` asked about at once, each by a new
    `parley ingest` process beside one running bot (SQLite unless database_url is given)."""
    rounds = min(rounds, len(CARGOES) // 2)
    model = embedder or load_embedder()
    with tempfile.TemporaryDirectory(prefix="parley-bench-freshness-") as temporary:
        return asyncio.run(_measure(model, rounds, database_url, Path(temporary), say))


if __name__ == "__main__":
    import json
    import sys

    figures = run(rounds=int(sys.argv[1]) if len(sys.argv) > 1 else 3, say=print)
    print(json.dumps(figures, indent=2))
