"""Two writers at once: whoever stores an article or a source second finds it already there.

The interleavings are forced: one writer is held just before its first INSERT while the other
stores the same thing and commits, on a real SQLite file with two engines. Then two real
`parley ingest` processes race on one folder, as operators would run them.
"""

from __future__ import annotations

import os
import random
import string
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, event, func, select

from parley.services import Services, build_services
from parley.settings import Settings
from storage import sources
from storage.db import create_database_engine, session_factory
from storage.models import Article, Passage, Source
from tests.conftest import PROJECT, SEEDS
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL

PROCESS_TIMEOUT = 300  # a guard against a hang on a busy machine, never a measure of speed


def write_articles(folder: Path, count: int) -> list[Path]:
    """Articles with unrelated words, so none is a near-duplicate of another."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(count):
        words = random.Random(number)
        paragraphs = [
            " ".join(
                "".join(words.choices(string.ascii_lowercase, k=words.randint(3, 9)))
                for _ in range(40)
            ).capitalize()
            + "."
            for _ in range(3)
        ]
        path = folder / f"article-{number:03}.txt"
        path.write_text(f"Report number {number}\n\n" + "\n\n".join(paragraphs) + "\n")
        paths.append(path)
    return paths


def before_first_insert(engine: Engine, action: Callable[[], None]) -> None:
    """Run the action once, just before the engine's first INSERT reaches the database: the
    moment when a check-then-insert has checked and found nothing, and holds no lock yet."""
    done = False

    def hold(*args: Any) -> None:
        nonlocal done
        statement = str(args[2])
        if not done and statement.lstrip().upper().startswith("INSERT"):
            done = True
            action()

    event.listen(engine, "before_cursor_execute", hold)


def engine_of(services: Services) -> Engine:
    with services.sessions() as session:
        bind = session.get_bind()
    assert isinstance(bind, Engine)
    return bind


@pytest.fixture
def two_writers(settings: Settings) -> Iterator[tuple[Services, Services]]:
    """Two Parleys on one database file, each with its own engine, as two processes have."""
    first = build_services(settings, embedder=FakeEmbedder())
    second = build_services(settings, embedder=FakeEmbedder())
    yield first, second
    first.close()
    second.close()


def stored_counts(services: Services) -> tuple[int, int, int]:
    with services.sessions() as session:
        return (
            session.scalar(select(func.count(Article.id))) or 0,
            session.scalar(select(func.count(Passage.id))) or 0,
            session.scalar(select(func.count(Source.id))) or 0,
        )


def test_an_article_stored_by_another_writer_meanwhile_counts_as_a_duplicate(
    two_writers: tuple[Services, Services], tmp_path: Path
) -> None:
    first, second = two_writers
    [path] = write_articles(tmp_path / "news", 1)
    first_plans, _ = first.ingestor.plan_files([str(path)])
    second_plans, _ = second.ingestor.plan_files([str(path)])
    second_reports = []
    before_first_insert(
        engine_of(first),
        lambda: second_reports.append(second.ingestor.store(second_plans)),
    )

    first_report = first.ingestor.store(first_plans)

    [second_report] = second_reports
    assert len(second_report.stored) == 1
    assert (len(first_report.stored), len(first_report.duplicates)) == (0, 1)
    passages = len(first_plans[0].passages)
    assert stored_counts(first) == (1, passages, 1)  # one article, its passages, one source


def test_a_source_added_by_another_request_meanwhile_is_reported_as_already_there(
    two_writers: tuple[Services, Services],
) -> None:
    first, second = two_writers
    url = "https://news.example/feed.xml"
    added: list[int] = []

    def other_request_adds_it() -> None:
        with second.sessions.begin() as session:
            added.append(sources.add_source(session, url=url, name="Example", kind="feed").id)

    before_first_insert(engine_of(first), other_request_adds_it)

    with (
        pytest.raises(sources.DuplicateSourceError) as refused,
        first.sessions.begin() as session,
    ):
        sources.add_source(session, url=url, name="Example", kind="feed")

    assert refused.value.source_id == added[0]
    with first.sessions() as session:
        assert session.scalar(select(func.count(Source.id))) == 1


def test_two_ingest_processes_on_one_folder_both_succeed_and_store_each_article_once(
    tmp_path: Path, database_url: str
) -> None:
    folder = tmp_path / "news"
    paths = write_articles(folder, 40)
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": database_url,
        "SEEDS_DIR": str(SEEDS),
    }
    # Migrate first, so both processes start ingesting together rather than one waiting on
    # the other's migration.
    subprocess.run(
        [sys.executable, "-m", "tests.support.fake_parley", "db", "upgrade"],
        env=env,
        check=True,
        capture_output=True,
        timeout=PROCESS_TIMEOUT,
    )
    command = [sys.executable, "-m", "tests.support.fake_parley", "ingest", str(folder)]
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=PROCESS_TIMEOUT) for process in processes]

    for process, (_, err) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, err
        assert "Traceback" not in err
    stored = [out.count("stored: ") for out, _ in outputs]
    duplicates = [out.count("duplicate: ") for out, _ in outputs]
    assert sum(stored) == len(paths)
    assert [s + d for s, d in zip(stored, duplicates, strict=True)] == [len(paths)] * 2
    with session_factory(create_database_engine(env["DATABASE_URL"]))() as session:
        urls = list(session.scalars(select(Article.url)))
        names = list(session.scalars(select(Source.name)))
    assert sorted(urls) == sorted(str(path.resolve()) for path in paths)
    assert len(names) == len(set(names))
