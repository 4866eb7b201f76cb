"""Ingesting articles: storage, deduplication, and one transaction per article."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from knowledge.fingerprints import FingerprintIndex
from knowledge.ingest import Ingestor
from parley.services import Services
from storage.fulltext import FullTextIndex
from storage.models import Article, Passage, PassageVector
from tests.conftest import SEED_ARTICLE

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL


def counts(services: Services) -> tuple[int, int, int, int]:
    with services.sessions() as session:
        return (
            session.scalar(select(func.count(Article.id))) or 0,
            session.scalar(select(func.count(Passage.id))) or 0,
            session.scalar(select(func.count()).select_from(PassageVector)) or 0,
            session.execute(text("SELECT count(*) FROM passage_terms")).scalar_one(),
        )


def ingest(services: Services, *paths: Path) -> tuple[int, int, int]:
    plans, problems = services.ingestor.plan_files([str(path) for path in paths])
    report = services.ingestor.store(plans)
    return len(report.stored), len(report.duplicates), len(problems)


def test_an_article_is_stored_with_passages_vectors_and_search_terms(services: Services) -> None:
    assert ingest(services, SEED_ARTICLE) == (1, 0, 0)

    articles, passages, vectors, indexed = counts(services)
    assert (articles, passages >= 3) == (1, True)
    assert passages == vectors == indexed == len(services.vectors)
    with services.sessions() as session:
        article = session.scalars(select(Article)).one()
        assert article.source.name == "Reuters"
        assert article.url == str(SEED_ARTICLE.resolve())


def test_the_same_article_again_adds_nothing(services: Services, tmp_path: Path) -> None:
    ingest(services, SEED_ARTICLE)
    before = counts(services)
    copy = tmp_path / "copy.txt"
    copy.write_text(SEED_ARTICLE.read_text().replace("  ", " ").upper() + "\n\n")

    assert ingest(services, SEED_ARTICLE) == (0, 1, 0)  # same path
    assert ingest(services, copy) == (0, 1, 0)  # same content, different case and spacing
    assert counts(services) == before


def test_a_batch_repeating_an_article_stores_it_once(services: Services, tmp_path: Path) -> None:
    first, second = tmp_path / "a.txt", tmp_path / "b.txt"
    shutil.copy(SEED_ARTICLE, first)
    shutil.copy(SEED_ARTICLE, second)

    assert ingest(services, tmp_path) == (1, 1, 0)
    assert counts(services)[0] == 1


class FailingFullText:
    """The database's full-text index, but its second write fails, as a full disk would."""

    def __init__(self, index: FullTextIndex) -> None:
        self.index = index
        self.writes = 0

    def add(self, session: Session, entries: Iterable[tuple[int, str]]) -> None:
        self.writes += 1
        if self.writes == 2:
            raise OSError("disk full")
        self.index.add(session, entries)

    def __getattr__(self, name: str) -> object:
        return getattr(self.index, name)


def test_a_failure_never_leaves_half_an_article(services: Services, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(
        "Talks open\n\nThe first round of talks opened in Geneva today.\n"
    )
    (tmp_path / "b.txt").write_text(
        "Talks stall\n\nThe second round of talks stalled in Geneva today.\n"
    )
    ingestor = Ingestor(
        sessions=services.sessions,
        embedder=services.embedder,
        fulltext=FailingFullText(services.fulltext),
        vectors=services.vectors,
        fingerprints=FingerprintIndex(),
        max_bytes=100_000,
    )
    plans, _ = ingestor.plan_files([str(tmp_path)])

    with pytest.raises(OSError, match="disk full"):
        ingestor.store(plans)

    assert counts(services) == (1, 1, 1, 1)
    assert len(services.vectors) == 1
    with services.sessions() as session:
        assert session.scalars(select(Article.title)).all() == ["Talks open"]


def test_folders_are_searched_for_supported_files(services: Services, tmp_path: Path) -> None:
    nested = tmp_path / "2025" / "may"
    nested.mkdir(parents=True)
    (nested / "talks.md").write_text("# Talks in Geneva\n\nDelegations met in Geneva to talk.\n")
    (tmp_path / "notes.pdf").write_bytes(b"%PDF-1.4")

    assert ingest(services, tmp_path) == (1, 0, 0)
