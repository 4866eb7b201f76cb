"""Index passages for full-text search (FTS5 on SQLite).

The index holds each passage's lemmatised terms, written by the application in the same
transaction as the passage; a trigger removes a passage's terms when the passage goes.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from migrations.frozen_terms import index_terms

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return  # PostgreSQL gets its own index in 0008
    op.execute(
        "CREATE VIRTUAL TABLE passage_terms "
        "USING fts5(terms, tokenize='unicode61 remove_diacritics 2')"
    )
    op.execute(
        "CREATE TRIGGER passages_delete_terms AFTER DELETE ON passages BEGIN "
        "DELETE FROM passage_terms WHERE rowid = old.id; END"
    )
    op.execute(
        "CREATE VIRTUAL TABLE passage_terms_vocabulary USING fts5vocab(passage_terms, 'row')"
    )
    _index_existing_passages()


def _index_existing_passages() -> None:
    bind = op.get_bind()
    rows = bind.execute(sa.text("SELECT id, text FROM passages")).all()
    if rows:
        bind.execute(
            sa.text("INSERT INTO passage_terms (rowid, terms) VALUES (:id, :terms)"),
            [{"id": row.id, "terms": index_terms(row.text)} for row in rows],
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute("DROP TABLE passage_terms_vocabulary")
    op.execute("DROP TRIGGER passages_delete_terms")
    op.execute("DROP TABLE passage_terms")
