"""Ingest stores a story once however it is syndicated, and remembers it across restarts."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from knowledge.fingerprints import minhash
from parley.services import Services, build_services
from parley.settings import Settings
from storage.models import Article
from tests.conftest import SEED_ARTICLE
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL

OTHER_REPORT = (
    "Ukrainian and Russian delegations met in Istanbul for their first direct talks in three "
    "years, with Turkish Foreign Minister Hakan Fidan opening the session at Dolmabahce Palace. "
    "Ukraine's team was led by Defence Minister Rustem Umerov, while Vladimir Medinsky headed "
    "the Russian side. The meeting lasted under two hours and ended with an agreement to "
    "exchange a thousand prisoners of war from each side, officials from both countries said, "
    "though no ceasefire was agreed and Kyiv accused Moscow of making unacceptable demands."
)


def syndicated_file(folder: Path) -> Path:
    """The seed story as another outlet prints it: byline, dateline, a sentence dropped,
    a closing line added; so neither its URL nor its text is the original's."""
    title, body = SEED_ARTICLE.read_text(encoding="utf-8").split("\n\n", 1)
    sentences = body.split(". ")
    shortened = ". ".join(sentences[:2] + sentences[3:])
    path = folder / "syndicated.txt"
    path.write_text(
        f"{title}\n\nBy Staff Writer\n\nISTANBUL (Example Wire) - {shortened}\n\n"
        "Talks are expected to continue, the wire's correspondent added.\n\nRead more",
        encoding="utf-8",
    )
    return path


def ingest(services: Services, *paths: Path) -> tuple[int, int]:
    plans, problems = services.ingestor.plan_files([str(path) for path in paths])
    assert problems == []
    report = services.ingestor.store(plans)
    return len(report.stored), len(report.duplicates)


def test_a_syndicated_copy_of_a_stored_article_is_not_stored_again(
    services: Services, tmp_path: Path
) -> None:
    assert ingest(services, SEED_ARTICLE) == (1, 0)

    assert ingest(services, syndicated_file(tmp_path)) == (0, 1)


def test_another_report_on_the_same_talks_is_stored(services: Services, tmp_path: Path) -> None:
    other = tmp_path / "other.txt"
    other.write_text("Delegations meet in Istanbul\n\n" + OTHER_REPORT, encoding="utf-8")

    assert ingest(services, SEED_ARTICLE, other) == (2, 0)


def test_a_stored_article_keeps_its_signature_and_is_recognised_after_a_restart(
    settings: Settings, fake_embedder: FakeEmbedder, tmp_path: Path
) -> None:
    first = build_services(settings, embedder=fake_embedder)
    try:
        ingest(first, SEED_ARTICLE)
        with first.sessions() as session:
            article = session.scalars(select(Article)).one()
            stored, text = article.minhash, article.text
    finally:
        first.close()

    restarted = build_services(settings, embedder=fake_embedder)
    try:
        assert ingest(restarted, syndicated_file(tmp_path)) == (0, 1)
    finally:
        restarted.close()
    assert stored is not None and stored == minhash(text)
