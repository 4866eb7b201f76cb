"""Full-text search over passages' terms, behind one small interface.

SQLite's FTS5 lives here and nowhere else, so a PostgreSQL backend (tsvector) can take
its place without the rest of Parley noticing.
"""

from __future__ import annotations

import math
import re
import threading
from collections import Counter
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
# A question whose rarest term is in more passages than this gets no full-text search (its
# dense search still runs): scoring them alone would take ~60 ms, and a term that common
# barely ranks them. Retrieval searches terms in under a fifth of the passages, so this
# changes nothing up to 100,000 passages; at 1M, the passages read for 8 of 60 benchmark
# questions (their top 8 shares 0.933 with the full search's).
RAREST_BUDGET = 20_000
MAX_REMEMBERED_TERMS = 100_000
SEARCH_PAGE_CACHE_KIB = 16 * 1024  # a searching connection's (see _keep_lengths_cached)
_LENGTHS_CACHED = "parley_fulltext_page_cache"  # marks such a connection (Connection.info)
# FTS5's bm25() parameters (its defaults): the highest score one term can add is bounded by them.
BM25_K1 = 1.2
# What parts a passage's terms when they are counted (migration 0016's trigger parts them alike).
TERM_SEPARATORS = re.compile("[ '\u2019\t\n\r]")
_COUNTED = ""  # the row of passage_term_counts that holds how many passages were counted
# Counting every term again from the index (what migration 0016 does once): for a writer
# that indexes passages around SqliteFullTextIndex.add, such as the benchmark's archive builder.
RECOUNT_STATEMENTS = (
    "DELETE FROM passage_term_counts",
    "INSERT INTO passage_term_counts (term, passages) "
    "SELECT term, doc FROM passage_terms_vocabulary WHERE term <> ''",
    "INSERT INTO passage_term_counts (term, passages) SELECT '', count(*) FROM passage_terms",
)
_ADD_COUNTS = text(
    "INSERT INTO passage_term_counts (term, passages) VALUES (:term, :passages) "
    "ON CONFLICT (term) DO UPDATE SET passages = passages + excluded.passages"
)


