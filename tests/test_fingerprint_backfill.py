"""Articles stored before fingerprints existed still catch their near-duplicates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from sqlalchemy import text

from parley.services import Services, build_services
from parley.settings import Settings
from storage.db import create_database_engine, upgrade_database
from tests.conftest import PROJECT, SEED_ARTICLE
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL


def store_as_revision_0004_would(database_url: str, body: str) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine, "0004")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, name, kind, active, created_at, failures) "
                "VALUES (1, 'Reuters', 'file', true, '2025-05-15', 0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO articles (id, source_id, url, title, text, content_hash, "
                "ingested_at) VALUES (1, 1, '/old.txt', 'Talks', :body, 'old', '2025-05-15')"
            ),
            {"body": body},
        )
    engine.dispose()


def simhash_of_revision_0005(body: str) -> int | None:
    """The SimHash 0005 froze; live code no longer has one (near-duplicates use MinHash)."""
    path = PROJECT / "migrations" / "versions" / "0005_backfill_fingerprints.py"
    spec = importlib.util.spec_from_file_location("revision_0005", path)
    assert spec is not None and spec.loader is not None
    revision = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(revision)
    found: int | None = revision.simhash(body)
    return found


def test_upgrading_fingerprints_old_articles_so_a_syndicated_copy_is_a_duplicate(
    settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    body = SEED_ARTICLE.read_text(encoding="utf-8")
    store_as_revision_0004_would(settings.database_url, body)
    copy = tmp_path / "syndicated.txt"  # the same story, another outlet's byline on top
    copy.write_text("By a staff correspondent\n\n" + body, encoding="utf-8")

    services: Services = build_services(settings, embedder=fake_embedder)
    try:
        with services.sessions() as session:
            stored = session.execute(text("SELECT fingerprint FROM articles")).scalar_one()
        plans, problems = services.ingestor.plan_files([str(copy)])
        report = services.ingestor.store(plans)
    finally:
        services.close()

    assert stored is not None and stored == simhash_of_revision_0005(body)
    assert (problems, len(report.stored), len(report.duplicates)) == ([], 0, 1)
