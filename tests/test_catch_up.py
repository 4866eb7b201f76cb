"""Two Parleys on one archive keep their in-memory indexes in step through the change log.

Each side is built as a process builds its services (its own engine, its own vector index and
fingerprints); what one stores, the other takes in by catching up, once and only once.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import func, select

from knowledge import ingest
from parley.services import Services, build_services
from parley.settings import Settings
from storage import changes
from storage.models import Article, Passage
from storage.vectors import Matrix
from tests.support.bot_harness import eventually
from tests.support.fake_embedder import FakeEmbedder
from tests.test_concurrent_ingest import write_articles

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL


class FlippedEmbedder(FakeEmbedder):
    """The same model id with other vectors: what a re-index with new weights looks like."""

    def embed(self, texts: Sequence[str]) -> Matrix:
        return -super().embed(texts)

    def embed_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        vectors, tokens = super().embed_with_tokens(texts)
        return -vectors, tokens


@pytest.fixture
def two_processes(settings: Settings) -> Iterator[tuple[Services, Services]]:
    """A writer (as `parley ingest`) and a reader (as the running bot) on one archive."""
    writer = build_services(settings, embedder=FakeEmbedder())
    reader = build_services(settings, embedder=FakeEmbedder())
    yield writer, reader
    writer.close()
    reader.close()


def stored(services: Services) -> tuple[list[int], int]:
    """Every passage id and the number of articles with a signature, from the database."""
    with services.sessions() as session:
        passage_ids = list(session.scalars(select(Passage.id).order_by(Passage.id)))
        signed = session.scalar(select(func.count()).where(Article.minhash.is_not(None)))
    return passage_ids, int(signed or 0)


def held(services: Services) -> tuple[list[int], int]:
    """Every passage id in the vector index and the number of signatures held."""
    return [int(i) for i in services.vectors.ids()], len(services.follower.fingerprints)


def ingest_articles(services: Services, folder: Path, count: int) -> None:
    plans, problems = services.ingestor.plan_files(str(p) for p in write_articles(folder, count))
    assert not problems
    assert len(services.ingestor.store(plans).stored) == count


def test_articles_another_process_stores_are_caught_up_once(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    writer, reader = two_processes
    ingest_articles(writer, tmp_path / "news", 3)

    assert reader.follower.is_stale()
    assert reader.follower.catch_up() == 3
    assert reader.follower.catch_up() == 0

    assert held(reader) == stored(reader)
    assert not reader.follower.is_stale()


def test_a_process_does_not_add_its_own_articles_twice(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    writer, _ = two_processes
    ingest_articles(writer, tmp_path / "news", 3)

    writer.follower.catch_up()

    assert held(writer) == stored(writer)


def test_an_article_the_reader_already_caught_up_is_not_added_again_by_its_writer(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    """Catching up in the writer's own process may run between its commit and its own add."""
    writer, _ = two_processes
    plans, _ = writer.ingestor.plan_files(str(p) for p in write_articles(tmp_path / "news", 1))
    real_stored = writer.follower.stored

    def catch_up_first(
        change_id: int, passage_ids: Sequence[int], vectors: Matrix, signature: bytes | None
    ) -> None:
        writer.follower.catch_up()  # sees the committed article from the database
        real_stored(change_id, passage_ids, vectors, signature)

    writer.follower.stored = catch_up_first  # type: ignore[method-assign]
    writer.ingestor.store(plans)

    assert held(writer) == stored(writer)


def test_catching_up_while_ingesting_holds_every_passage_once(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    writer, reader = two_processes
    done = threading.Event()

    def keep_catching_up() -> None:
        while not done.is_set():
            reader.follower.catch_up()
            writer.follower.catch_up()

    catcher = threading.Thread(target=keep_catching_up)
    catcher.start()
    try:
        ingest_articles(writer, tmp_path / "news", 12)
    finally:
        done.set()
        catcher.join()
    reader.follower.catch_up()

    assert held(writer) == stored(writer)
    assert held(reader) == stored(reader)


def test_a_reindex_elsewhere_reloads_every_vector(
    two_processes: tuple[Services, Services], settings: Settings, tmp_path: Path
) -> None:
    writer, reader = two_processes
    ingest_articles(writer, tmp_path / "news", 2)
    reader.follower.catch_up()
    passage_ids, _ = stored(reader)
    before = reader.vectors.stored_vector(passage_ids[0])

    ingest.reindex(sessions=writer.sessions, embedder=FlippedEmbedder())
    assert reader.follower.catch_up() == 1

    after = reader.vectors.stored_vector(passage_ids[0])
    assert before is not None and after is not None
    np.testing.assert_allclose(after, -before, atol=1e-6)
    assert held(reader) == stored(reader)


def test_an_answer_catches_up_first_when_the_archive_changed(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    writer, reader = two_processes
    ingest_articles(writer, tmp_path / "news", 1)
    assert reader.follower.is_stale()

    reader.answerer.ask("What did the report say?")

    assert not reader.follower.is_stale()
    assert held(reader) == stored(reader)


def test_the_change_log_counts_each_stored_article_and_reindex(
    two_processes: tuple[Services, Services], tmp_path: Path
) -> None:
    writer, _ = two_processes
    ingest_articles(writer, tmp_path / "news", 2)
    ingest.reindex(sessions=writer.sessions, embedder=FakeEmbedder())

    with writer.sessions() as session:
        kinds = [change.kind for change in changes.changes_after(session, after_id=0)]
    assert kinds == ["added", "added", "reindexed"]


async def test_on_postgresql_a_notification_catches_up_at_once(
    two_processes: tuple[Services, Services], settings: Settings, tmp_path: Path
) -> None:
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("SQLite has no notifications: the bot's interval catches up there")
    writer, reader = two_processes
    reader.follow_changes()  # no interval job here: only a notification can catch up

    ingest_articles(writer, tmp_path / "news", 2)

    await eventually(lambda: held(reader) == stored(reader), timeout=60)
