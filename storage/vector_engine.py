"""FAISS behind precise types: the only module that calls the untyped `faiss` package.

Two shapes of index, both scoring by inner product (cosine on Parley's unit vectors):
a flat one that compares the query with every float32 vector (exact), and an inverted-file
one with product-quantiser codes that compares it only with the vectors of the few lists
nearest to it (approximate: 48 bytes a vector, 1/32 of float32's memory; storage/vectors.py
re-scores its short list exactly). Both keep Parley's passage ids.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

# faiss's SWIG bindings carry only partial, inexact type information: treat the module as
# Any here, and give this module's own functions the precise types.
faiss: Any = importlib.import_module("faiss")

Matrix = npt.NDArray[np.float32]
Ids = npt.NDArray[np.int64]
KMEANS_ITERATIONS = 10  # FAISS's default; more barely moves recall on our data (measured)
# Product-quantiser codes of 4 bits per 4 dimensions (96 sub-vectors at 384 dimensions: 48
# bytes), in FAISS's fast-scan layout, which scores them with SIMD lookups. Alone they rank
# poorly (recall@10 0.65 at 100k), but the true top 10 is almost always within their top
# 100, which storage/vectors.py re-scores with the float32 vectors: recall@10 then equals
# that of 8-bit scalar codes (384 bytes, 366 MiB at 1M passages, which kept Parley above
# 1 GiB) at the same probes, 0.95 at 100k / 16 probes, and search takes 0.2-0.3 ms (measured
# in /tmp experiments on the bench's synthetic vectors; see bench/engines.py).
# 8-bit PQ of 48 sub-vectors (also 48 bytes) matched its recall but was slower.
DIMENSIONS_PER_CODE = 4
CODE_BITS = 4
CODE_TRAINING = 65_536  # residuals the codes are fitted on (FAISS samples 4,096 of them)


class EngineIndex:
    """A FAISS index keyed by passage id; not thread-safe (VectorIndex holds the lock)."""

    def __init__(self, index: Any, *, inverted: bool) -> None:
        self._index = index
        self.inverted = inverted
        # Fast-scan lists cannot keep FAISS's id-to-code hash map and still remove codes,
        # so an inverted index answers "do you hold this id?" from its ids, kept sorted.
        self._held = self.ids() if inverted else np.empty(0, np.int64)
        self._held.sort()

    @classmethod
    def flat(cls, dimension: int) -> EngineIndex:
        """Exact search over float32 vectors; IndexIDMap2 so vectors can be looked up by id."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), inverted=False)

    @classmethod
    def inverted_file(cls, dimension: int, lists: int) -> EngineIndex:
        """Untrained IVF with fast-scan product-quantiser codes."""
        if dimension % DIMENSIONS_PER_CODE:
            raise ValueError(f"{dimension} dimensions do not split into {DIMENSIONS_PER_CODE}s")
        quantiser = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFPQFastScan(
            quantiser,
            dimension,
            lists,
            dimension // DIMENSIONS_PER_CODE,
            CODE_BITS,
            faiss.METRIC_INNER_PRODUCT,
        )
        # Unit-length centroids: with raw inner product the longest centroids would draw
        # every query and the lists would be lopsided.
        index.cp.spherical = True
        index.cp.niter = KMEANS_ITERATIONS
        return cls(index, inverted=True)  # faiss's wrapper keeps the quantiser referenced

    @classmethod
    def read(cls, path: Path) -> EngineIndex:
        """An index saved by `write`."""
        index = faiss.read_index(str(path))
        inverted = isinstance(index, faiss.IndexIVF)
        return cls(index, inverted=inverted)

    def write(self, path: Path) -> None:
        faiss.write_index(self._index, str(path))

    @property
    def dimension(self) -> int:
        return int(self._index.d)

    @property
    def current_codes(self) -> bool:
        """Whether an inverted index keeps the codes Parley makes now (one saved by an
        earlier version may keep others, and is then rebuilt)."""
        if not self.inverted:
            return True
        return (
            isinstance(self._index, faiss.IndexIVFPQFastScan)
            and int(self._index.pq.nbits) == CODE_BITS
            and int(self._index.pq.M) * DIMENSIONS_PER_CODE == self.dimension
        )

    @property
    def lists(self) -> int:
        """The inverted lists (0 for a flat index)."""
        return int(self._index.nlist) if self.inverted else 0

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def train(self, sample: Matrix) -> None:
        """Cluster the sample into the lists, then fit the codes on part of it: FAISS fits
        them on every training vector's residual, a second copy of the sample (234 MiB at
        1M passages), where a few thousand per 16-centroid quantiser are plenty."""
        sample = np.ascontiguousarray(sample, dtype=np.float32)
        if not self.inverted:
            return
        clustering = faiss.Clustering(self.dimension, self.lists, self._index.cp)
        clustering.train(sample, self._index.quantizer)  # FAISS then skips this step
        self._index.train(sample[:: max(1, len(sample) // CODE_TRAINING)])  # spread over ids

    def set_probes(self, probes: int) -> None:
        if self.inverted:
            self._index.nprobe = probes

    def add(self, ids: Ids, vectors: Matrix) -> None:
        ids = np.ascontiguousarray(ids, np.int64)
        self._index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids)
        if self.inverted:
            self._held = _merged(self._held, ids)

    def remove(self, ids: Ids) -> int:
        """Remove these ids (absent ones are ignored); how many were removed."""
        ids = np.ascontiguousarray(ids, np.int64)
        selector = faiss.IDSelectorArray(len(ids), faiss.swig_ptr(ids))
        removed = int(self._index.remove_ids(selector))
        if self.inverted and removed:
            self._held = np.setdiff1d(self._held, ids, assume_unique=True)
        return removed

    def holds(self, ids: Ids) -> npt.NDArray[np.bool_]:
        """Which of these ids the index holds."""
        ids = np.asarray(ids, np.int64)
        if not self.inverted:
            return np.array([self.vector(int(i)) is not None for i in ids], dtype=bool)
        # Binary search in the sorted ids: np.isin would sort all of them on every call.
        at = np.minimum(np.searchsorted(self._held, ids), max(len(self._held) - 1, 0))
        return (self._held[at] == ids) if len(self._held) else np.zeros(len(ids), dtype=bool)

    def search(self, query: Matrix, limit: int) -> tuple[Ids, Matrix]:
        """Ids and scores of the best `limit`, best first; FAISS pads missing ones with -1."""
        scores, ids = self._index.search(np.ascontiguousarray(query[None, :], np.float32), limit)
        found = ids[0] >= 0
        return ids[0][found].astype(np.int64), scores[0][found].astype(np.float32)

    def vector(self, passage_id: int) -> Matrix | None:
        """The float32 vector of a flat index, or None when absent (an inverted index keeps
        only codes: its vectors are read from the database)."""
        if self.inverted:
            raise ValueError("an inverted index keeps codes, not the vectors")
        try:
            return np.asarray(self._index.reconstruct(int(passage_id)), dtype=np.float32)
        except RuntimeError:  # FAISS raises for an id it does not hold
            return None

    def vectors(self, ids: Ids) -> tuple[Ids, Matrix]:
        """The float32 vectors of those of these ids a flat index holds."""
        found = [(int(i), vector) for i in ids if (vector := self.vector(int(i))) is not None]
        if not found:
            return np.empty(0, np.int64), np.empty((0, self.dimension), np.float32)
        return np.array([i for i, _ in found], np.int64), np.stack([v for _, v in found])

    def ids(self) -> Ids:
        """Every id held, in no particular order."""
        if not self.inverted:
            return np.array(faiss.vector_to_array(self._index.id_map), dtype=np.int64)
        lists = self._index.invlists
        parts = [
            faiss.rev_swig_ptr(lists.get_ids(number), lists.list_size(number)).copy()
            for number in range(self._index.nlist)
            if lists.list_size(number)
        ]
        return np.concatenate(parts).astype(np.int64) if parts else np.empty(0, np.int64)

    def all_vectors(self) -> tuple[Ids, Matrix]:
        """Every id and vector of a flat index, to move them into an inverted one."""
        if self.inverted:
            raise ValueError("an inverted index keeps codes, not the vectors")
        ids = self.ids()
        inner = faiss.downcast_index(self._index.index)
        vectors = faiss.rev_swig_ptr(inner.get_xb(), len(ids) * self.dimension)
        return ids, np.array(vectors, dtype=np.float32).reshape(len(ids), self.dimension)


def _merged(held: Ids, new: Ids) -> Ids:
    """Sorted `held` with `new` merged in; new passages mostly have the highest ids, so
    sorting only the new ones and appending them is the usual case."""
    fresh = np.sort(new)
    if not len(held) or not len(fresh) or fresh[0] > held[-1]:
        return np.concatenate([held, fresh])
    return np.union1d(held, fresh)
