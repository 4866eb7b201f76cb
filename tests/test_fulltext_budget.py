"""SQLite full-text search scores only the rarest terms' passages, within a budget."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text
from sqlalchemy.orm import Session

from storage.db import create_database_engine, session_factory, upgrade_database
from storage.fulltext import SqliteFullTextIndex


def archive_session(tmp_path: Path, entries: list[tuple[int, str]]) -> Session:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    upgrade_database(engine)
    session = session_factory(engine)()
    SqliteFullTextIndex().add(session, entries)
    session.commit()
    return session


def test_a_rare_word_finds_its_passage_though_the_common_words_exceed_the_budget(
    tmp_path: Path,
) -> None:
    entries = [(number, "talks delegation ceasefire") for number in range(1, 301)]
    entries.append((301, "talks delegation medinsky"))
    session = archive_session(tmp_path, entries)
    index = SqliteFullTextIndex(postings_budget=100)

    found = index.search(session, ["talks", "delegation", "medinsky"], 5)

    assert found[0][0] == 301
    assert index.affordable_terms(session, ["talks", "delegation", "medinsky"]) == ["medinsky"]


def test_the_rarest_word_is_searched_even_when_it_alone_exceeds_the_budget(
    tmp_path: Path,
) -> None:
    session = archive_session(tmp_path, [(number, "talks istanbul") for number in range(1, 51)])
    index = SqliteFullTextIndex(postings_budget=10)

    found = index.search(session, ["talks", "istanbul", "unheard"], 100)

    assert len(found) == 50


def test_within_the_budget_every_word_counts(tmp_path: Path) -> None:
    session = archive_session(
        tmp_path, [(1, "ceasefire istanbul"), (2, "ceasefire geneva"), (3, "prisoners geneva")]
    )
    index = SqliteFullTextIndex()

    found = [passage_id for passage_id, _ in index.search(session, ["ceasefire", "geneva"], 5)]

    assert found[0] == 2 and set(found) == {1, 2, 3}


def test_a_word_unknown_when_first_asked_is_found_once_an_article_brings_it(
    tmp_path: Path,
) -> None:
    session = archive_session(tmp_path, [(1, "talks istanbul")])
    index = SqliteFullTextIndex()
    assert index.search(session, ["medinsky"], 5) == []

    index.add(session, [(2, "medinsky istanbul")])
    session.commit()

    assert [passage_id for passage_id, _ in index.search(session, ["medinsky"], 5)] == [2]


def test_scoring_the_rarest_words_passages_first_ranks_as_one_search_over_every_word(
    tmp_path: Path,
) -> None:
    entries = [(number, "talks delegation " * (1 + number % 3)) for number in range(1, 401)]
    entries += [
        (1000 + number, "medinsky " * (1 + number % 4) + "talks " * (number % 2) + "x " * number)
        for number in range(1, 61)
    ]
    session = archive_session(tmp_path, entries)
    searched: list[str] = []

    @event.listens_for(session.get_bind(), "before_cursor_execute")
    def remember(conn: object, cursor: object, statement: str, parameters: Any, *_: object) -> None:
        if "MATCH" in statement:
            searched.append(str(parameters))

    found = SqliteFullTextIndex().search(session, ["talks", "medinsky"], 10)

    every_word = session.execute(
        text(
            "SELECT rowid, bm25(passage_terms) AS rank FROM passage_terms "
            'WHERE passage_terms MATCH \'"medinsky" OR "talks"\' ORDER BY rank LIMIT 10'
        )
    ).all()
    assert found == [(int(row.rowid), -float(row.rank)) for row in every_word]
    assert any('("medinsky") AND ("talks")' in query for query in searched)  # not every "talks"


def test_a_rarest_word_beyond_the_rarest_budget_leaves_the_question_to_the_dense_search(
    tmp_path: Path,
) -> None:
    session = archive_session(tmp_path, [(number, "talks istanbul") for number in range(1, 51)])
    index = SqliteFullTextIndex(rarest_budget=49)

    assert index.search(session, ["talks", "istanbul"], 10) == []
    assert SqliteFullTextIndex(rarest_budget=50).search(session, ["istanbul"], 100) != []


@pytest.mark.parametrize("limit", [1, 5, 20, 200])
def test_three_words_searched_a_word_at_a_time_rank_as_one_search_over_every_word(
    tmp_path: Path, limit: int
) -> None:
    words = ["medinsky", "delegation", "talks"]  # rare, less rare, common
    entries = []
    for number in range(1, 301):
        times = (number % 4 if number % 7 == 0 else 0, number % 3, number // 3 % 5)
        held = [word for word, count in zip(words, times, strict=True) for _ in range(count)]
        entries.append((number, " ".join(held + ["x"] * number)))  # every length its own
    session = archive_session(tmp_path, entries)

    found = SqliteFullTextIndex().search(session, words, limit)

    every_word = session.execute(
        text(
            "SELECT rowid, bm25(passage_terms) AS rank FROM passage_terms "
            'WHERE passage_terms MATCH \'"medinsky" OR "delegation" OR "talks"\' '
            "ORDER BY rank, rowid LIMIT :limit"
        ),
        {"limit": limit},
    ).all()
    assert [passage_id for passage_id, _ in found] == [int(row.rowid) for row in every_word]
    assert [score for _, score in found] == pytest.approx([-row.rank for row in every_word])


def page_cache_kib(session: Session) -> int:
    return -int(session.execute(text("PRAGMA cache_size")).scalar_one())


def test_a_connection_that_searched_keeps_a_million_passages_lengths_in_its_page_cache(
    tmp_path: Path,
) -> None:
    session = archive_session(tmp_path, [(1, "talks medinsky"), (2, "talks fomin")])
    before = page_cache_kib(session)

    SqliteFullTextIndex().search(session, ["medinsky"], 10)

    assert before < 10 * 1024 <= page_cache_kib(session)  # FTS5's docsize at 1M: 10 MiB
    session.close()  # back to the pool: the connection's next session keeps the cache
    assert page_cache_kib(session) >= 10 * 1024
