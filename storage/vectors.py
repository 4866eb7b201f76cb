"""Passage vectors: float32 BLOBs in the database, searched in memory with numpy."""

from __future__ import annotations

import threading
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import PassageVector

Matrix = npt.NDArray[np.float32]


def vector_to_blob(vector: npt.NDArray[np.floating]) -> bytes:
    """Little-endian float32 bytes, the stored form of a vector."""
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes, dimension: int) -> Matrix:
    """The vector stored in a BLOB, checked against its recorded dimension."""
    vector = np.frombuffer(blob, dtype="<f4")
    if vector.shape[0] != dimension:
        raise ValueError(f"stored vector has {vector.shape[0]} values, expected {dimension}")
    return vector.astype(np.float32)


class VectorIndex:
    """Exact cosine search over unit vectors held in one contiguous matrix."""

    def __init__(self, dimension: int) -> None:
        self.dimension = dimension
        self._lock = threading.Lock()
        self._ids = np.empty(0, dtype=np.int64)
        self._matrix: Matrix = np.empty((0, dimension), dtype=np.float32)
        self._size = 0

    def __len__(self) -> int:
        return self._size

    def add(self, ids: Iterable[int], vectors: Matrix) -> None:
        """Add vectors (one row per id); the matrix grows geometrically to keep adds cheap."""
        new_ids = np.fromiter(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if new_ids.shape[0] != vectors.shape[0]:
            raise ValueError("each vector needs exactly one id")
        with self._lock:
            needed = self._size + len(new_ids)
            if needed > self._matrix.shape[0]:
                capacity = max(needed, 2 * self._matrix.shape[0], 1024)
                matrix = np.empty((capacity, self.dimension), dtype=np.float32)
                matrix[: self._size] = self._matrix[: self._size]
                ids = np.empty(capacity, dtype=np.int64)
                ids[: self._size] = self._ids[: self._size]
                self._matrix, self._ids = matrix, ids
            self._matrix[self._size : needed] = vectors
            self._ids[self._size : needed] = new_ids
            self._size = needed

    def remove(self, ids: Iterable[int]) -> None:
        """Forget the vectors of these passages."""
        doomed = np.fromiter(ids, dtype=np.int64)
        with self._lock:
            keep = ~np.isin(self._ids[: self._size], doomed)
            kept = int(keep.sum())
            self._matrix[:kept] = self._matrix[: self._size][keep]
            self._ids[:kept] = self._ids[: self._size][keep]
            self._size = kept

    def search(self, query: npt.NDArray[np.floating], limit: int) -> list[tuple[int, float]]:
        """The ids of the most similar vectors with their cosine similarity, best first."""
        with self._lock:
            size = self._size
            if size == 0 or limit <= 0:
                return []
            scores = self._matrix[:size] @ np.asarray(query, dtype=np.float32)
            ids = self._ids[:size]
        count = min(limit, size)
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top])]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def similarities(self, query: npt.NDArray[np.floating], ids: Iterable[int]) -> dict[int, float]:
        """Cosine similarity of the query to each of these passages that has a vector."""
        wanted = np.fromiter(ids, dtype=np.int64)
        with self._lock:
            mask = np.isin(self._ids[: self._size], wanted)
            found = self._ids[: self._size][mask]
            scores = self._matrix[: self._size][mask] @ np.asarray(query, dtype=np.float32)
        return {int(i): float(s) for i, s in zip(found, scores, strict=True)}


def load_vector_index(session: Session, *, model: str, dimension: int) -> VectorIndex:
    """Load every stored vector of the model into a new in-memory index."""
    index = VectorIndex(dimension)
    rows = session.execute(
        select(PassageVector.passage_id, PassageVector.vector)
        .where(PassageVector.model == model)
        .execution_options(yield_per=10_000)
    )
    for batch in rows.partitions():
        ids = [row.passage_id for row in batch]
        matrix = np.frombuffer(b"".join(row.vector for row in batch), dtype="<f4")
        index.add(ids, matrix.reshape(len(ids), dimension).astype(np.float32))
    return index
