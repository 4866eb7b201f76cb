"""SQLite's own driver opens the archive that SQLAlchemy would open, and only one already at
the newest revision; every other archive is left to SQLAlchemy and Alembic."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from storage import sqlite_file
from storage.db import create_database_engine, upgrade_database
from storage.revisions import current_revision, shipped_head


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///parley.db",
        "sqlite:///data/parley.db",
        "sqlite:////srv/parley/parley.db",
        "sqlite:///news%20archive/parley%231.db",
        "sqlite+pysqlite:///data/parley.db",
    ],
)
def test_a_file_url_names_the_file_sqlalchemy_opens(url: str) -> None:
    engine = create_engine(url)
    [opened], _options = engine.dialect.create_connect_args(make_url(url))

    assert sqlite_file.file_path(url) == Path(opened)


@pytest.mark.parametrize(
    "url",
    [
        "sqlite://",
        "sqlite:///:memory:",
        "sqlite:///parley.db?timeout=5",
        "postgresql+psycopg://parley:secret@localhost/parley",
    ],
)
def test_other_urls_are_left_to_sqlalchemy(url: str) -> None:
    assert sqlite_file.file_path(url) is None
    assert sqlite_file.open_at_head(url) is None


def test_an_archive_at_the_head_is_opened_as_the_engine_opens_it(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'news #1' / 'parley.db'}"  # a URI would read "#" otherwise
    upgrade_database(create_database_engine(url))

    connection = sqlite_file.open_at_head(url)

    assert connection is not None
    assert current_revision(connection) == shipped_head()
    assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    assert connection.execute("PRAGMA foreign_keys").fetchone() == (1,)
    connection.close()


def test_a_missing_archive_is_not_created(tmp_path: Path) -> None:
    missing = tmp_path / "data" / "parley.db"

    assert sqlite_file.open_at_head(f"sqlite:///{missing}") is None
    assert not missing.exists()


def test_an_archive_never_migrated_or_older_is_left_to_alembic(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    older = f"sqlite:///{tmp_path / 'older.db'}"
    upgrade_database(create_database_engine(older), "0014")
    not_a_database = tmp_path / "notes.db"
    not_a_database.write_text("not a database, though it is named like one\n" * 100)

    assert sqlite_file.open_at_head(f"sqlite:///{empty}") is None
    assert sqlite_file.open_at_head(older) is None
    assert sqlite_file.open_at_head(f"sqlite:///{not_a_database}") is None
