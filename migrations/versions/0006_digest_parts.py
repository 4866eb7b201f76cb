"""Record digests part by part, so an interrupted digest resumes with its next part.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "digest_batches",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("subscriptions.chat_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("parts", sa.Text(), nullable=False),
        sa.Column("parts_sent", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("problem", sa.String(500), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_digest_batches_chat_id", "digest_batches", ["chat_id"])
    op.create_index("ix_digest_batches_status", "digest_batches", ["status"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("batch_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            "fk_deliveries_batch_id",
            "digest_batches",
            ["batch_id"],
            ["id"],
            ondelete="SET NULL",
        )
        batch.create_index("ix_deliveries_batch_id", ["batch_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_index("ix_deliveries_batch_id")
        batch.drop_constraint("fk_deliveries_batch_id", type_="foreignkey")
        batch.drop_column("batch_id")
    op.drop_table("digest_batches")
