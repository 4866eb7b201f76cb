"""FAISS behind precise types: the only module that calls the untyped `faiss` package.

Two shapes of index, both scoring by inner product (cosine on Parley's unit vectors):
a flat one that compares the query with every float32 vector (exact), and an inverted-file
one with 8-bit scalar codes that compares it only with the vectors of the few lists nearest
to it (approximate, a quarter of float32's memory). Both keep Parley's passage ids.
A saved inverted index can be read memory-mapped and read-only (its codes stay in the file),
and merged with changes into a new file list by list (see storage/vector_layers.py).
"""

from __future__ import annotations

import ctypes
import importlib
import os
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
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
# 8-bit codes. 6-bit ones save 92 MiB at 1M passages, but on 300k of the synthetic archive's
# vectors at 16 probes recall@10 against exact search fell from 0.997 to 0.982, and at 100k
# `make bench` measured 0.940 (8-bit: 0.957) against the 0.95 target; 4-bit: 0.932.
CODES = faiss.ScalarQuantizer.QT_8bit
# Read-only memory maps of both saved forms: one file ("ilar"), or a header with its lists in
# a data file ("ilod"). Not IO_FLAG_MMAP: it includes IO_FLAG_SKIP_IVF_DATA, with which a
# header's lists are read wrongly and the first lookup crashes the process (faiss 1.15.1).
MAPPED = faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY


class Exclusion:
    """Ids that searches of a mapped index skip, as a FAISS selector (kept referenced here:
    the search parameters hold only a pointer to it)."""

    def __init__(self, ids: Ids) -> None:
        self.ids = np.ascontiguousarray(ids, dtype=np.int64)
        self._batch = faiss.IDSelectorBatch(len(self.ids), faiss.swig_ptr(self.ids))
        self.selector = faiss.IDSelectorNot(self._batch)


