"""Full-text search over passages' terms, behind one small interface.

SQLite's FTS5 lives here and nowhere else, so a PostgreSQL backend (tsvector) can take
its place without the rest of Parley noticing.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence
from typing import Protocol

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from storage.db import is_postgresql, is_sqlite
from storage.fulltext_postgres import PostgresFullTextIndex


class FullTextIndex(Protocol):
    """Ranked keyword search over passages, with term statistics."""

    def add(self, session: Session, entries: Iterable[tuple[int, str]]) -> None:
        """Index (passage id, space-separated terms) pairs inside the session's transaction."""

    def search(self, session: Session, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        """Passage ids matching any term, best first, with a score where higher is better."""

    def document_frequencies(self, session: Session, terms: Sequence[str]) -> dict[str, int]:
        """How many passages contain each term."""

    def passage_count(self, session: Session) -> int:
        """How many passages are indexed."""


# Passages a search may score: 50,000 keeps 97% of the full query's top 10 at 100k passages
# at a third of its p95 (measured; bench/retrieval.py's "FTS5 alone").
POSTINGS_BUDGET = 50_000
MAX_REMEMBERED_TERMS = 100_000
# FTS5's bm25() parameters (its defaults): the highest score one term can add is bounded by them.
BM25_K1 = 1.2


class SqliteFullTextIndex:
    """FTS5 with BM25 ranking over lemmatised terms."""

    def add(self, session: Session, entries: Iterable[tuple[int, str]]) -> None:
        rows = [{"id": passage_id, "terms": terms} for passage_id, terms in entries]
        if rows:
            session.execute(
                text("INSERT INTO passage_terms (rowid, terms) VALUES (:id, :terms)"), rows
            )

    def __init__(self, *, postings_budget: int = POSTINGS_BUDGET) -> None:
        self.postings_budget = postings_budget
        # Document frequencies asked for, remembered while the index holds the same
        # passages: FTS5 counts a term by reading its whole posting list (70 ms for a term
        # in 900,000 passages at 1M), and every answer asks for its terms' counts.
        self._lengths: dict[str, int] = {}
        self._version: bytes | None = None  # the averages record they were counted under
        self._lock = threading.Lock()

    def search(self, session: Session, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        chosen = self.affordable_terms(session, terms)
        if not chosen:
            return []
        return self._ranked_by_rarest(session, chosen, limit) or _ranked(
            session, _match_expression(chosen), limit
        )

    def _ranked_by_rarest(
        self, session: Session, chosen: Sequence[str], limit: int
    ) -> list[tuple[int, float]] | None:
        """The same best `limit` as one search over all the `chosen` terms (rarest first),
        found by scoring only the passages that hold one of the rarest, when that can be
        shown: a passage without any of them scores at most what the other terms can add
        (idf x (k1 + 1) each), and the `limit`th found scores more. FTS5 scores each
        passage it matches at ~3 us, so the common terms' postings are what costs; None
        when it cannot be shown cheaply."""
        lengths = self.document_frequencies(session, chosen)
        passages = self.passage_count(session)
        ceilings = [(BM25_K1 + 1.0) * _fts5_idf(passages, lengths[term]) for term in chosen]
        covered = 0
        for split in range(1, len(chosen)):
            covered += lengths[chosen[split - 1]]
            if covered < limit:
                continue
            if covered > self.postings_budget // 4:
                return None  # as dear as the whole search
            rare = _match_expression(chosen[:split])
            common = _match_expression(chosen[split:])
            # Passages with rare terms alone score the same in both searches; the ones that
            # also hold common terms score right only in the second, which replaces them.
            scores = dict(_ranked(session, rare, limit))
            scores.update(_ranked(session, f"({rare}) AND ({common})", limit))
            best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
            if len(best) == limit and best[-1][1] > sum(ceilings[split:]) * (1 + 1e-9):
                return best
        return None

    def affordable_terms(self, session: Session, terms: Sequence[str]) -> list[str]:
        """The rarest terms whose posting lists together fit the budget (the rarest found
        always). FTS5 scores every passage that matches any term, each with a lookup of its
        length, so a term in 100,000 passages costs 200 ms at 1M passages, while BM25 ranks
        by the rare terms: those are the ones searched."""
        lengths = self.document_frequencies(session, [term for term in terms if term])
        chosen: list[str] = []
        total = 0
        found = {term for term, length in lengths.items() if length}  # others match nothing
        for term in sorted(found, key=lambda t: (lengths[t], t)):
            length = lengths[term]
            if chosen and total + length > self.postings_budget:
                break
            chosen.append(term)
            total += length
        return chosen

    def document_frequencies(self, session: Session, terms: Sequence[str]) -> dict[str, int]:
        unique = sorted(set(terms))
        if not unique:
            return {}
        version = _averages_record(session)
        with self._lock:
            if version != self._version or len(self._lengths) > MAX_REMEMBERED_TERMS:
                self._lengths.clear()  # passages came or went: every count may have moved
                self._version = version
            known = {term: self._lengths[term] for term in unique if term in self._lengths}
        missing = [term for term in unique if term not in known]
        if missing:
            counted = _count_documents(session, missing)
            known.update(counted)
            with self._lock:
                if self._version == version:
                    self._lengths.update(counted)
        return {term: known[term] for term in unique}

    def passage_count(self, session: Session) -> int:
        # The averages record starts with the number of documents: one row read, where
        # counting the docsize table's rows took 11 ms at 1M passages.
        record = _averages_record(session)
        if record:
            return _varint(record)
        return int(session.execute(text("SELECT count(*) FROM passage_terms_docsize")).scalar_one())


def _ranked(session: Session, query: str, limit: int) -> list[tuple[int, float]]:
    """FTS5's best `limit` passages for a MATCH expression, with their BM25 scores."""
    rows = session.execute(
        text(
            "SELECT rowid, bm25(passage_terms) AS rank FROM passage_terms "
            "WHERE passage_terms MATCH :query ORDER BY rank LIMIT :limit"
        ),
        {"query": query, "limit": limit},
    ).all()
    # FTS5's bm25() is negative, lower is better: flip it so higher is better.
    return [(int(row.rowid), -float(row.rank)) for row in rows]


def _fts5_idf(passages: int, holding: int) -> float:
    """A term's inverse document frequency as FTS5's bm25() computes it."""
    return max(math.log((passages - holding + 0.5) / (holding + 0.5)), 1e-6)


def _count_documents(session: Session, terms: Sequence[str]) -> dict[str, int]:
    """How many passages hold each term (0 for terms in none), asked of FTS5."""
    placeholders = ", ".join(f":t{i}" for i in range(len(terms)))
    rows = session.execute(
        text(f"SELECT term, doc FROM passage_terms_vocabulary WHERE term IN ({placeholders})"),
        {f"t{i}": term for i, term in enumerate(terms)},
    ).all()
    found = {str(row.term): int(row.doc) for row in rows}
    return {term: found.get(term, 0) for term in terms}


def _averages_record(session: Session) -> bytes | None:
    """FTS5's averages record (row 1 of its data table: the number of documents and of
    tokens, as varints). Every passage added or removed rewrites it, so it tells whether
    remembered counts still hold, in one indexed read."""
    record = session.execute(
        text("SELECT block FROM passage_terms_data WHERE id = 1")
    ).scalar_one_or_none()
    return bytes(record) if record is not None else None


def _varint(data: bytes) -> int:
    """The SQLite varint at the start of `data` (7 bits a byte, high bit: more follow; the
    ninth byte gives all 8 bits), the format FTS5 writes its records in."""
    value = 0
    for position, byte in enumerate(data[:9]):
        if position == 8:
            return (value << 8) | byte
        value = (value << 7) | (byte & 0x7F)
        if byte < 0x80:
            break
    return value


def _match_expression(terms: Sequence[str]) -> str:
    """An FTS5 query matching any of the terms, each quoted so no term reads as syntax."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in dict.fromkeys(terms) if term]
    return " OR ".join(quoted)


def fulltext_index_for(engine: Engine) -> FullTextIndex:
    """The full-text index that fits the engine's database."""
    if is_sqlite(engine):
        return SqliteFullTextIndex()
    if is_postgresql(engine):
        return PostgresFullTextIndex()
    raise NotImplementedError(
        f"Full-text search is not available for {engine.dialect.name}; use SQLite or PostgreSQL."
    )
