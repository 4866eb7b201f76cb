"""The previous vector index, kept only as the benchmark's point of comparison.

Until FAISS replaced it, Parley held each vector as int8 with one scale, scanned all of
them per query and rescored a shortlist against the float query. Production ran the scan
through the private `torch._int_mm`; this copy uses numpy's product, which gives the same
results (the torch kernel was only faster on CPUs with int8 dot-product instructions).
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

Matrix = npt.NDArray[np.float32]
SHORTLIST_MIN = 100
SHORTLIST_PER_RESULT = 10
BLOCK = 32_768


class Int8Scan:
    """int8 codes with per-vector scales: a full scan, then rescoring of a shortlist."""

    def __init__(self, ids: npt.NDArray[np.int64], vectors: Matrix) -> None:
        peaks = np.abs(vectors).max(axis=1, keepdims=True)
        peaks[peaks == 0] = 1.0
        self._ids = ids
        self._codes = np.rint(vectors / peaks * 127).astype(np.int8)
        self._scales = (peaks[:, 0] / 127).astype(np.float32)

    def __len__(self) -> int:
        return len(self._ids)

    def search(self, query: Matrix, limit: int) -> list[tuple[int, float]]:
        """The ids of the most similar vectors with their approximate cosine, best first."""
        size = len(self._ids)
        shortlist = min(size, max(SHORTLIST_MIN, SHORTLIST_PER_RESULT * limit))
        peak = float(np.abs(query).max()) or 1.0
        query_codes = np.rint(query / peak * 127).astype(np.float32)
        rough = np.empty(size, dtype=np.float32)
        for start in range(0, size, BLOCK):  # blocks: no 1.5 GB float copy of 1M codes
            block = self._codes[start : start + BLOCK].astype(np.float32)
            rough[start : start + BLOCK] = block @ query_codes
        rough *= self._scales
        rows = np.argpartition(-rough, shortlist - 1)[:shortlist]
        scores = (self._codes[rows].astype(np.float32) @ query) * self._scales[rows]
        count = min(limit, len(rows))
        top = np.argpartition(-scores, count - 1)[:count]
        top = top[np.argsort(-scores[top])]
        return [(int(self._ids[rows[i]]), float(scores[i])) for i in top]
