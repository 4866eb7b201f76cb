"""Fingerprint the articles stored before 0004, so near-duplicates of them are caught.

0004 added `articles.fingerprint` but left it empty for existing articles. The SimHash
below is frozen here as 0005 first shipped it: a revision must give the same result
whatever the application's code becomes later.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHINGLE_WORDS = 3
MIN_WORDS = 20
BATCH = 500


def simhash(text: str) -> int | None:
    """A 64-bit SimHash of the text's word shingles, as a signed integer."""
    words = re.findall(r"[^\W_]+", text.casefold())
    if len(words) < MIN_WORDS:
        return None
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    }
    digests = b"".join(hashlib.blake2b(s.encode(), digest_size=8).digest() for s in shingles)
    bits = np.unpackbits(np.frombuffer(digests, dtype=np.uint8).reshape(-1, 8), axis=1)
    majority = bits.sum(axis=0) * 2 > len(shingles)
    return int(np.packbits(majority).view(">i8")[0])


def upgrade() -> None:
    bind = op.get_bind()
    last_id = 0
    while True:  # in batches: an archive's texts need not fit in memory at once
        rows = bind.execute(
            sa.text(
                "SELECT id, text FROM articles WHERE fingerprint IS NULL AND id > :last "
                "ORDER BY id LIMIT :batch"
            ),
            {"last": last_id, "batch": BATCH},
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        updates = [
            {"id": row.id, "fingerprint": fingerprint}
            for row in rows
            if (fingerprint := simhash(row.text)) is not None
        ]
        if updates:
            bind.execute(
                sa.text("UPDATE articles SET fingerprint = :fingerprint WHERE id = :id"), updates
            )


def downgrade() -> None:
    pass  # the fingerprints are correct for any revision that has the column
