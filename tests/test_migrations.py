"""Schema migrations on empty and existing databases."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect, text

from knowledge.terms import index_terms
from parley.cli import main
from storage.db import (
    create_database_engine,
    current_revision,
    head_revision,
    session_factory,
    shipped_head,
    upgrade_database,
)
from storage.fulltext import fulltext_index_for
from tests.conftest import PROJECT

pytestmark = pytest.mark.both_databases

PASSAGE_TEXT = "The delegation was led by Medinsky."

# Upgrades a database, but stops dead right after the first table exists, as a process
# killed at that moment would: the test then kills it for real.
UPGRADE_THAT_STALLS_AFTER_THE_FIRST_TABLE = """
import sys, time
from sqlalchemy import event
from storage.db import create_database_engine, upgrade_database

engine = create_database_engine(sys.argv[1])

@event.listens_for(engine, "after_cursor_execute")
def stall(connection, cursor, statement, *args):
    if statement.lstrip().startswith("CREATE TABLE sources"):
        print("created sources", flush=True)
        time.sleep(3600)

upgrade_database(engine)
"""


def insert_article(connection: Connection, *, passage_id: int) -> None:
    """One source, article and passage, written with plain SQL as an older Parley would."""
    connection.execute(
        text(
            "INSERT INTO sources (id, name, kind, active, created_at) "
            "VALUES (1, 'Reuters', 'file', true, '2025-05-15')"
        )
    )
    connection.execute(
        text(
            "INSERT INTO articles (id, source_id, url, title, text, content_hash, ingested_at) "
            "VALUES (1, 1, '/a.txt', 'Talks', :body, 'h', '2025-05-15')"
        ),
        {"body": PASSAGE_TEXT},
    )
    connection.execute(
        text("INSERT INTO passages (id, article_id, position, text) VALUES (:id, 1, 0, :body)"),
        {"id": passage_id, "body": PASSAGE_TEXT},
    )


def test_upgrading_an_empty_database_creates_every_table(database_url: str) -> None:
    engine = create_database_engine(database_url)

    upgrade_database(engine)

    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"sources", "articles", "passages", "passage_vectors", "passage_terms"} <= tables
    upgrade_database(engine)  # a second run has nothing to do and does no harm
    assert current_revision(engine) == head_revision()


def test_upgrading_from_the_previous_revision_keeps_and_indexes_passages(database_url: str) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine, "0001")
    with engine.begin() as connection:
        insert_article(connection, passage_id=7)

    upgrade_database(engine)

    with session_factory(engine)() as session:
        fulltext = fulltext_index_for(engine)
        hits = fulltext.search(session, index_terms("leads delegation").split(), 5)
        assert [passage_id for passage_id, _ in hits] == [7]
        assert fulltext.document_frequencies(session, ["deleg", "absent"]) == {
            "deleg": 1,
            "absent": 0,
        }


def test_upgrading_merges_outlets_an_earlier_race_added_twice_keeping_every_article(
    database_url: str,
) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine, "0014")
    with engine.begin() as connection:
        for source_id in (1, 2):
            connection.execute(
                text(
                    "INSERT INTO sources (id, name, kind, active, created_at, failures) "
                    "VALUES (:id, 'Local files', 'file', true, '2025-05-15', 0)"
                ),
                {"id": source_id},
            )
            connection.execute(
                text(
                    "INSERT INTO articles (id, source_id, url, title, text, content_hash,"
                    " ingested_at) VALUES (:id, :id, :url, 'Talks', 'Body', :hash, '2025-05-15')"
                ),
                {"id": source_id, "url": f"/{source_id}.txt", "hash": f"h{source_id}"},
            )

    upgrade_database(engine)

    with engine.connect() as connection:
        sources = connection.execute(text("SELECT id, name FROM sources")).all()
        filed_under = connection.execute(text("SELECT source_id FROM articles")).scalars().all()
    assert [tuple(row) for row in sources] == [(1, "Local files")]
    assert sorted(filed_under) == [1, 1]


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'parley.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar_one() == 1


def test_deleting_an_article_removes_its_passages_vectors_and_terms(database_url: str) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    with engine.begin() as connection:
        insert_article(connection, passage_id=1)
        connection.execute(
            text(
                "INSERT INTO passage_vectors (passage_id, model, dimension, text_hash, vector) "
                "VALUES (1, 'm', 1, 'h', :vector)"
            ),
            {"vector": b"\x00\x00\x00\x00"},
        )
    with session_factory(engine).begin() as session:
        fulltext_index_for(engine).add(session, [(1, "x")])

    with engine.begin() as connection:
        connection.execute(text("DELETE FROM articles WHERE id = 1"))

    with engine.connect() as connection:
        for table in ("passages", "passage_vectors", "passage_terms"):
            assert connection.execute(text(f"SELECT count(*) FROM {table}")).scalar_one() == 0


def test_a_first_migration_killed_midway_leaves_a_database_the_next_upgrade_completes(
    database_url: str, settings: object, capsys: pytest.CaptureFixture[str]
) -> None:
    upgrading = subprocess.Popen(
        [sys.executable, "-c", UPGRADE_THAT_STALLS_AFTER_THE_FIRST_TABLE, database_url],
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert upgrading.stdout is not None
        assert upgrading.stdout.readline() == "created sources\n"
    finally:
        upgrading.kill()  # SIGKILL: no cleanup, no rollback from the process itself
        upgrading.wait()

    assert main(["db", "upgrade"]) == 0

    engine = create_database_engine(database_url)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"sources", "articles", "passages", "subscriptions", "deliveries"} <= tables
    assert f"Database is at revision {head_revision()}." in capsys.readouterr().out


def test_the_head_read_from_the_revision_files_is_alembics() -> None:
    assert shipped_head() == head_revision()


def test_a_command_on_a_database_at_the_head_loads_neither_alembic_nor_the_revisions(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'parley.db'}"
    upgrade_database(create_database_engine(url))
    probe = (
        "import sys\n"
        "from parley.cli import main\n"
        "status = main(['db', 'upgrade'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith(('alembic', 'migrations.')))\n"
        "print(status, loaded)\n"
    )
    finished = subprocess.run(
        [sys.executable, "-c", probe],
        env={**os.environ, "DATABASE_URL": url, "PYTHONPATH": str(PROJECT)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )
    assert f"Database is at revision {head_revision()}." in finished.stdout
    assert finished.stdout.splitlines()[-1] == "0 []"
