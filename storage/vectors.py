"""Passage vectors: float32 BLOBs in the database, searched in memory.

In memory each vector is int8 with one scale (388 bytes at 384 dimensions instead of
1,536), so a million passages take under 400 MB. A search scans them all with an int8
matrix product (torch's, which beats numpy's tenfold here), then rescores a shortlist
against the float query; recall@10 against exact float32 search stays above 0.99.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import PassageVector

try:  # torch's int8 matrix product; numpy's fallback is correct, only slower
    import torch

    _int_mm = getattr(torch, "_int_mm", None)
except ImportError:  # pragma: no cover - torch is a dependency
    _int_mm = None

Matrix = npt.NDArray[np.float32]
SHORTLIST_MIN = 100  # candidates rescored against the float query, at least
SHORTLIST_PER_RESULT = 10  # and this many per result asked for
INT_MM_COLUMNS = 16  # torch's int8 kernel is fastest with 16 query columns (measured)


def vector_to_blob(vector: npt.NDArray[np.floating]) -> bytes:
    """Little-endian float32 bytes, the stored form of a vector."""
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes, dimension: int) -> Matrix:
    """The vector stored in a BLOB, checked against its recorded dimension."""
    vector = np.frombuffer(blob, dtype="<f4")
    if vector.shape[0] != dimension:
        raise ValueError(f"stored vector has {vector.shape[0]} values, expected {dimension}")
    return vector.astype(np.float32)


def _quantise(vectors: Matrix) -> tuple[npt.NDArray[np.int8], npt.NDArray[np.float32]]:
    """int8 codes with one scale per vector, so every vector uses the whole int8 range."""
    peaks = np.abs(vectors).max(axis=1, keepdims=True)
    peaks[peaks == 0] = 1.0
    codes = np.rint(vectors / peaks * 127).astype(np.int8)
    return codes, (peaks[:, 0] / 127).astype(np.float32)


class VectorIndex:
    """Cosine search over unit vectors held as int8: a full int8 scan, then rescoring."""

    def __init__(self, dimension: int, *, capacity: int = 0) -> None:
        self.dimension = dimension
        self._lock = threading.Lock()
        self._size = 0
        # Sized up front when the count is known: growing by doubling would briefly hold
        # the old and the new arrays together, half again the memory at the peak.
        self._ids = np.empty(capacity, dtype=np.int64)
        self._codes = np.empty((capacity, dimension), dtype=np.int8)
        self._scales = np.empty(capacity, dtype=np.float32)

    def __len__(self) -> int:
        return self._size

    def add(self, ids: Iterable[int], vectors: Matrix) -> None:
        """Add vectors (one row per id); the arrays grow geometrically to keep adds cheap."""
        new_ids = np.fromiter(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if new_ids.shape[0] != vectors.shape[0]:
            raise ValueError("each vector needs exactly one id")
        codes, scales = _quantise(vectors)
        with self._lock:
            end = self._size + len(new_ids)
            self._reserve(end)
            self._ids[self._size : end] = new_ids
            self._codes[self._size : end] = codes
            self._scales[self._size : end] = scales
            previous_last = self._ids[self._size - 1] if self._size else None
            self._size = end
            # Ids arrive in increasing order; keep them sorted so lookups can bisect.
            if not _ascending(self._ids[: self._size], previous_last, len(new_ids)):
                self._sort()

    def remove(self, ids: Iterable[int]) -> None:
        """Forget the vectors of these passages."""
        doomed = np.fromiter(ids, dtype=np.int64)
        with self._lock:
            keep = ~np.isin(self._ids[: self._size], doomed)
            kept = int(keep.sum())
            for array in (self._ids, self._codes, self._scales):
                array[:kept] = array[: self._size][keep]
            self._size = kept

    def search(self, query: npt.NDArray[np.floating], limit: int) -> list[tuple[int, float]]:
        """The ids of the most similar vectors with their cosine similarity, best first."""
        query = np.asarray(query, dtype=np.float32)
        with self._lock:
            size = self._size
            if size == 0 or limit <= 0:
                return []
            shortlist = min(size, max(SHORTLIST_MIN, SHORTLIST_PER_RESULT * limit))
            if shortlist < size:
                rough = self._scan(query)
                rows = np.argpartition(-rough, shortlist - 1)[:shortlist]
            else:
                rows = np.arange(size)
            scores = self._rescore(rows, query)
            ids = self._ids[rows]
        count = min(limit, len(rows))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top])]
        return [(int(ids[i]), float(scores[i])) for i in top]

    def _scan(self, query: Matrix) -> Matrix:
        """Approximate similarity of the query to every vector, from int8 codes alone."""
        codes = self._codes[: self._size]
        peak = float(np.abs(query).max()) or 1.0
        query_codes = np.rint(query / peak * 127).astype(np.int8)
        usable = self._size > INT_MM_COLUMNS and self.dimension % 8 == 0
        if usable and _int_mm is not None and _int_mm_is_faster(self.dimension):
            columns = np.zeros((self.dimension, INT_MM_COLUMNS), dtype=np.int8)
            columns[:, 0] = query_codes
            raw = _int_mm(torch.from_numpy(codes), torch.from_numpy(columns))[:, 0].numpy()
        else:
            raw = codes.astype(np.float32) @ query_codes.astype(np.float32)
        rough: Matrix = raw.astype(np.float32) * self._scales[: self._size]
        return rough

    def similarities(self, query: npt.NDArray[np.floating], ids: Iterable[int]) -> dict[int, float]:
        """Cosine similarity of the query to each of these passages that has a vector."""
        wanted = np.fromiter(ids, dtype=np.int64)
        with self._lock:
            stored = self._ids[: self._size]
            rows = np.clip(np.searchsorted(stored, wanted), 0, max(self._size - 1, 0))
            rows = rows[(self._size > 0) & (stored[rows] == wanted)] if self._size else rows[:0]
            scores = self._rescore(rows, np.asarray(query, dtype=np.float32))
            found = stored[rows]
        return {int(i): float(s) for i, s in zip(found, scores, strict=True)}

    def _rescore(self, rows: npt.NDArray[np.intp], query: Matrix) -> Matrix:
        scores: Matrix = (self._codes[rows].astype(np.float32) @ query) * self._scales[rows]
        return scores

    def _reserve(self, needed: int) -> None:
        capacity = self._ids.shape[0]
        if needed <= capacity:
            return
        capacity = max(needed, 2 * capacity, 1024)
        self._ids = _grown(self._ids, capacity, self._size)
        self._codes = _grown(self._codes, capacity, self._size)
        self._scales = _grown(self._scales, capacity, self._size)

    def _sort(self) -> None:
        order = np.argsort(self._ids[: self._size], kind="stable")
        for array in (self._ids, self._codes, self._scales):
            array[: self._size] = array[: self._size][order]


@lru_cache(maxsize=4)
def _int_mm_is_faster(dimension: int) -> bool:
    """Whether torch's int8 product beats numpy's float32 one on this processor, measured
    once: it is ten times faster on some CPUs and ten times slower on others (no int8 dot
    product instructions), and which one a machine has is not otherwise visible."""
    if _int_mm is None:
        return False
    rows = np.random.default_rng(0).integers(-127, 128, (8192, dimension), dtype=np.int8)
    columns = np.zeros((dimension, INT_MM_COLUMNS), dtype=np.int8)
    query = rows[0].astype(np.float32)

    def best_of(run: Callable[[], object]) -> float:
        times = []
        for _ in range(3):
            started = time.perf_counter()
            run()
            times.append(time.perf_counter() - started)
        return min(times)

    torch_time = best_of(lambda: _int_mm(torch.from_numpy(rows), torch.from_numpy(columns)))
    numpy_time = best_of(lambda: rows.astype(np.float32) @ query)
    return torch_time < numpy_time


def _grown(array: npt.NDArray[Any], capacity: int, used: int) -> npt.NDArray[Any]:
    grown = np.empty((capacity, *array.shape[1:]), dtype=array.dtype)
    grown[:used] = array[:used]
    return grown


def _ascending(ids: npt.NDArray[np.int64], previous_last: np.int64 | None, added: int) -> bool:
    tail = ids[len(ids) - added :]
    if added > 1 and bool((np.diff(tail) <= 0).any()):
        return False
    return previous_last is None or bool(tail[0] > previous_last)


def load_vector_index(session: Session, *, model: str, dimension: int) -> VectorIndex:
    """Load every stored vector of the model into a new in-memory index."""
    count = session.scalar(
        select(func.count()).select_from(PassageVector).where(PassageVector.model == model)
    )
    index = VectorIndex(dimension, capacity=int(count or 0))
    rows = session.execute(
        select(PassageVector.passage_id, PassageVector.vector)
        .where(PassageVector.model == model)
        .order_by(PassageVector.passage_id)
        .execution_options(yield_per=10_000)
    )
    for batch in rows.partitions():
        ids = [row.passage_id for row in batch]
        matrix = np.frombuffer(b"".join(row.vector for row in batch), dtype="<f4")
        index.add(ids, matrix.reshape(len(ids), dimension).astype(np.float32))
    return index
