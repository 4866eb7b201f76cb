"""A SQLite archive opened with the standard library's driver, set up as SQLAlchemy's engine
sets it up (storage/db.py), for the commands that run one statement and must not wait for
SQLAlchemy's import."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from urllib.parse import unquote

from storage.revisions import current_revision, shipped_head

# The URLs whose file is plain to see; any other form (an in-memory database, driver options
# after "?") is left to SQLAlchemy, which reads every form.
FILE_URL_PREFIXES = ("sqlite:///", "sqlite+pysqlite:///")
# How long a statement waits for another process's write to finish before failing.
BUSY_TIMEOUT_SECONDS = 30.0
PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    # NORMAL is durable across application crashes in WAL mode, and much faster than FULL.
    "PRAGMA synchronous=NORMAL",
)


def file_path(url: str) -> Path | None:
    """The file a ``sqlite:///`` URL names, absolute, as SQLAlchemy reads it
    (percent-decoded, relative to the current folder); None for any other URL."""
    prefix = next((prefix for prefix in FILE_URL_PREFIXES if url.startswith(prefix)), None)
    if prefix is None or "?" in url:
        return None
    database = unquote(url[len(prefix) :])
    if database in ("", ":memory:"):
        return None
    return Path(os.path.abspath(database))


def configure(connection: sqlite3.Connection) -> None:
    """WAL mode, foreign keys and NORMAL syncing, on every connection to the archive."""
    for pragma in PRAGMAS:
        connection.execute(pragma)


def open_at_head(url: str) -> sqlite3.Connection | None:
    """The archive at ``url`` when it is a SQLite file already at the newest revision; None
    otherwise (not SQLite, not there yet, never or not fully migrated, unreadable), for
    SQLAlchemy and Alembic to create, upgrade or report on."""
    path = file_path(url)
    head = shipped_head()
    if path is None or head is None:
        return None
    try:
        # mode=rw: a missing file is not created here, but by the first upgrade.
        connection = sqlite3.connect(
            f"{path.as_uri()}?mode=rw", uri=True, timeout=BUSY_TIMEOUT_SECONDS
        )
    except sqlite3.Error:
        return None
    try:
        configure(connection)
        at_head = current_revision(connection) == head
    except sqlite3.Error:  # no alembic_version table, or not a database at all
        at_head = False
    if not at_head:
        connection.close()
        return None
    return connection
