"""Shared fixtures: settings on a temporary database, services with a fake or the real model."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from knowledge.embedding import Embedder, load_embedder
from knowledge.wordsim import WordSimilarity, word_similarity_for
from parley.services import Services, build_services
from parley.settings import Settings
from playground.bot_api import BotApiServer
from tests.support.bot_harness import ADMIN, TOKEN, RunningBot, start_running_bot
from tests.support.fake_embedder import FakeEmbedder
from tests.support.postgres import PostgresServer, PostgresUnavailable
from tests.support.web_server import WebServer

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
SEED_ARTICLE = SEEDS / "000_90b08b1cdd409f8e.txt"


# Modules marked `both_databases` run each test using `database_url` (or `settings`, which
# rests on it) on SQLite and on PostgreSQL; the rest on SQLite only.
# A test in such a module marked `sqlite_only` (faults injected with SQLite triggers, say)
# keeps to SQLite.
BOTH_DATABASES = "both_databases"
SQLITE_ONLY = "sqlite_only"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{BOTH_DATABASES}: run on SQLite and on PostgreSQL (a fresh database each)"
    )
    config.addinivalue_line("markers", f"{SQLITE_ONLY}: run on SQLite only, in such a module")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marked = metafunc.definition.get_closest_marker
    if (
        "database_url" in metafunc.fixturenames
        and marked(BOTH_DATABASES)
        and not marked(SQLITE_ONLY)
    ):
        metafunc.parametrize("database_url", ["sqlite", "postgresql"], indirect=True)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """A throwaway PostgreSQL server for the whole run; in CI, one that cannot start fails
    the run instead of skipping the PostgreSQL variants."""
    try:
        server = PostgresServer.start()
    except PostgresUnavailable as error:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI: {error}")
        pytest.skip(f"PostgreSQL variant skipped, no server: {error}")
    yield server
    server.stop()


@pytest.fixture
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh, empty database: a SQLite file, or a new database on the PostgreSQL server."""
    if getattr(request, "param", "sqlite") != "postgresql":
        yield f"sqlite:///{tmp_path / 'parley.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    url = server.create_database()
    yield url
    server.drop_database(url)


@pytest.fixture
def settings(database_url: str, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Settings for a fresh database; exported too, for code that reads the environment."""
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("SEEDS_DIR", str(SEEDS))
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def services(settings: Settings, fake_embedder: FakeEmbedder) -> Iterator[Services]:
    """Services on a fresh database with the fake embedder."""
    built = build_services(settings, embedder=fake_embedder)
    yield built
    built.close()


@pytest.fixture
def site() -> Iterator[WebServer]:
    """A local web site the tests publish pages and feeds on."""
    with WebServer() as server:
        yield server


@pytest.fixture
def web_services(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Services]:
    """Services that may fetch from the local site (private addresses allowed)."""
    monkeypatch.setenv("ALLOW_PRIVATE_SOURCES", "true")
    built = build_services(Settings(_env_file=None), embedder=FakeEmbedder())  # type: ignore[call-arg]
    yield built
    built.close()


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    return load_embedder()


@pytest.fixture(scope="session")
def words(real_embedder: Embedder) -> WordSimilarity:
    """Word similarity from the bundled model's own word pieces."""
    found = word_similarity_for(getattr(real_embedder, "model", None))
    assert found is not None
    return found


@pytest.fixture
def real_services(settings: Settings, real_embedder: Embedder) -> Iterator[Services]:
    """Services on a fresh database with the real model."""
    built = build_services(settings, embedder=real_embedder)
    yield built
    built.close()


@pytest.fixture
def bot_api() -> Iterator[BotApiServer]:
    """A local Bot API server on 127.0.0.1."""
    with BotApiServer(token=TOKEN, bot_username="parley_bot") as server:
        yield server


@pytest.fixture
def bot_settings(
    settings: Settings, bot_api: BotApiServer, monkeypatch: pytest.MonkeyPatch
) -> Settings:
    """Production settings with only the Bot API address pointed at the local server."""
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("TELEGRAM_API_BASE_URL", bot_api.url)
    monkeypatch.setenv("ADMIN_IDS", str(ADMIN))
    monkeypatch.setenv("ALLOW_PRIVATE_SOURCES", "true")
    return Settings(_env_file=None)  # type: ignore[call-arg]


@pytest.fixture
async def running_bot(
    bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder
) -> AsyncIterator[RunningBot]:
    """The real bot, seeded, polling the local server."""
    running = await start_running_bot(bot_api, bot_settings, real_embedder)
    yield running
    await running.stop()