class EngineIndex:
    """A FAISS index keyed by passage id; not thread-safe (VectorIndex holds the lock)."""

    def __init__(self, index: Any, *, inverted: bool, mapped: bool = False) -> None:
        self._index = index
        self.inverted = inverted
        # A mapped index must never change: faiss aborts the whole process (no exception)
        # on an add or removal there, so `add` and `remove` refuse first.
        self.mapped = mapped

    @classmethod
    def flat(cls, dimension: int) -> EngineIndex:
        """Exact search over float32 vectors; IndexIDMap2 so vectors can be looked up by id."""
        return cls(faiss.IndexIDMap2(faiss.IndexFlatIP(dimension)), inverted=False)

    @classmethod
    def inverted_file(cls, dimension: int, lists: int) -> EngineIndex:
        """Untrained IVF with 8-bit codes and a hash map from id to code, for lookups by id."""
        quantiser = faiss.IndexFlatIP(dimension)
        index = faiss.IndexIVFScalarQuantizer(
            quantiser, dimension, lists, CODES, faiss.METRIC_INNER_PRODUCT
        )
        # Unit-length centroids: with raw inner product the longest centroids would draw
        # every query and the lists would be lopsided.
        index.cp.spherical = True
        index.cp.niter = KMEANS_ITERATIONS
        index.set_direct_map_type(faiss.DirectMap.Hashtable)
        return cls(index, inverted=True)  # faiss's wrapper keeps the quantiser referenced

    @classmethod
    def read(cls, path: Path, *, mapped: bool = False) -> EngineIndex:
        """An index saved by `write` (mapped: its inverted lists stay in the file, read-only;
        raises RuntimeError for an unreadable one)."""
        index = faiss.read_index(str(path), MAPPED if mapped else 0)
        engine = cls(index, inverted=isinstance(index, faiss.IndexIVF), mapped=mapped)
        data = engine.data_file
        # faiss maps a data file shorter than its header says without complaint, and the
        # first read past its end kills the process (SIGBUS): check before any read.
        if data is not None and _size(data) < engine._on_disk_lists().totsize:
            raise RuntimeError(f"the data file {data} is shorter than its header says")
        return engine

    def _on_disk_lists(self) -> Any:
        lists = faiss.downcast_InvertedLists(self._index.invlists) if self.inverted else None
        return lists if isinstance(lists, faiss.OnDiskInvertedLists) else None

    @property
    def data_file(self) -> Path | None:
        """The file holding the inverted lists when it is not the index's own file."""
        lists = self._on_disk_lists()
        return None if lists is None else Path(lists.filename)

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
        # Product-quantiser codes, saved by a build that tried them, have no `sq` at all.
        scalar = isinstance(self._index, faiss.IndexIVFScalarQuantizer)
        return scalar and int(self._index.sq.qtype) == CODES

    @property
    def lists(self) -> int:
        """The inverted lists (0 for a flat index)."""
        return int(self._index.nlist) if self.inverted else 0

    def __len__(self) -> int:
        return int(self._index.ntotal)

    def train(self, sample: Matrix) -> None:
        self._index.train(np.ascontiguousarray(sample, dtype=np.float32))

    def set_probes(self, probes: int) -> None:
        if self.inverted:
            self._index.nprobe = probes

    def add(self, ids: Ids, vectors: Matrix) -> None:
        if self.mapped:
            raise ValueError("a memory-mapped index is read-only")
        self._index.add_with_ids(
            np.ascontiguousarray(vectors, dtype=np.float32), np.ascontiguousarray(ids, np.int64)
        )

    def remove(self, ids: Ids) -> int:
        """Remove these ids (absent ones are ignored); how many were removed."""
        if self.mapped:
            raise ValueError("a memory-mapped index is read-only")
        selector = faiss.IDSelectorArray(len(ids), faiss.swig_ptr(np.ascontiguousarray(ids)))
        return int(self._index.remove_ids(selector))

    def search(
        self, query: Matrix, limit: int, *, excluded: Exclusion | None = None
    ) -> tuple[Ids, Matrix]:
        """Ids and scores of the best `limit`, best first, skipping `excluded` (inverted
        only); FAISS pads missing ones with -1."""
        params = None
        if excluded is not None and len(excluded.ids):
            params = faiss.SearchParametersIVF(sel=excluded.selector, nprobe=self._index.nprobe)
        query = np.ascontiguousarray(query[None, :], np.float32)
        # One query runs on this thread alone (FAISS parallelises over queries): with a CPU
        # hog beside it, omp_set_num_threads(1) measured the same, p95 9.3-9.5 ms either way.
        scores, ids = self._index.search(query, limit, params=params)
        found = ids[0] >= 0
        return ids[0][found].astype(np.int64), scores[0][found].astype(np.float32)

    def codes_span(self) -> tuple[int, int] | None:
        """Where a mapped index's codes lie in this process's memory: from the start of the
        first list's to the end of the last's (None for an index in memory, or empty)."""
        if not (self.mapped and self.inverted):
            return None
        lists, size = self._index.invlists, self._index.code_size
        first, end = None, None
        for number in range(self._index.nlist):
            count = lists.list_size(number)
            if count:
                start = faiss.rev_swig_ptr(lists.get_codes(number), count * size).ctypes.data
                first = start if first is None else min(first, start)
                end = start + count * size if end is None else max(end, start + count * size)
        return None if first is None or end is None else (first, end)

    def vector(self, passage_id: int) -> Matrix | None:
        """The stored vector (decoded from its codes when inverted), or None when absent."""
        try:
            return np.asarray(self._index.reconstruct(int(passage_id)), dtype=np.float32)
        except RuntimeError:  # FAISS raises for an id it does not hold
            return None

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
        if not len(ids):
            return ids, np.empty((0, self.dimension), dtype=np.float32)
        inner = faiss.downcast_index(self._index.index)
        vectors = faiss.rev_swig_ptr(inner.get_xb(), len(ids) * self.dimension)
        return ids, np.array(vectors, dtype=np.float32).reshape(len(ids), self.dimension)

    def merged_on_disk(
        self, data: Path, *, removed: Ids, added_ids: Ids, added: Matrix
    ) -> EngineIndex:
        """A new inverted index with this one's quantiser: its codes less `removed`, plus
        `added`, with the lists in `data` (written through a memory map, so the codes are
        never all in memory; FAISS's "resizing" line as it sizes the file goes to stderr)."""
        if not self.inverted:
            raise ValueError("only an inverted index is merged on disk")
        readded = np.isin(added_ids, removed)  # removed from the codes, then added anew
        extra = self._empty_copy()
        extra.add_with_ids(added[~readded], added_ids[~readded])
        lists = faiss.OnDiskInvertedLists(self._index.nlist, self._index.code_size, str(data))
        sources = faiss.InvertedListsPtrVector()
        sources.push_back(self._index.invlists)
        sources.push_back(extra.invlists)
        # Sizes every list first, then copies them: the file holds them end to end.
        with _stdout_to_stderr():
            total = lists.merge_from_multiple(sources.data(), sources.size(), False)
        merged = self._empty_copy()
        merged.replace_invlists(lists, True)
        lists.this.disown()  # `merged` frees it (and unmaps the file)
        merged.ntotal = total
        if len(removed):
            doomed = np.ascontiguousarray(removed, dtype=np.int64)
            merged.remove_ids(faiss.IDSelectorBatch(len(doomed), faiss.swig_ptr(doomed)))
        if readded.any():
            merged.add_with_ids(added[readded], added_ids[readded])
        merged.set_direct_map_type(faiss.DirectMap.Hashtable)
        return EngineIndex(merged, inverted=True)

    def _empty_copy(self) -> Any:
        """An empty index with this one's trained quantiser and codes, lists in memory."""
        source = self._index
        index = faiss.IndexIVFScalarQuantizer(
            faiss.clone_index(source.quantizer),
            source.d,
            source.nlist,
            source.sq.qtype,
            source.metric_type,
        )
        index.sq.trained = source.sq.trained
        index.by_residual = source.by_residual
        index.is_trained = True
        return index


_STDOUT = threading.Lock()


@contextmanager
def _stdout_to_stderr() -> Iterator[None]:
    """Send what C code prints to standard error meanwhile: FAISS prints a "resizing" line
    on standard output as it sizes an on-disk file, and `parley ask --json`'s readers
    expect nothing there but the JSON."""
    with _STDOUT:
        sys.stdout.flush()
        libc = ctypes.CDLL(None)
        libc.fflush(None)
        saved = os.dup(1)
        try:
            os.dup2(2, 1)
            yield
        finally:
            libc.fflush(None)  # C's buffered line goes out before stdout is restored
            os.dup2(saved, 1)
            os.close(saved)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return -1
