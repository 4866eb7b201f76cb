"""Full-text search on PostgreSQL: passages' terms as a GIN-indexed tsvector, ranked by BM25.

The terms are Parley's own (``knowledge.terms``), written as they are: no PostgreSQL parser or
dictionary touches them, so both engines match and count exactly the same terms. Ranking is
BM25 with FTS5's constants and idf, computed from the positions each tsvector keeps, so a
question ranks passages alike on SQLite and PostgreSQL. (``ts_rank_cd`` weighs every term
the same, so a rare name would count no more than a common word.)
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence

from sqlalchemy import text
from sqlalchemy.orm import Session

# FTS5's bm25() defaults.
K1 = 1.2
B = 0.75
# PostgreSQL's limits: a lexeme's length in bytes, its positions, the largest position.
MAX_LEXEME_BYTES = 2046
MAX_POSITIONS = 256
MAX_POSITION = 16383

_INSERT = text(
    "INSERT INTO passage_terms (passage_id, terms, term_count) "
    "VALUES (:id, CAST(:terms AS tsvector), :count)"
)
# One count per term, each answered from the GIN index.
_DOCUMENT_FREQUENCIES = text(
    "SELECT query.term, (SELECT count(*) FROM passage_terms AS indexed "
    "WHERE indexed.terms @@ CAST(query.lexeme AS tsquery)) AS doc "
    "FROM unnest(CAST(:terms AS text[]), CAST(:lexemes AS text[])) AS query(term, lexeme)"
)
_STATISTICS = text("SELECT count(*) AS total, avg(term_count) AS average FROM passage_terms")
_SEARCH = text(
    "SELECT hit.passage_id AS id, sum(query.idf * found.frequency * (:k1 + 1) / "
    "(found.frequency + :k1 * (1 - :b + :b * hit.term_count / :average))) AS score "
    "FROM passage_terms AS hit "
    "CROSS JOIN LATERAL (SELECT lexeme, cardinality(positions) AS frequency "
    "FROM unnest(hit.terms)) AS found "
    "JOIN unnest(CAST(:terms AS text[]), CAST(:idfs AS float8[])) AS query(term, idf) "
    "ON query.term = found.lexeme "
    "WHERE hit.terms @@ CAST(:query AS tsquery) "
    "GROUP BY hit.passage_id ORDER BY score DESC, hit.passage_id LIMIT :limit"
)


class PostgresFullTextIndex:
    """A tsvector per passage (table ``passage_terms``, revision 0008) with BM25 ranking."""

    def add(self, session: Session, entries: Iterable[tuple[int, str]]) -> None:
        rows = [
            {"id": passage_id, "terms": tsvector_literal(terms), "count": len(terms.split())}
            for passage_id, terms in entries
        ]
        if rows:
            session.execute(_INSERT, rows)

    def search(self, session: Session, terms: Sequence[str], limit: int) -> list[tuple[int, float]]:
        unique = [term for term in dict.fromkeys(terms) if _indexable(term)]
        if not unique:
            return []
        statistics = session.execute(_STATISTICS).one()
        total, average = int(statistics.total), float(statistics.average or 0.0)
        if total == 0:
            return []
        frequencies = self.document_frequencies(session, unique)
        rows = session.execute(
            _SEARCH,
            {
                "query": " | ".join(quoted_lexeme(term) for term in unique),
                "terms": unique,
                "idfs": [_idf(total, frequencies[term]) for term in unique],
                "average": max(average, 1.0),
                "k1": K1,
                "b": B,
                "limit": limit,
            },
        ).all()
        return [(int(row.id), float(row.score)) for row in rows]

    def document_frequencies(self, session: Session, terms: Sequence[str]) -> dict[str, int]:
        unique = sorted(set(terms))
        indexable = [term for term in unique if _indexable(term)]
        found: dict[str, int] = {}
        if indexable:
            rows = session.execute(
                _DOCUMENT_FREQUENCIES,
                {"terms": indexable, "lexemes": [quoted_lexeme(term) for term in indexable]},
            ).all()
            found = {str(row.term): int(row.doc) for row in rows}
        return {term: found.get(term, 0) for term in unique}

    def passage_count(self, session: Session) -> int:
        return int(session.execute(text("SELECT count(*) FROM passage_terms")).scalar_one())


def _idf(total: int, frequency: int) -> float:
    """FTS5's idf: never zero or below, so a term in most passages still counts a little."""
    return max(math.log((total - frequency + 0.5) / (frequency + 0.5)), 1e-6)


def _indexable(term: str) -> bool:
    return 0 < len(term.encode()) <= MAX_LEXEME_BYTES


def tsvector_literal(terms: str) -> str:
    """Space-separated terms as tsvector input, each lexeme with its positions."""
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, term in enumerate(terms.split(), start=1):
        if _indexable(term):
            positions[term].append(min(position, MAX_POSITION))
    return " ".join(
        f"{quoted_lexeme(term)}:{','.join(map(str, sorted(set(places))[:MAX_POSITIONS]))}"
        for term, places in positions.items()
    )


def quoted_lexeme(term: str) -> str:
    """One lexeme quoted for tsvector or tsquery input, taken literally."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
