"""Store each passage's sentences and their vectors, so answering embeds only the question.

Passages stored earlier have none: answering embeds their sentences when it reads them,
and `parley reindex` stores them.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sentence_vectors",
        sa.Column(
            "passage_id",
            sa.Integer(),
            sa.ForeignKey("passages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("model", sa.String(500), nullable=False),
        sa.Column("dimension", sa.Integer(), nullable=False),
        sa.Column("sentences", sa.Text(), nullable=False),
        sa.Column("vectors", sa.LargeBinary(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("sentence_vectors")
