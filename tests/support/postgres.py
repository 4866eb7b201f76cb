"""A throwaway PostgreSQL server for the tests, and a fresh database per test.

Debian's ``postgresql`` package provides the binaries (``make test`` installs it when
missing). The server runs from a temporary folder on a free loopback port, with durability
off (nothing in it outlives the run), and is removed at the end. PostgreSQL refuses to run
as root, so under root it runs as the ``postgres`` user the package creates.

Its superuser's password holds ``%``, ``@``, ``/`` and ``:``, so every PostgreSQL test also
checks that such a password survives ``DATABASE_URL``.

``PARLEY_TEST_POSTGRES_URL`` (a superuser's URL) points the tests at an existing server
instead.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sqlalchemy import URL, create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

USER = "parley"
PASSWORD = "p@ss%w0rd/with:odd"  # a throwaway server's
SERVER_USER = "postgres"  # Debian's package creates it
START_TIMEOUT = 60
_names = itertools.count(1)


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server could be found or started."""


def binaries() -> Path:
    """The folder of the newest installed PostgreSQL's initdb and pg_ctl."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda path: int(Path(path).parts[-3]) if Path(path).parts[-3].isdigit() else 0,
    )
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).resolve().parent
    raise PostgresUnavailable(
        "PostgreSQL is not installed: no initdb (Debian: apt-get install postgresql)"
    )


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class PostgresServer:
    """A server to make test databases on: started here, or an existing one."""

    def __init__(self, admin_url: URL, folder: Path | None = None) -> None:
        self.admin_url = admin_url
        self._folder = folder
        self._admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
        self._spare: list[str] = []

    @classmethod
    def start(cls) -> PostgresServer:
        """A new server in a temporary folder, or the one ``PARLEY_TEST_POSTGRES_URL`` names."""
        existing = os.environ.get("PARLEY_TEST_POSTGRES_URL")
        if existing:
            return cls(make_url(existing))
        folder = Path(tempfile.mkdtemp(prefix="parley-postgres-"))
        try:
            port = _initialise_and_start(binaries(), folder)
        except (OSError, KeyError, subprocess.SubprocessError, PostgresUnavailable) as error:
            log = folder / "server.log"
            detail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            shutil.rmtree(folder, ignore_errors=True)
            raise PostgresUnavailable(f"could not start PostgreSQL: {error}\n{detail}") from error
        url = URL.create(
            "postgresql+psycopg",
            username=USER,
            password=PASSWORD,
            host="127.0.0.1",
            port=port,
            database="postgres",
        )
        return cls(url, folder)

    def create_database(self) -> str:
        """An empty database of its own; its URL, password included (percent-encoded).

        A database released by an earlier test is emptied and handed out again: CREATE
        DATABASE copies a whole template (a second or so on a busy machine), emptying one
        takes milliseconds, and either way the test has the database to itself.
        """
        if self._spare:
            name = self._spare.pop()
        else:
            name = f"parley_test_{os.getpid()}_{next(_names)}"
            with self._admin.connect() as connection:
                connection.execute(text(f'CREATE DATABASE "{name}"'))
        return self.admin_url.set(database=name).render_as_string(hide_password=False)

    def drop_database(self, url: str) -> None:
        """Release a database from ``create_database``: its connections are ended (with
        their locks and listeners) and everything in it removed, for the next test."""
        name = str(make_url(url).database)
        with self._admin.connect() as connection:
            connection.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )
        emptying = create_engine(self.admin_url.set(database=name), poolclass=NullPool)
        try:
            with emptying.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
        except SQLAlchemyError:
            with self._admin.connect() as connection:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        finally:
            emptying.dispose()
        self._spare.append(name)

    def stop(self) -> None:
        """Stop and remove the server started here (an existing one is left alone)."""
        self._admin.dispose()
        if self._folder is None:
            return
        _as_server_user(
            [
                str(binaries() / "pg_ctl"),
                "-D",
                str(self._folder / "data"),
                "-m",
                "immediate",
                "-w",
                "stop",
            ],
            check=False,
        )
        shutil.rmtree(self._folder, ignore_errors=True)


def _initialise_and_start(bin_dir: Path, folder: Path) -> int:
    password_file = folder / "password"
    password_file.write_text(PASSWORD + "\n", encoding="utf-8")
    _hand_to_server_user(folder)
    _as_server_user(
        [
            str(bin_dir / "initdb"),
            "-D",
            str(folder / "data"),
            "-U",
            USER,
            f"--pwfile={password_file}",
            "--auth-local=trust",
            "--auth-host=scram-sha-256",
            "--encoding=UTF8",
            "--locale=C",
            "--no-sync",
        ]
    )
    port = free_port()
    # Durability off: the data is thrown away, and fsyncs would only slow the tests.
    options = (
        f"-k {folder} -p {port} -c listen_addresses=127.0.0.1 -c fsync=off "
        "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
    )
    _as_server_user(
        [
            str(bin_dir / "pg_ctl"),
            "-D",
            str(folder / "data"),
            "-l",
            str(folder / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            str(START_TIMEOUT),
            "start",
        ]
    )
    return port


def _hand_to_server_user(folder: Path) -> None:
    if os.geteuid() != 0:
        return
    account = pwd.getpwnam(SERVER_USER)
    for path in (folder, *folder.iterdir()):
        os.chown(path, account.pw_uid, account.pw_gid)


def _as_server_user(command: list[str], *, check: bool = True) -> None:
    """Run a server command, as ``postgres`` when we are root (the server refuses root)."""
    if os.geteuid() == 0:
        command = ["runuser", "-u", SERVER_USER, "--", *command]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=START_TIMEOUT + 30, check=False
    )
    if check and finished.returncode != 0:
        raise PostgresUnavailable(
            f"{' '.join(command)} failed ({finished.returncode}): "
            f"{finished.stderr.strip() or finished.stdout.strip()}"
        )
