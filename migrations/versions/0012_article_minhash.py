"""Store each article's MinHash signature, and compute it for the articles already stored.

Near-duplicates are now found by MinHash (datasketch, "affine32" scheme, 128 permutations,
seed 1) over the article's word 3-shingles, instead of the SimHash in `fingerprint`, which
stays but is no longer written or read. The computation below is datasketch's, frozen here
with numpy and hashlib so that the revision gives the same signatures whatever the
application or the library become later (a test compares it with the live code).

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-27
"""

import hashlib
import re
from collections.abc import Sequence

import numpy as np
import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SHINGLE_WORDS = 3
MIN_WORDS = 20
NUM_PERM = 128
SEED = 1
BATCH = 500


def permutations() -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations h -> a·h + b mod 2³², a odd. RandomState's stream is
    frozen by numpy's compatibility policy, so the same seed gives the same numbers."""
    generator = np.random.RandomState(SEED)
    a = generator.randint(0, 1 << 31, NUM_PERM, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = generator.randint(0, 1 << 32, NUM_PERM, dtype=np.uint32)
    return a, b


def mix(values: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which datasketch applies to each shingle's hash."""
    values = values ^ (values >> np.uint32(16))
    values = values * np.uint32(0x85EBCA6B)
    values = values ^ (values >> np.uint32(13))
    values = values * np.uint32(0xC2B2AE35)
    return values ^ (values >> np.uint32(16))


def minhash(text: str, a: np.ndarray, b: np.ndarray) -> bytes | None:
    """The text's signature as NUM_PERM little-endian uint32, or None if it is too short."""
    words = re.findall(r"[^\W_]+", text.casefold())
    if len(words) < MIN_WORDS:
        return None
    shingles = {
        " ".join(words[i : i + SHINGLE_WORDS]) for i in range(len(words) - SHINGLE_WORDS + 1)
    }
    hashes = np.array(
        [int.from_bytes(hashlib.sha1(s.encode()).digest()[:4], "little") for s in shingles],
        dtype=np.uint32,
    )
    permuted = mix(hashes).reshape(-1, 1) * a + b  # wraps mod 2³², as intended
    return np.asarray(permuted.min(axis=0), dtype="<u4").tobytes()


def upgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("minhash", sa.LargeBinary(), nullable=True))
    bind = op.get_bind()
    a, b = permutations()
    update = sa.text("UPDATE articles SET minhash = :minhash WHERE id = :id").bindparams(
        sa.bindparam("minhash", type_=sa.LargeBinary())
    )
    last_id = 0
    while True:  # in batches: an archive's texts need not fit in memory at once
        rows = bind.execute(
            sa.text("SELECT id, text FROM articles WHERE id > :last ORDER BY id LIMIT :batch"),
            {"last": last_id, "batch": BATCH},
        ).all()
        if not rows:
            return
        last_id = rows[-1].id
        updates = [
            {"id": row.id, "minhash": signature}
            for row in rows
            if (signature := minhash(row.text, a, b)) is not None
        ]
        if updates:
            bind.execute(update, updates)


def downgrade() -> None:
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("minhash")
