"""The database engine, sessions and schema upgrades."""

from __future__ import annotations

import importlib.util
import re
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker


def _migrations_dir() -> Path:
    # Found, not imported: the revisions are data to Alembic, and `migrations/env.py` imports
    # the models (for autogenerate), so importing it back would make a cycle.
    spec = importlib.util.find_spec("migrations")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the migrations package is not installed beside storage")
    return Path(next(iter(spec.submodule_search_locations))).resolve()


MIGRATIONS_DIR = _migrations_dir()


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite (the embedded default)."""
    return engine.dialect.name == "sqlite"


def is_postgresql(engine: Engine) -> bool:
    """Whether the engine talks to PostgreSQL (for several processes or machines)."""
    return engine.dialect.name == "postgresql"


def create_database_engine(url: str) -> Engine:
    """An engine for the URL; SQLite files get their folder, WAL mode and foreign keys.

    The URL is parsed, never split by hand, so a password holding ``%``, ``@`` or ``/``
    (percent-encoded in the URL) reaches the server intact.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite":
        # Pre-ping: a worker outlives server restarts and idle-connection reaping.
        return create_engine(parsed, pool_pre_ping=True)
    if parsed.database and parsed.database != ":memory:":
        Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(parsed, connect_args={"check_same_thread": False, "timeout": 30})
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    # NORMAL is durable across application crashes in WAL mode, and much faster than FULL.
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to the engine that keep loaded objects usable after commit."""
    # The ORM is imported here, not above: `parley db upgrade` and the source listing run on
    # the engine alone, and the ORM's import is a quarter of a second on a busy machine.
    from sqlalchemy.orm import sessionmaker

    return sessionmaker(engine, expire_on_commit=False)


def alembic_config(engine: Engine) -> Config:
    """An Alembic configuration that runs Parley's revisions on this engine."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    # The engine itself, not its URL: Alembic's options are ConfigParser values, where a
    # percent-encoded password ("%40") reads as interpolation syntax and fails.
    config.attributes["engine"] = engine
    return config


def upgrade_database(engine: Engine, revision: str = "head") -> None:
    """Apply every pending migration up to the revision."""
    # Every command migrates first; a database already at the head needs neither Alembic nor
    # the revisions loaded (half a second of imports), only one query.
    if (
        revision == "head"
        and shipped_head() is not None
        and current_revision(engine) == shipped_head()
    ):
        return
    from alembic import command

    command.upgrade(alembic_config(engine), revision)


def head_revision() -> str | None:
    """The newest revision Parley ships, as Alembic reads the revisions."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return ScriptDirectory.from_config(config).get_current_head()


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


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has none yet."""
    try:
        with engine.connect() as connection:
            rows = connection.execute(text("SELECT version_num FROM alembic_version")).all()
    except DBAPIError:  # no alembic_version table: never migrated
        return None
    return str(rows[0][0]) if len(rows) == 1 else None
