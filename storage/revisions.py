"""Which revision the archive is at, and which revision Parley ships, read without Alembic:
loading it and the revisions takes half a second, and a database at the head needs neither."""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path

from storage.plain_sql import Connection, rows


def _migrations_dir() -> Path:
    # Found, not imported: the revisions are data to Alembic, and `migrations/env.py` imports
    # the models (for autogenerate), so importing it back would make a cycle.
    spec = importlib.util.find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the migrations package is not installed beside storage")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


MIGRATIONS_DIR = _migrations_dir()

REVISION_LINE = re.compile(r'^revision: str = "(\w+)"', re.MULTILINE)
DOWN_REVISION_LINE = re.compile(r'^down_revision: str \| None = "(\w+)"', re.MULTILINE)


@cache
def shipped_head() -> str | None:
    """The newest revision, read from the revision files' text without running them; None
    unless exactly one revision is newest (then only Alembic can say)."""
    revisions: set[str] = set()
    parents: set[str] = set()
    for path in (MIGRATIONS_DIR / "versions").glob("*.py"):
        source = path.read_text(encoding="utf-8")
        revisions.update(REVISION_LINE.findall(source))
        parents.update(DOWN_REVISION_LINE.findall(source))
    heads = revisions - parents
    return heads.pop() if len(heads) == 1 else None


def current_revision(connection: Connection) -> str | None:
    """The revision the database is at; None when it has no single one. A database never
    migrated has no alembic_version table: the driver's error says so."""
    found = rows(connection, "SELECT version_num FROM alembic_version")
    return str(found[0][0]) if len(found) == 1 else None
