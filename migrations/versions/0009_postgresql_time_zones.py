"""Store times as `timestamp with time zone` on PostgreSQL.

Every time Parley stored so far is UTC without a zone (SQLite has none); on PostgreSQL
they become instants, read as UTC. SQLite is unchanged: its times stay naive UTC.
Columns added by later revisions are created with time zones from the start.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-27
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME_COLUMNS = {
    "sources": ("created_at", "last_polled_at", "next_poll_at"),
    "articles": ("published_at", "ingested_at"),
    "subscriptions": ("subscribed_at", "ended_at"),
    "deliveries": ("created_at", "sent_at"),
    "digest_batches": ("created_at", "finished_at"),
}


def upgrade() -> None:
    _convert("timestamp with time zone")


def downgrade() -> None:
    _convert("timestamp without time zone")


def _convert(kind: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table, columns in TIME_COLUMNS.items():
        changes = ", ".join(
            f"ALTER COLUMN {column} TYPE {kind} USING {column} AT TIME ZONE 'UTC'"
            for column in columns
        )
        op.execute(f"ALTER TABLE {table} {changes}")
