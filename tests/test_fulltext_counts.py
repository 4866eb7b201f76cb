"""SQLite full-text counts: the number of passages, and each term's document frequency,
remembered only while the index holds the same passages."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from storage.db import create_database_engine, session_factory, upgrade_database
from storage.fulltext import SqliteFullTextIndex


def empty_archive(tmp_path: Path) -> Session:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    upgrade_database(engine)
    return session_factory(engine)()


def test_the_passage_count_follows_adds_and_deletes(tmp_path: Path) -> None:
    session = empty_archive(tmp_path)
    index = SqliteFullTextIndex()
    assert index.passage_count(session) == 0

    index.add(session, [(number, f"talks round{number % 7}") for number in range(1, 20_001)])
    session.commit()
    assert index.passage_count(session) == 20_000  # three bytes of varint

    session.execute(text("DELETE FROM passage_terms WHERE rowid <= 150"))
    session.commit()
    assert index.passage_count(session) == 19_850


def test_remembered_frequencies_are_counted_again_once_passages_change(tmp_path: Path) -> None:
    session = empty_archive(tmp_path)
    index = SqliteFullTextIndex()
    index.add(session, [(1, "ceasefire istanbul"), (2, "ceasefire geneva")])
    session.commit()
    assert index.document_frequencies(session, ["ceasefire", "geneva", "doha"]) == {
        "ceasefire": 2,
        "geneva": 1,
        "doha": 0,
    }

    index.add(session, [(3, "ceasefire doha")])
    session.commit()
    assert index.document_frequencies(session, ["ceasefire", "doha"]) == {"ceasefire": 3, "doha": 1}

    session.execute(text("DELETE FROM passage_terms WHERE rowid = 1"))
    session.commit()
    assert index.document_frequencies(session, ["ceasefire", "istanbul"]) == {
        "ceasefire": 2,
        "istanbul": 0,
    }
    assert index.affordable_terms(session, ["istanbul", "doha", "ceasefire"]) == [
        "doha",
        "ceasefire",
    ]


def test_another_index_object_sees_what_one_added(tmp_path: Path) -> None:
    session = empty_archive(tmp_path)
    reader, writer = SqliteFullTextIndex(), SqliteFullTextIndex()
    writer.add(session, [(1, "medinsky")])
    session.commit()
    assert reader.document_frequencies(session, ["medinsky"]) == {"medinsky": 1}

    writer.add(session, [(2, "medinsky fomin")])
    session.commit()

    assert reader.document_frequencies(session, ["medinsky", "fomin"]) == {
        "medinsky": 2,
        "fomin": 1,
    }
