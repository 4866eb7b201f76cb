"""Shared fixtures: settings on a temporary database, services with a fake or the real model."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.services import Services, build_services
from bot.settings import Settings
from knowledge.embedding import Embedder, load_embedder
from tests.support.fake_embedder import FakeEmbedder

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
SEED_ARTICLE = SEEDS / "000_90b08b1cdd409f8e.txt"


@pytest.fixture
def database_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'parley.db'}"


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


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The bundled all-MiniLM-L6-v2, loaded once for the whole run."""
    return load_embedder()


@pytest.fixture
def real_services(settings: Settings, real_embedder: Embedder) -> Iterator[Services]:
    """Services on a fresh database with the real model."""
    built = build_services(settings, embedder=real_embedder)
    yield built
    built.close()
