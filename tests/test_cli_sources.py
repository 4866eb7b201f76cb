"""`parley sources list|remove` on an archive that has sources and articles, on SQLite and on
PostgreSQL: the lines an operator reads, the same sources the bot lists, and what happens
when the archive is older than Parley or refuses a change."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from parley.cli import main
from parley.settings import Settings
from storage import sources, sqlite_file
from storage.db import (
    create_database_engine,
    current_revision,
    head_revision,
    session_factory,
    upgrade_database,
)
from storage.models import Article, utcnow
from storage.source_listing import RemovedSource, stop_following

pytestmark = pytest.mark.both_databases  # SQLite and PostgreSQL


@pytest.fixture
def engine(settings: Settings) -> Iterator[Engine]:
    engine = create_database_engine(settings.database_url)
    upgrade_database(engine)
    yield engine
    engine.dispose()


def add_source(engine: Engine, name: str, *, articles: int) -> int:
    with session_factory(engine).begin() as session:
        source = sources.add_source(
            session, url=f"https://news.example/{name}.xml", name=name, kind="feed"
        )
        session.add_all(
            Article(
                source_id=source.id,
                url=f"https://news.example/{name}/{number}",
                title=f"{name} {number}",
                text="The delegations met again.",
                content_hash=f"{name}-{number}",
                ingested_at=utcnow(),
            )
            for number in range(articles)
        )
        return source.id


def test_sources_are_listed_with_their_article_counts(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    wire = add_source(engine, "Wire", articles=3)
    quiet = add_source(engine, "Quiet", articles=0)

    assert main(["sources", "list"]) == 0

    assert capsys.readouterr().out == (
        f"#{wire}\tfeed\t3 article(s)\tWire\thttps://news.example/Wire.xml\n"
        f"#{quiet}\tfeed\t0 article(s)\tQuiet\thttps://news.example/Quiet.xml\n"
    )


def test_a_removed_source_is_no_longer_listed_and_cannot_be_removed_again(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    wire = add_source(engine, "Wire", articles=2)
    kept = add_source(engine, "Kept", articles=1)

    assert main(["sources", "remove", f"#{wire}"]) == 0
    assert main(["sources", "remove", str(wire)]) == 1
    assert main(["sources", "list"]) == 0

    out, err = capsys.readouterr()
    assert out == (
        f"Removed source #{wire} (Wire); its articles stay in the archive.\n"
        f"#{kept}\tfeed\t1 article(s)\tKept\thttps://news.example/Kept.xml\n"
    )
    assert err == (
        f"parley: There is no active source #{wire}; `parley sources list` lists them.\n"
    )
    with session_factory(engine)() as session:
        assert [source.id for source in sources.active_sources(session)] == [kept]
        assert session.get(Article, 1) is not None  # its articles stay


def test_the_bot_and_the_command_list_the_same_sources(engine: Engine) -> None:
    add_source(engine, "Wire", articles=2)
    add_source(engine, "Other", articles=1)

    with session_factory(engine)() as session, engine.connect() as connection:
        assert sources.active_sources(session) == sources.active_sources(connection)


@pytest.mark.sqlite_only
def test_sqlites_own_driver_lists_and_removes_as_sqlalchemy_does(
    engine: Engine, settings: Settings
) -> None:
    wire = add_source(engine, "Wire", articles=2)
    add_source(engine, "Other", articles=1)
    driver = sqlite_file.open_at_head(settings.database_url)
    assert driver is not None

    with driver, engine.connect() as connection:
        assert sources.active_sources(driver) == sources.active_sources(connection)
        assert stop_following(driver, source_id=wire) == RemovedSource(wire, "Wire")
        assert stop_following(driver, source_id=wire) is None
    driver.close()

    with session_factory(engine)() as session:
        assert [source.name for source in sources.active_sources(session)] == ["Other"]


def test_listing_an_archive_older_than_parley_upgrades_it_first(
    settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_database_engine(settings.database_url)
    upgrade_database(engine, "0014")  # an older archive, left empty: the models may not fit it

    assert main(["sources", "list"]) == 0

    assert capsys.readouterr().out == "No sources yet.\n"
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.sqlite_only
def test_a_removal_the_archive_refuses_is_one_line_and_changes_nothing(
    engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    wire = add_source(engine, "Wire", articles=1)
    with engine.begin() as connection:
        connection.exec_driver_sql(
            "CREATE TRIGGER keep_sources BEFORE UPDATE OF active ON sources "
            "BEGIN SELECT RAISE(ABORT, 'sources are kept'); END"
        )

    assert main(["sources", "remove", str(wire)]) == 1

    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(
        "parley: database error: IntegrityError: (sqlite3.IntegrityError) sources are kept\n"
    )
    with session_factory(engine)() as session:
        assert [source.id for source in sources.active_sources(session)] == [wire]