class SqliteFullTextIndex:
    """FTS5 with BM25 ranking over lemmatised terms."""

    def add(self, session: Session, entries: Iterable[tuple[int, str]]) -> None:
        indexed = list(entries)
        if not indexed:
            return
        session.execute(
            text("INSERT INTO passage_terms (rowid, terms) VALUES (:id, :terms)"),
            [{"id": passage_id, "terms": terms} for passage_id, terms in indexed],
        )
        # Counted in the same transaction, so the counts always match the passages indexed.
        counts = Counter(term for _, terms in indexed for term in counted_terms(terms))
        counts[_COUNTED] = len(indexed)
        session.execute(_ADD_COUNTS, [{"term": t, "passages": n} for t, n in counts.items()])

    def __init__(
        self, *, postings_budget: int = POSTINGS_BUDGET, rarest_budget: int = RAREST_BUDGET
    ) -> None:
        self.postings_budget = postings_budget
        self.rarest_budget = rarest_budget
        # When the stored counts do not cover the index (it was written around them),
        # document frequencies asked for are remembered while the index holds the same
        # passages: FTS5 counts a term by reading its whole posting list (70 ms for a term
        # in 900,000 passages at 1M), and every answer asks for its terms' counts.
        self._lengths: dict[str, int] = {}
        self._version: bytes | None = None  # the averages record they were counted under
        self._lock = threading.Lock()

    def search(self, session: Session, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        passages, lengths = self._statistics(session, [term for term in terms if term])
        chosen = self._affordable(lengths)
        if not chosen:
            return []
        _keep_lengths_cached(session)
        return self._ranked_by_rarest(session, chosen, lengths, passages, limit)

    def _ranked_by_rarest(
        self,
        session: Session,
        chosen: Sequence[str],
        lengths: dict[str, int],
        passages: int,
        limit: int,
    ) -> list[tuple[int, float]]:
        """The same best `limit` as one search over all the `chosen` terms (rarest first),
        found a term at a time: first the passages holding the rarest, then those holding
        the next but not the rarest, and so on, each passage scored once. It stops as soon
        as the `limit`th found outscores any passage still unseen, which holds only the
        terms not yet searched and scores at most what they can add (idf x (k1 + 1) each).
        FTS5 scores each passage it matches at ~3 us, so the common terms' postings are
        what costs, and they come last."""
        ceilings = [(BM25_K1 + 1.0) * _fts5_idf(passages, lengths[term]) for term in chosen]
        scores: dict[int, float] = {}
        best: list[tuple[int, float]] = []
        for position, term in enumerate(chosen):
            earlier, later = chosen[:position], chosen[position + 1 :]
            holding = _match_expression([term])
            if earlier:
                holding = f"{holding} NOT ({_match_expression(earlier)})"
            # A NOT'ed or absent term adds nothing to bm25(), so these passages score as in
            # one search over every term, except those also holding later terms: the second
            # search scores them with those terms too, and replaces them.
            scores.update(_ranked(session, holding, limit))
            if later:
                scores.update(
                    _ranked(session, f"({holding}) AND ({_match_expression(later)})", limit)
                )
            best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
            if len(best) == limit and best[-1][1] > sum(ceilings[position + 1 :]) * (1 + 1e-9):
                break
        return best

    def affordable_terms(self, session: Session, terms: Sequence[str]) -> list[str]:
        """The rarest terms whose posting lists together fit the budget (the rarest found
        always, unless it alone is beyond the rarest's budget: then none). FTS5 scores every
        passage that matches any term, each with a lookup of its length, so a term in
        100,000 passages costs 200 ms at 1M passages, while BM25 ranks by the rare terms:
        those are the ones searched."""
        return self._affordable(
            self.document_frequencies(session, [term for term in terms if term])
        )

    def _affordable(self, lengths: dict[str, int]) -> list[str]:
        chosen: list[str] = []
        total = 0
        found = {term for term, length in lengths.items() if length}  # others match nothing
        for term in sorted(found, key=lambda t: (lengths[t], t)):
            length = lengths[term]
            if chosen and total + length > self.postings_budget:
                break
            if not chosen and length > self.rarest_budget:
                break
            chosen.append(term)
            total += length
        return chosen

    def document_frequencies(self, session: Session, terms: Sequence[str]) -> dict[str, int]:
        return self._statistics(session, terms)[1] if terms else {}

    def _statistics(self, session: Session, terms: Sequence[str]) -> tuple[int, dict[str, int]]:
        """How many passages are indexed, and how many hold each term. The averages record
        is read once for both (and for whether remembered counts still hold): each read is
        a round trip, and a search needs the counts and the total alike."""
        version = _averages_record(session)
        passages = _passages_in(session, version)
        unique = sorted(set(terms))
        if not unique:
            return passages, {}
        stored = _stored_counts(session, unique)
        if stored.get(_COUNTED) == passages:
            return passages, {term: stored.get(term, 0) if term else 0 for term in unique}
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
        return passages, {term: known[term] for term in unique}

    def passage_count(self, session: Session) -> int:
        return _passages_in(session, _averages_record(session))


def _passages_in(session: Session, averages: bytes | None) -> int:
    """The number of passages indexed. The averages record starts with it: one row read,
    where counting the docsize table's rows took 11 ms at 1M passages."""
    if averages:
        return _varint(averages)
    return int(session.execute(text("SELECT count(*) FROM passage_terms_docsize")).scalar_one())


def _keep_lengths_cached(session: Session) -> None:
    """Give the session's connection, once, a page cache that holds FTS5's docsize table.
    BM25 reads every matched passage's length from it (10 MiB at 1M passages): SQLite's
    default 2 MiB cache read it back from the OS page by page on every search (the storage
    work of an answer at 1M: 13% more CPU; 8 MiB saved little, 32 no more than 16). Only
    connections that search get it: set on every connection, the start's scan of a million
    fingerprints filled one more to the brim (peak RSS at 1M +25-30 MiB)."""
    connection = session.connection()
    if not connection.info.get(_LENGTHS_CACHED):
        connection.exec_driver_sql(f"PRAGMA cache_size=-{SEARCH_PAGE_CACHE_KIB}")
        connection.info[_LENGTHS_CACHED] = True


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


def counted_terms(terms: str) -> set[str]:
    """The distinct terms a passage is counted under: its terms as FTS5 parts them."""
    return set(TERM_SEPARATORS.split(terms)) - {""}


def _stored_counts(session: Session, terms: Sequence[str]) -> dict[str, int]:
    """The stored passage counts of these terms and of the empty term (how many passages
    were counted); terms never counted are missing."""
    wanted = [_COUNTED, *terms]
    placeholders = ", ".join(f":t{i}" for i in range(len(wanted)))
    rows = session.execute(
        text(f"SELECT term, passages FROM passage_term_counts WHERE term IN ({placeholders})"),
        {f"t{i}": term for i, term in enumerate(wanted)},
    ).all()
    return {str(row.term): int(row.passages) for row in rows}


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
