"""SQLite full-text counts: the number of passages, and each term's document frequency,
stored beside the index in the transactions that change it (or, when the index was written
around them, counted by FTS5 and remembered only while it holds the same passages)."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from bench.archive import ensure_archive
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


def store_passages(session: Session, terms_by_passage: dict[int, str], *, article_id: int) -> None:
    """An article's passages, written as ingest writes them, with their terms indexed."""
    session.execute(
        text(
            "INSERT OR IGNORE INTO sources (id, name, kind, active, created_at, failures) "
            "VALUES (1, 'Reuters', 'file', true, '2025-05-15', 0)"
        )
    )
    session.execute(
        text(
            "INSERT INTO articles (id, source_id, url, title, text, content_hash, ingested_at) "
            "VALUES (:id, 1, :url, 'Talks', 'Body', :hash, '2025-05-15')"
        ),
        {"id": article_id, "url": f"/{article_id}.txt", "hash": f"h{article_id}"},
    )
    for position, passage_id in enumerate(terms_by_passage):
        session.execute(
            text(
                "INSERT INTO passages (id, article_id, position, text) "
                "VALUES (:id, :article, :position, 'Body')"
            ),
            {"id": passage_id, "article": article_id, "position": position},
        )
    SqliteFullTextIndex().add(session, terms_by_passage.items())
    session.commit()


def posting_lists_read(session: Session) -> list[str]:
    """The statements that will count terms by reading FTS5's posting lists."""
    read: list[str] = []

    @event.listens_for(session.get_bind(), "before_cursor_execute")
    def remember(conn: object, cursor: object, statement: str, *_: object) -> None:
        if "passage_terms_vocabulary" in statement:
            read.append(statement)

    return read


def vocabulary_counts(session: Session, terms: list[str]) -> dict[str, int]:
    rows = session.execute(text("SELECT term, doc FROM passage_terms_vocabulary")).all()
    found = {str(row.term): int(row.doc) for row in rows}
    return {term: found.get(term, 0) for term in terms}


def test_stored_counts_follow_articles_stored_and_deleted_without_reading_posting_lists(
    tmp_path: Path,
) -> None:
    session = empty_archive(tmp_path)
    store_passages(session, {1: "ceasefire istanbul", 2: "ceasefire geneva"}, article_id=1)
    store_passages(session, {3: "ceasefire doha doha", 4: "prisoners"}, article_id=2)
    index = SqliteFullTextIndex()
    terms = ["ceasefire", "istanbul", "geneva", "doha", "prisoners", "absent"]
    read = posting_lists_read(session)
    assert index.document_frequencies(session, terms) == {
        "ceasefire": 3, "istanbul": 1, "geneva": 1, "doha": 1, "prisoners": 1, "absent": 0,
    }  # fmt: skip

    session.execute(text("DELETE FROM articles WHERE id = 1"))  # its passages go by cascade
    session.commit()

    after = index.document_frequencies(session, terms)
    assert read == []
    assert after == vocabulary_counts(session, terms)
    assert after["ceasefire"] == 1 and after["istanbul"] == 0


def test_a_term_with_an_apostrophe_is_counted_as_fts5_parts_it(tmp_path: Path) -> None:
    session = empty_archive(tmp_path)
    store_passages(session, {1: "o'brien talks", 2: "o’neil talks"}, article_id=1)
    index = SqliteFullTextIndex()
    terms = ["o'brien", "o", "brien", "neil", "talks"]
    assert index.document_frequencies(session, terms) == vocabulary_counts(session, terms)

    session.execute(text("DELETE FROM passages WHERE id = 1"))
    session.commit()

    assert index.document_frequencies(session, terms) == vocabulary_counts(session, terms)
    assert index.document_frequencies(session, ["o", "brien"]) == {"o": 1, "brien": 0}


def test_terms_indexed_around_the_stored_counts_are_counted_from_the_index(
    tmp_path: Path,
) -> None:
    session = empty_archive(tmp_path)
    store_passages(session, {1: "ceasefire istanbul"}, article_id=1)
    session.execute(text("INSERT INTO passage_terms (rowid, terms) VALUES (2, 'ceasefire doha')"))
    session.commit()

    assert SqliteFullTextIndex().document_frequencies(session, ["ceasefire", "doha"]) == {
        "ceasefire": 2,
        "doha": 1,
    }


def test_upgrading_counts_the_terms_already_indexed(tmp_path: Path) -> None:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    upgrade_database(engine, "0015")
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO passage_terms (rowid, terms) "
                "VALUES (1, 'talks istanbul'), (2, 'talks')"
            )
        )
    upgrade_database(engine)
    session = session_factory(engine)()
    read = posting_lists_read(session)

    counts = SqliteFullTextIndex().document_frequencies(session, ["talks", "istanbul"])

    assert counts == {"talks": 2, "istanbul": 1} and read == []


def test_a_benchmark_archive_is_built_with_its_term_counts(tmp_path: Path) -> None:
    built = ensure_archive(500, tmp_path, lambda _: None)  # written around the index's add
    session = session_factory(create_database_engine(built.url))()
    rows = session.execute(text("SELECT term, doc FROM passage_terms_vocabulary")).all()
    indexed = {str(row.term): int(row.doc) for row in rows}
    read = posting_lists_read(session)

    counts = SqliteFullTextIndex().document_frequencies(session, list(indexed))

    assert counts == indexed and read == []
