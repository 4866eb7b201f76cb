"""Store each sentence's token vectors beside its sentence vector, for late interaction.

Rows written before have none: answering computes them when it reads such a sentence, and
`parley reindex` stores them. `token_axes` names the axes they were projected on
(knowledge.token_vectors), so that vectors kept along other axes are never compared.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sentence_vectors") as table:
        table.add_column(sa.Column("token_axes", sa.String(200), nullable=True))
        table.add_column(sa.Column("token_counts", sa.Text(), nullable=True))
        table.add_column(sa.Column("tokens", sa.LargeBinary(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("sentence_vectors") as table:
        table.drop_column("tokens")
        table.drop_column("token_counts")
        table.drop_column("token_axes")
