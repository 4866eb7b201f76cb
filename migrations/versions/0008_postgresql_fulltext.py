"""Index passages for full-text search on PostgreSQL: their terms as a tsvector, GIN-indexed.

The same terms SQLite's FTS5 index holds since 0002, with their positions, so term
frequencies rank like FTS5's bm25(); each passage's number of terms, for BM25's length
normalisation. The rows go with their passage (ON DELETE CASCADE). SQLite has its index.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

from migrations.frozen_terms import index_terms, tsvector_literal

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.create_table(
        "passage_terms",
        sa.Column(
            "passage_id",
            sa.Integer(),
            sa.ForeignKey("passages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("terms", postgresql.TSVECTOR(), nullable=False),
        sa.Column("term_count", sa.Integer(), nullable=False),
    )
    op.create_index("ix_passage_terms_terms", "passage_terms", ["terms"], postgresql_using="gin")
    _index_existing_passages()


def _index_existing_passages() -> None:
    bind = op.get_bind()
    last_id = 0
    while True:  # in batches: an archive's passages need not fit in memory at once
        rows = bind.execute(
            sa.text("SELECT id, text FROM passages WHERE id > :last ORDER BY id LIMIT :batch"),
            {"last": last_id, "batch": BATCH},
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        entries = [(row.id, index_terms(row.text)) for row in rows]
        bind.execute(
            sa.text(
                "INSERT INTO passage_terms (passage_id, terms, term_count) "
                "VALUES (:id, CAST(:terms AS tsvector), :count)"
            ),
            [
                {"id": passage_id, "terms": tsvector_literal(terms), "count": len(terms.split())}
                for passage_id, terms in entries
            ],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.drop_table("passage_terms")
