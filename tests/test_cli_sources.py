"""`parley sources list|remove` on an archive that has sources and articles, on SQLite and on
PostgreSQL: the lines an operator reads, and the same sources the bot lists."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from parley.cli import main
from parley.settings import Settings
from storage import sources
from storage.db import create_database_engine, session_factory, upgrade_database
from storage.models import Article, Base, utcnow
from storage.source_listing import ARTICLES, SOURCES

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


def test_the_listing_reads_columns_the_models_define() -> None:
    for listed in (SOURCES, ARTICLES):
        table = Base.metadata.tables[listed.name]
        assert {column.name for column in listed.columns} <= set(table.columns.keys())
