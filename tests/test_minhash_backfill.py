"""Articles stored before MinHash signatures get exactly the signature ingest gives today."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from sqlalchemy import text

from knowledge.cleaning import parse_article
from knowledge.fingerprints import minhash
from parley.services import build_services
from parley.settings import Settings
from storage.db import create_database_engine, upgrade_database
from tests.conftest import PROJECT, SEED_ARTICLE
from tests.support.fake_embedder import FakeEmbedder

REVISION = PROJECT / "migrations" / "versions" / "0012_article_minhash.py"


def frozen_revision() -> ModuleType:
    spec = importlib.util.spec_from_file_location("revision_0012", REVISION)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def made_up_texts(count: int) -> list[str]:
    """Texts of every length around the minimum, with accents, Cyrillic, digits and marks."""
    words = "talks Kyiv Київ переговори délégation 2025 ceasefire it's Medinsky's — a of".split()
    rng = np.random.default_rng(12)
    return [
        " ".join(rng.choice(words, size=int(rng.integers(15, 400))))
        + rng.choice(["", ".", "!?", " _x_"])
        for _ in range(count)
    ]


def test_the_frozen_backfill_computes_exactly_the_live_signature() -> None:
    revision = frozen_revision()
    a, b = revision.permutations()
    texts = [
        SEED_ARTICLE.read_text(),
        parse_article(SEED_ARTICLE.read_text()).text,
        "Too short to fingerprint.",
        *made_up_texts(60),
    ]

    frozen = [revision.minhash(item, a, b) for item in texts]

    assert frozen == [minhash(item) for item in texts]
    assert frozen[2] is None and all(found is not None for found in frozen[:2])


def store_as_revision_0011_would(database_url: str, bodies: list[str]) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine, "0011")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, name, kind, active, created_at, failures) "
                "VALUES (1, 'Reuters', 'file', true, '2025-05-15', 0)"
            )
        )
        for number, body in enumerate(bodies, start=1):
            connection.execute(
                text(
                    "INSERT INTO articles (id, source_id, url, title, text, content_hash, "
                    "ingested_at) VALUES (:id, 1, :url, 'Talks', :body, :hash, '2025-05-15')"
                ),
                {"id": number, "url": f"/old-{number}.txt", "body": body, "hash": f"h{number}"},
            )
    engine.dispose()


@pytest.mark.both_databases
def test_upgrading_signs_old_articles_so_a_syndicated_copy_is_a_duplicate(
    settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    body = SEED_ARTICLE.read_text(encoding="utf-8")
    store_as_revision_0011_would(settings.database_url, [body, "Talks resume in Istanbul."])
    copy = tmp_path / "syndicated.txt"  # the same story, another outlet's byline on top
    copy.write_text("By a staff correspondent\n\n" + body, encoding="utf-8")

    services = build_services(settings, embedder=fake_embedder)
    try:
        with services.sessions() as session:
            stored = session.execute(text("SELECT minhash FROM articles ORDER BY id")).all()
        plans, problems = services.ingestor.plan_files([str(copy)])
        report = services.ingestor.store(plans)
    finally:
        services.close()

    assert [bytes(row.minhash) if row.minhash else None for row in stored] == [
        minhash(body),
        None,  # too short: no signature, never anyone's duplicate
    ]
    assert (problems, len(report.stored), len(report.duplicates)) == ([], 0, 1)
