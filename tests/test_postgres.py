"""The PostgreSQL backend: full-text ranking like FTS5's, time zones, and passwords in URLs."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import quote

import pytest
from sqlalchemy import Engine, create_engine, inspect, select, text
from sqlalchemy.engine import make_url

from knowledge.terms import index_terms
from parley.logs import Redactor, secrets_in
from parley.settings import Settings
from storage.db import create_database_engine, session_factory, upgrade_database
from storage.fulltext import FullTextIndex, fulltext_index_for
from storage.fulltext_postgres import PostgresFullTextIndex, tsvector_literal
from storage.models import Source
from tests.support.postgres import PASSWORD, PostgresServer

PASSAGES = {
    1: "Medinsky led the Russian delegation to Istanbul.",
    2: "The delegation met in Istanbul; the delegation talked for two hours in Istanbul.",
    3: "Zelensky said Ukraine wants a ceasefire before any talks.",
    4: "Prisoners were exchanged after the talks, a thousand for a thousand.",
    5: "Erdoğan hosted the talks at the Dolmabahçe palace, with President Erdogan's aides.",
}
QUESTIONS = ["delegation Istanbul", "talks ceasefire", "thousand prisoners", "Erdogan palace"]
# FTS5's tokenizer cuts this term in two ("o", "brien"), so it has no place in a comparison.
APOSTROPHE = "O'Brien’s résumé was read out at the talks."


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


def archive(url: str) -> tuple[Engine, FullTextIndex]:
    """An upgraded database holding PASSAGES and their search terms."""
    engine = create_database_engine(url)
    upgrade_database(engine)
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO sources (id, name, kind, active, created_at, failures) "
                "VALUES (1, 'Reuters', 'file', true, '2025-05-15', 0)"
            )
        )
        connection.execute(
            text(
                "INSERT INTO articles (id, source_id, url, title, text, content_hash, "
                "ingested_at) VALUES (1, 1, '/a.txt', 'Talks', 'x', 'h', '2025-05-15')"
            )
        )
        connection.execute(
            text("INSERT INTO passages (id, article_id, position, text) VALUES (:id, 1, :id, :t)"),
            [{"id": key, "t": body} for key, body in PASSAGES.items()],
        )
    fulltext = fulltext_index_for(engine)
    with session_factory(engine).begin() as session:
        fulltext.add(session, [(key, index_terms(body)) for key, body in PASSAGES.items()])
    return engine, fulltext


def test_postgresql_ranks_and_counts_terms_exactly_as_sqlite_fts5_does(
    postgres_url: str, tmp_path: Path
) -> None:
    sqlite_engine, sqlite_index = archive(f"sqlite:///{tmp_path / 'parley.db'}")
    postgres_engine, postgres_index = archive(postgres_url)
    assert isinstance(postgres_index, PostgresFullTextIndex)

    with session_factory(sqlite_engine)() as lite, session_factory(postgres_engine)() as pg:
        assert postgres_index.passage_count(pg) == sqlite_index.passage_count(lite) == 5
        for question in QUESTIONS:
            terms = index_terms(question).split()
            expected = sqlite_index.search(lite, terms, 10)
            found = postgres_index.search(pg, terms, 10)
            assert [key for key, _ in found] == [key for key, _ in expected], question
            assert [score for _, score in found] == pytest.approx(
                [score for _, score in expected], rel=1e-6
            )
        plain = ["deleg", "istanbul", "talk", "nowher"]
        assert postgres_index.document_frequencies(pg, plain) == (
            sqlite_index.document_frequencies(lite, plain)
        )


def test_postgresql_keeps_terms_as_they_are_and_forgets_them_with_their_passage(
    postgres_url: str,
) -> None:
    engine, fulltext = archive(postgres_url)
    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO passages (id, article_id, position, text) VALUES (6, 1, 6, :t)"),
            {"t": APOSTROPHE},
        )
    with session_factory(engine).begin() as session:
        fulltext.add(session, [(6, index_terms(APOSTROPHE))])

    with session_factory(engine)() as session:
        # Apostrophes, a backslash and a colon are term characters, never tsvector syntax.
        assert fulltext.document_frequencies(session, ["o'brien", "erdogan", "a\\b:c"]) == {
            "o'brien": 1,
            "erdogan": 1,
            "a\\b:c": 0,
        }
        assert [key for key, _ in fulltext.search(session, ["o'brien"], 5)] == [6]
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM articles"))
    with session_factory(engine)() as session:
        assert fulltext.passage_count(session) == 0
        assert fulltext.search(session, ["deleg"], 5) == []


def test_a_term_repeated_past_postgresql_limits_is_still_indexed(postgres_url: str) -> None:
    engine, fulltext = archive(postgres_url)
    many = " ".join(["ceasefir"] * 20_000 + ["x" * 3000])

    with engine.begin() as connection:
        connection.execute(
            text("INSERT INTO passages (id, article_id, position, text) VALUES (7, 1, 7, 'x')")
        )
    with session_factory(engine).begin() as session:
        fulltext.add(session, [(7, many)])
    with session_factory(engine)() as session:
        assert fulltext.document_frequencies(session, ["ceasefir"]) == {"ceasefir": 2}

    assert tsvector_literal("a b a") == "'a':1,3 'b':2"


@pytest.mark.both_databases
def test_times_are_stored_as_utc_and_read_back_unchanged(database_url: str) -> None:
    engine = create_database_engine(database_url)
    upgrade_database(engine)
    naive = datetime(2025, 5, 15, 23, 30)
    kyiv = datetime(2025, 5, 16, 2, 30, tzinfo=timezone(timedelta(hours=3)))

    with session_factory(engine).begin() as session:
        session.add_all(
            [
                Source(id=1, name="naive", kind="file", created_at=naive),
                Source(id=2, name="aware", kind="file", created_at=kyiv),
            ]
        )
    with session_factory(engine)() as session:
        stored = session.scalars(select(Source.created_at).order_by(Source.id)).all()

    assert stored == [naive, datetime(2025, 5, 15, 23, 30)]


def test_postgresql_holds_instants_whatever_the_session_time_zone(postgres_url: str) -> None:
    engine = create_database_engine(postgres_url)
    upgrade_database(engine)
    moment = datetime(2025, 5, 15, 23, 30)
    with session_factory(engine).begin() as session:
        session.add(Source(id=1, name="Reuters", kind="file", created_at=moment))
    tokyo = create_engine(
        make_url(postgres_url), connect_args={"options": "-c TimeZone=Asia/Tokyo"}
    )

    with session_factory(tokyo)() as session:
        assert session.scalar(select(Source.created_at)) == moment
        instant = session.scalar(text("SELECT created_at FROM sources"))
    columns = {column["name"]: column for column in inspect(engine).get_columns("articles")}

    assert instant == moment.replace(tzinfo=UTC)
    assert getattr(columns["ingested_at"]["type"], "timezone", False) is True
    tokyo.dispose()


def test_a_password_with_percent_and_at_signs_connects_and_never_reaches_the_logs(
    postgres_url: str,
) -> None:
    assert make_url(postgres_url).password == PASSWORD  # "%" and "@" and "/" and ":"
    engine = create_database_engine(postgres_url)
    upgrade_database(engine)  # Alembic too reads the URL without choking on "%"
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    settings = Settings(_env_file=None, database_url=postgres_url)  # type: ignore[call-arg]
    handler.addFilter(Redactor(secrets_in(settings)))
    logger = logging.getLogger("parley.test_postgres")
    logger.addHandler(handler)
    try:
        logger.warning("database: %s", postgres_url)
        logger.warning("as typed: %s", postgres_url.replace(quote(PASSWORD, safe=""), PASSWORD))
        try:
            create_engine(make_url(postgres_url).set(database="missing")).connect()
        except Exception:
            logger.exception("could not connect to %s", postgres_url)
    finally:
        logger.removeHandler(handler)

    logged = stream.getvalue()
    assert "could not connect" in logged and "missing" in logged
    assert PASSWORD not in logged
    assert quote(PASSWORD, safe="") not in logged
    assert "w0rd" not in logged
