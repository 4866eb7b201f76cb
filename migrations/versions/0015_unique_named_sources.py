"""One row per named source: outlets and local files found by name (sources without a URL)
get a unique key on (name, kind), so two ingests racing to file articles under the same new
outlet cannot both add it. Duplicates an earlier race left behind are merged first, their
articles moved to the oldest row.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-26
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEX = "uq_sources_name_kind_without_url"
WITHOUT_URL = sa.text("url IS NULL")


def upgrade() -> None:
    connection = op.get_bind()
    duplicates = connection.execute(
        sa.text(
            "SELECT s.id, keeper.id FROM sources s"
            " JOIN (SELECT name, kind, MIN(id) AS id FROM sources WHERE url IS NULL"
            "       GROUP BY name, kind HAVING COUNT(*) > 1) keeper"
            " ON s.name = keeper.name AND s.kind = keeper.kind"
            " WHERE s.url IS NULL AND s.id <> keeper.id"
        )
    ).all()
    for duplicate, keeper in duplicates:
        connection.execute(
            sa.text("UPDATE articles SET source_id = :keeper WHERE source_id = :duplicate"),
            {"keeper": keeper, "duplicate": duplicate},
        )
        connection.execute(sa.text("DELETE FROM sources WHERE id = :id"), {"id": duplicate})
    op.create_index(
        INDEX,
        "sources",
        ["name", "kind"],
        unique=True,
        sqlite_where=WITHOUT_URL,
        postgresql_where=WITHOUT_URL,
    )


def downgrade() -> None:
    op.drop_index(INDEX, table_name="sources")
