"""Passage vectors as the database holds them: float32 BLOBs, read in batches or by id.

The truth behind the in-memory index (storage/vectors.py): it is built from these, and once
it keeps only compact codes, its short list of candidates is re-scored with these.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, Row, select
from sqlalchemy.orm import Session

from storage.models import Passage, PassageVector
from storage.vector_engine import Ids, Matrix

READ_BATCH = 10_000
ID_BATCH = 100_000
FETCH_CHUNK = 900  # ids per IN (…) query, under SQLite's old 999-variable limit


def vector_to_blob(vector: npt.NDArray[np.floating]) -> bytes:
    """Little-endian float32 bytes, the stored form of a vector."""
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes, dimension: int) -> Matrix:
    """The vector stored in a BLOB, checked against its recorded dimension."""
    vector = np.frombuffer(blob, dtype="<f4")
    if vector.shape[0] != dimension:
        raise ValueError(f"stored vector has {vector.shape[0]} values, expected {dimension}")
    return vector.astype(np.float32)


class StoredVectors:
    """One model's stored vectors, read by passage id on connections of their own (safe to
    share between threads: each read takes a pooled connection)."""

    def __init__(self, engine: Engine, *, model: str, dimension: int) -> None:
        self._engine = engine
        self.model = model
        self.dimension = dimension

    @classmethod
    def of(cls, session: Session, *, model: str, dimension: int) -> StoredVectors:
        """The vectors of the database this session reads."""
        return cls(session.get_bind().engine, model=model, dimension=dimension)

    def vectors(self, ids: Ids) -> tuple[Ids, Matrix]:
        """The stored vectors of those of these passages that have one (in no set order)."""
        with self._engine.connect() as connection:
            return fetch_vectors(connection, self.model, self.dimension, ids)


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
    return _matrix(rows, dimension)


def stored_ids(session: Session, model: str) -> Ids:
    """The passage ids that have a vector of the model, ascending (read from the index on
    the model column alone, never the BLOBs). Read through the driver's own cursor, a batch
    of rows to an array at a time: SQLAlchemy's row objects made this 2–3 s of a start at
    1M passages, the driver's tuples about 0.9 s."""
    statement = (
        select(PassageVector.passage_id)
        .where(PassageVector.model == model)
        .order_by(PassageVector.passage_id)
    )
    sql = statement.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    cursor = session.connection().connection.cursor()
    parts = [np.empty(0, dtype=np.int64)]
    try:
        cursor.execute(str(sql))
        while rows := cursor.fetchmany(ID_BATCH):
            parts.append(np.array(rows, dtype=np.int64).reshape(-1))
    finally:
        cursor.close()
    return np.concatenate(parts)


def stream_vectors(session: Session, model: str, dimension: int) -> Iterator[tuple[Ids, Matrix]]:
    """Every stored vector of the model, a batch at a time, by ascending passage id."""
    rows = session.execute(
        select(PassageVector.passage_id, PassageVector.vector)
        .where(PassageVector.model == model)
        .order_by(PassageVector.passage_id)
        .execution_options(yield_per=READ_BATCH)
    )
    for batch in rows.partitions():
        yield _matrix(batch, dimension)


def fetch_vectors(
    session: Session | Connection, model: str, dimension: int, ids: Ids
) -> tuple[Ids, Matrix]:
    """The stored vectors of these passages (those that have one of the model). Looked up
    by passage id alone, the model compared here: with the model in the WHERE clause SQLite
    walks the model index too, twice the pages for each row (measured: 13.6 vs 6.1 ms for
    100 rows of a cold 100k archive)."""
    rows: list[Row[int, bytes, str]] = []
    for start in range(0, len(ids), FETCH_CHUNK):
        chunk = [int(i) for i in ids[start : start + FETCH_CHUNK]]
        found = session.execute(
            select(PassageVector.passage_id, PassageVector.vector, PassageVector.model).where(
                PassageVector.passage_id.in_(chunk)
            )
        )
        rows += [row for row in found if row[2] == model]
    return _matrix(rows, dimension)


def read_sample(session: Session, model: str, dimension: int, ids: Ids) -> Matrix:
    """The stored vectors of these passages, read a chunk at a time into one array (the
    training sample at 1M passages is 234 MiB: reading it whole briefly held three copies)."""
    sample = np.empty((len(ids), dimension), dtype=np.float32)
    filled = 0
    for start in range(0, len(ids), FETCH_CHUNK):
        _, part = fetch_vectors(session, model, dimension, ids[start : start + FETCH_CHUNK])
        sample[filled : filled + len(part)] = part
        filled += len(part)
    return sample[:filled]


def _matrix(rows: Sequence[Sequence[Any]], dimension: int) -> tuple[Ids, Matrix]:
    ids = np.fromiter((row[0] for row in rows), dtype=np.int64, count=len(rows))
    blob = b"".join(row[1] for row in rows)
    vectors = np.frombuffer(blob, dtype="<f4").reshape(len(rows), dimension)
    return ids, vectors.astype(np.float32)
