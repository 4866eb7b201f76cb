"""Reading stored passage vectors from the database: ids alone, all in batches, some by id,
or an article's. The float32 BLOBs are the truth every vector index is built from."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import numpy as np
from sqlalchemy import Row, String, cast, func, select
from sqlalchemy.orm import Session

from storage.models import Passage, PassageVector
from storage.vector_engine import Ids, Matrix

READ_BATCH = 10_000
FETCH_CHUNK = 900  # ids per IN (…) query, under SQLite's old 999-variable limit


def vectors_of_articles(
    session: Session, *, model: str, dimension: int, article_ids: Sequence[int]
) -> tuple[Ids, Matrix]:
    """The stored vectors of these articles' passages, for catching up with other writers."""
    rows: list[Row[int, bytes]] = []
    for start in range(0, len(article_ids), FETCH_CHUNK):
        chunk = list(article_ids[start : start + FETCH_CHUNK])
        rows += session.execute(
            select(PassageVector.passage_id, PassageVector.vector)
            .join(Passage, Passage.id == PassageVector.passage_id)
            .where(PassageVector.model == model, Passage.article_id.in_(chunk))
            .order_by(PassageVector.passage_id)
        ).all()
    return matrix_of(rows, dimension)


def stored_ids(session: Session, model: str) -> Ids:
    """The passage ids that have a vector of the model, ascending (read from the index on
    the model column alone, never the BLOBs). The database joins them into one string (7 MB
    at 1M passages, far below SQLite's 1 GB limit) that numpy parses in C: 0.37 s of CPU at
    1M, mostly with the GIL released, where a row per id took 1.1–1.5 s through the driver
    (2–3 s as SQLAlchemy rows), Python time the model loading beside it waited for."""
    joined = session.scalar(
        select(func.aggregate_strings(cast(PassageVector.passage_id, String), ",")).where(
            PassageVector.model == model
        )
    )
    if not joined:
        return np.empty(0, dtype=np.int64)
    return np.sort(np.fromstring(joined, dtype=np.int64, sep=","))


def stream_vectors(session: Session, model: str, dimension: int) -> Iterator[tuple[Ids, Matrix]]:
    rows = session.execute(
        select(PassageVector.passage_id, PassageVector.vector)
        .where(PassageVector.model == model)
        .order_by(PassageVector.passage_id)
        .execution_options(yield_per=READ_BATCH)
    )
    for batch in rows.partitions():
        yield matrix_of(batch, dimension)


def fetch_vectors(session: Session, model: str, dimension: int, ids: Ids) -> tuple[Ids, Matrix]:
    """The stored vectors of these passages (those that have one of the model)."""
    parts = []
    for start in range(0, len(ids), FETCH_CHUNK):
        chunk = [int(i) for i in ids[start : start + FETCH_CHUNK]]
        parts.append(
            session.execute(
                select(PassageVector.passage_id, PassageVector.vector).where(
                    PassageVector.model == model, PassageVector.passage_id.in_(chunk)
                )
            ).all()
        )
    return matrix_of([row for part in parts for row in part], dimension)


def matrix_of(rows: Sequence[Row[int, bytes]], dimension: int) -> tuple[Ids, Matrix]:
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    blob = b"".join(row[1] for row in rows)
    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(rows), dimension)
    return ids, vectors.astype(np.float32)
