"""The database engine, sessions and schema upgrades."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from storage import revisions, sqlite_file
from storage.revisions import MIGRATIONS_DIR
from storage.revisions import shipped_head as shipped_head

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.orm import Session, sessionmaker


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
    engine = create_engine(
        parsed,
        connect_args={"check_same_thread": False, "timeout": sqlite_file.BUSY_TIMEOUT_SECONDS},
    )
    event.listen(engine, "connect", _configure_sqlite_connection)
    return engine


def _configure_sqlite_connection(dbapi_connection: Any, _record: Any) -> None:
    # One set-up, whether SQLAlchemy or the model-free commands (storage/sqlite_file.py) connect.
    sqlite_file.configure(dbapi_connection)


def session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions bound to the engine that keep loaded objects usable after commit."""
    # The ORM is imported here, not above: `parley db upgrade` and the source listing, when
    # they need an engine (to migrate, or on PostgreSQL), run on it alone, and the ORM's import
    # is a quarter of a second on a busy machine.
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


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None when it has none yet."""
    try:
        with engine.connect() as connection:
            return revisions.current_revision(connection)
    except DBAPIError:  # no alembic_version table: never migrated
        return None
