"""Poll web sources, fingerprint articles, and record digest deliveries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sources") as batch:
        batch.add_column(sa.Column("etag", sa.String(500), nullable=True))
        batch.add_column(sa.Column("last_modified", sa.String(100), nullable=True))
        batch.add_column(sa.Column("failures", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("last_error", sa.String(500), nullable=True))
        batch.add_column(sa.Column("last_polled_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("next_poll_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("fingerprint", sa.BigInteger(), nullable=True))
    op.create_table(
        "deliveries",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column(
            "chat_id",
            sa.BigInteger(),
            sa.ForeignKey("subscriptions.chat_id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column(
            "article_id",
            sa.Integer(),
            sa.ForeignKey("articles.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("chat_id", "article_id", name="uq_deliveries_chat_article"),
    )
    op.create_index("ix_deliveries_status", "deliveries", ["status"])


def downgrade() -> None:
    op.drop_table("deliveries")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("fingerprint")
    with op.batch_alter_table("sources") as batch:
        for column in ("next_poll_at", "last_polled_at", "last_error", "failures"):
            batch.drop_column(column)
        batch.drop_column("last_modified")
        batch.drop_column("etag")
