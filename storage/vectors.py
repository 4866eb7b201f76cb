"""Passage vectors: float32 BLOBs in the database, searched in memory by FAISS.

The BLOBs are the truth; the in-memory index is rebuilt from them. While the archive is
small (below `IVF_THRESHOLD` vectors) the index is flat and exact. Past it, an inverted
file with 48-byte product-quantiser codes (storage/vector_engine.py): 4·√n lists, trained
on a sample, searched in `PROBES` lists for a short list of `SHORT_LIST` candidates, which
are re-scored exactly with their float32 vectors read from the database by id. The codes
take 46 MiB at 1M passages where 8-bit scalar codes took 366 MiB, at the same recall.
`make bench` at 1M (load 5–8): peak RSS 811 MiB (8-bit codes: 1,207), recall@10 0.962 /
0.998 at 100k / 1M; the price is the read of 100 rows per query, 1–3 ms from a warm page
cache, more from a cold one (dense p50 / p95 12.8 / 21.8 ms at 1M; 8-bit codes 1.7 / 21.7).
Training and filling it at 1M takes minutes on two shared cores, so a large index is
also saved beside the SQLite file and reconciled with the database at the next start.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from collections.abc import Iterable
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from storage.stored_vectors import (
    StoredVectors,
    fetch_vectors,
    read_sample,
    stored_ids,
    stream_vectors,
)
from storage.stored_vectors import blob_to_vector as blob_to_vector  # re-exported, as are
from storage.stored_vectors import vector_to_blob as vector_to_blob  # these: callers import
from storage.stored_vectors import vectors_of_articles as vectors_of_articles  # them here
from storage.vector_engine import EngineIndex, Ids
from storage.vector_engine import Matrix as Matrix

logger = logging.getLogger(__name__)

IVF_THRESHOLD = 50_000  # a flat scan of 50k float32 vectors takes about 2 ms (measured)
# lists = 4√n: at 1M, 4,000 lists of ~250 vectors. With √n lists (fewer lists than the
# synthetic archive's 2,000 topics) recall@10 fell to 0.8–0.9 at 16 probes (measured).
LISTS_PER_ROOT = 4.0
TRAINING_PER_LIST = 40  # FAISS warns below 39 training points per list
PROBES = 16  # lists searched per query: recall@10 0.97 at 100k, 8 probes 0.96 (bench/engines.py)
# Candidates the codes pick for exact re-scoring: the true top 10 is within the codes' top
# 100 as often as 8-bit codes found it (top 40: recall@10 0.94 at 100k; measured).
SHORT_LIST = 100
ADD_CHUNK = 20_000
SPOT_CHECKS = 32  # stored vectors searched for in a saved index before it is used
SPOT_CHECK_FOUND = 0.75  # share of them it must find (a matching index finds ~all; measured)


class ExactVectors(Protocol):
    """Where the float32 vectors of an inverted index's candidates are read from."""

    def vectors(self, ids: Ids) -> tuple[Ids, Matrix]:
        """The vectors of those of these ids that have one."""
        ...


def lists_for(count: int) -> int:
    """How many inverted lists suit an index of `count` vectors."""
    return max(16, round(LISTS_PER_ROOT * math.sqrt(count)))


def training_size(lists: int) -> int:
    """How many vectors to train `lists` centroids on."""
    return TRAINING_PER_LIST * lists


def train_inverted(dimension: int, lists: int, sample: Matrix, *, probes: int) -> EngineIndex:
    """An empty inverted-file index whose lists are k-means clusters of the sample."""
    engine = EngineIndex.inverted_file(dimension, lists)
    engine.train(sample)
    engine.set_probes(probes)
    return engine


class VectorIndex:
    """Cosine (inner-product) search over passage vectors; safe to share between threads.

    Once inverted it keeps only codes, and reads the float32 vectors of its candidates from
    `stored` (the database); an index given none keeps float32 copies itself, as it did
    while flat (tests and the bench's engine comparison use such an index)."""

    def __init__(
        self,
        dimension: int,
        *,
        ivf_threshold: int = IVF_THRESHOLD,
        probes: int = PROBES,
        engine: EngineIndex | None = None,
        stored: ExactVectors | None = None,
    ) -> None:
        self.dimension = dimension
        self.ivf_threshold = ivf_threshold
        self.probes = probes
        # One lock for reads and writes: FAISS may not search while an add moves codes.
        self._lock = threading.Lock()
        self._engine = engine if engine is not None else EngineIndex.flat(dimension)
        self._engine.set_probes(probes)
        self._stored = stored
        self._held: EngineIndex | None = None  # float32 copies when inverted without `stored`

    def __len__(self) -> int:
        return len(self._engine)

    @property
    def inverted(self) -> bool:
        """Whether the index has grown into an inverted file (approximate search)."""
        return self._engine.inverted

    @property
    def lists(self) -> int:
        return self._engine.lists

    @property
    def current_codes(self) -> bool:
        """Whether it keeps the codes Parley makes now (see EngineIndex.current_codes)."""
        return self._engine.current_codes

    def set_probes(self, probes: int) -> None:
        """Search this many inverted lists per query from now on (more: slower, surer)."""
        with self._lock:
            self.probes = probes
            self._engine.set_probes(probes)

    def add(self, ids: Iterable[int], vectors: Matrix) -> None:
        """Add vectors, one row per passage id; past the threshold the index turns inverted."""
        new_ids = np.fromiter(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if new_ids.shape[0] != vectors.shape[0]:
            raise ValueError("each vector needs exactly one id")
        with self._lock:
            self._add_held(new_ids, vectors)

    def _add_held(self, new_ids: Ids, vectors: Matrix) -> None:
        """`add`, with the lock held by the caller."""
        if not len(new_ids):
            return
        if not self._engine.inverted and len(self._engine) + len(new_ids) >= self.ivf_threshold:
            self._engine = self._inverted_from_flat(new_ids, vectors)
            return
        self._engine.add(new_ids, vectors)
        if self._held is not None:
            self._held.add(new_ids, vectors)

    def _inverted_from_flat(self, new_ids: Ids, new_vectors: Matrix) -> EngineIndex:
        """Train an inverted index on everything held plus the new vectors, and fill it.
        Happens once, as the archive crosses the threshold (seconds at 50k). Without the
        database to read vectors from, the flat index goes on holding them."""
        held_ids, held = self._engine.all_vectors()
        ids = np.concatenate([held_ids, new_ids])
        vectors = np.concatenate([held, new_vectors])
        del held
        lists = lists_for(len(ids))
        rng = np.random.default_rng(len(ids))
        rows = rng.choice(len(ids), size=min(len(ids), training_size(lists)), replace=False)
        engine = train_inverted(self.dimension, lists, vectors[np.sort(rows)], probes=self.probes)
        for start in range(0, len(ids), ADD_CHUNK):
            end = start + ADD_CHUNK
            engine.add(ids[start:end], vectors[start:end])
        if self._stored is None:
            self._engine.add(new_ids, new_vectors)
            self._held = self._engine
        return engine

    def add_missing(self, ids: Iterable[int], vectors: Matrix) -> int:
        """Add the vectors of passages not held yet (catching up may meet a passage twice:
        once from this process's own ingest, once from the database); how many were added."""
        wanted = np.fromiter(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if wanted.shape[0] != vectors.shape[0]:
            raise ValueError("each vector needs exactly one id")
        with self._lock:
            fresh = ~self._engine.holds(wanted)
            self._add_held(wanted[fresh], vectors[fresh])
        return int(fresh.sum())

    def replace_with(self, other: VectorIndex) -> None:
        """Hold what another index holds from now on (a reload, swapped in at once, so
        searches meanwhile see the old vectors rather than none)."""
        with self._lock:
            self._engine = other._engine
            self._stored = other._stored
            self._held = other._held
            self.ivf_threshold = other.ivf_threshold

    def remove(self, ids: Iterable[int]) -> None:
        """Forget the vectors of these passages (ids it does not hold are ignored)."""
        doomed = np.unique(np.fromiter(ids, dtype=np.int64))
        if len(doomed):
            with self._lock:
                self._engine.remove(doomed)
                if self._held is not None:
                    self._held.remove(doomed)

    def search(self, query: npt.NDArray[np.floating], limit: int) -> list[tuple[int, float]]:
        """The ids of the most similar vectors with their cosine similarity, best first."""
        if limit <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(self.dimension)
        with self._lock:
            if not len(self._engine):
                return []
            if not self._engine.inverted:
                ids, scores = self._engine.search(vector, limit)
                return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]
            candidates, approximate = self._engine.search(vector, max(limit, SHORT_LIST))
            exact = self._exact()
        if exact is None:  # a saved index read alone: the codes' own order
            return [(int(i), float(s)) for i, s in zip(candidates, approximate, strict=True)]
        # Read outside the lock: a passage removed meanwhile is simply not found.
        found, vectors = exact.vectors(candidates)
        return _best(found, vectors @ vector, limit)

    def similarities(self, query: npt.NDArray[np.floating], ids: Iterable[int]) -> dict[int, float]:
        """Exact cosine similarity of the query to each of these passages held here."""
        vector = np.asarray(query, dtype=np.float32).reshape(self.dimension)
        wanted = np.fromiter(dict.fromkeys(ids), dtype=np.int64)
        found, vectors = self._vectors(wanted)
        return {int(i): float(s) for i, s in zip(found, vectors @ vector, strict=True)}

    def ids(self) -> Ids:
        """Every passage id held, ascending."""
        with self._lock:
            return np.sort(self._engine.ids())

    def stored_vector(self, passage_id: int) -> Matrix | None:
        """The float32 vector held for a passage, or None."""
        found, vectors = self._vectors(np.array([passage_id], dtype=np.int64))
        return vectors[0] if len(found) else None

    def _vectors(self, ids: Ids) -> tuple[Ids, Matrix]:
        """The float32 vectors of those of these ids held here."""
        with self._lock:
            if not self._engine.inverted:
                return self._engine.vectors(ids)
            held = ids[self._engine.holds(ids)]
            exact = self._exact()
        if exact is None:
            raise ValueError("an inverted index read alone has no vectors to give")
        return exact.vectors(held)

    def _exact(self) -> ExactVectors | None:
        """Where an inverted index's float32 vectors are read (lock held by the caller)."""
        return self._stored if self._stored is not None else self._held

    def save(self, path: Path) -> None:
        """Write the index to `path` atomically (a reader never sees half a file)."""
        partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
        with self._lock:
            self._engine.write(partial)
        partial.replace(path)

    @classmethod
    def read(
        cls,
        path: Path,
        *,
        probes: int = PROBES,
        ivf_threshold: int = IVF_THRESHOLD,
        stored: ExactVectors | None = None,
    ) -> VectorIndex:
        """An index saved by `save`, reading its candidates' vectors from `stored`."""
        engine = EngineIndex.read(path)
        return cls(
            engine.dimension, ivf_threshold=ivf_threshold, probes=probes, engine=engine,
            stored=stored,
        )  # fmt: skip


def _best(ids: Ids, scores: npt.NDArray[np.float32], limit: int) -> list[tuple[int, float]]:
    """The `limit` best-scoring ids, best first."""
    order = np.argsort(-scores, kind="stable")[:limit]
    return [(int(ids[row]), float(scores[row])) for row in order]


def saved_index_path(session: Session, model: str) -> Path | None:
    """Where a large index of this model is saved: beside the SQLite file (None otherwise)."""
    url = session.get_bind().engine.url
    if url.get_backend_name() != "sqlite" or url.database in (None, "", ":memory:"):
        return None
    database = Path(str(url.database))
    digest = hashlib.sha256(model.encode()).hexdigest()[:12]
    return database.with_name(f"{database.name}.vectors-{digest}.faiss")


def load_vector_index(
    session: Session,
    *,
    model: str,
    dimension: int,
    ivf_threshold: int = IVF_THRESHOLD,
    probes: int = PROBES,
    save_beside_database: bool = True,
) -> VectorIndex:
    """Every stored vector of the model in a new index: flat and read whole while small;
    once large, the saved index brought up to date with the database, else built anew.
    Either reads the vectors of its candidates from this session's database once inverted."""
    stored = StoredVectors.of(session, model=model, dimension=dimension)
    ids = stored_ids(session, model)
    if len(ids) < ivf_threshold:
        index = VectorIndex(dimension, ivf_threshold=ivf_threshold, probes=probes, stored=stored)
        for batch_ids, vectors in stream_vectors(session, model, dimension):
            index.add(batch_ids, vectors)
        return index
    path = saved_index_path(session, model) if save_beside_database else None
    saved = _saved(path, session, stored, ids, probes=probes, ivf_threshold=ivf_threshold)
    if saved is not None and path is not None:
        changed = _reconcile(saved, session, stored, ids)
        if changed > len(ids) // 100:  # keep the next start's catching up short
            saved.save(path)
        return saved
    built = _build_inverted(session, stored, ids, probes, ivf_threshold)
    if path is not None:
        built.save(path)
    return built


def _saved(
    path: Path | None,
    session: Session,
    stored: StoredVectors,
    ids: Ids,
    *,
    probes: int,
    ivf_threshold: int,
) -> VectorIndex | None:
    """The saved index when it fits this archive: same dimension and codes, lists right for
    its size (within 2×), and a sample of the stored vectors found by their own ids."""
    if path is None or not path.exists():
        return None
    try:
        index = VectorIndex.read(path, probes=probes, ivf_threshold=ivf_threshold, stored=stored)
    except RuntimeError:  # unreadable (truncated, another FAISS format): rebuild
        logger.warning("Ignoring the unreadable saved vector index %s", path)
        return None
    wanted = lists_for(len(ids))
    if not index.inverted or not index.current_codes or not wanted / 2 <= index.lists <= wanted * 2:
        return None
    # The codes decode only roughly, so compare by search: a stored vector's best match is
    # itself, which a matching index finds among its candidates (re-scored to 1.0); one
    # made from other vectors with the same ids rarely does.
    sample = np.random.default_rng().choice(ids, size=min(len(ids), SPOT_CHECKS), replace=False)
    sample_ids, vectors = fetch_vectors(session, stored.model, stored.dimension, sample)
    found = sum(
        int(passage_id) in {best for best, _ in index.search(vector, 10)}
        for passage_id, vector in zip(sample_ids, vectors, strict=True)
    )
    if found < SPOT_CHECK_FOUND * len(sample_ids):
        logger.warning("The saved vector index %s differs from the database", path)
        return None
    return index


def _reconcile(index: VectorIndex, session: Session, stored: StoredVectors, ids: Ids) -> int:
    """Add the stored vectors the index lacks and drop what the database no longer has."""
    held = index.ids()
    missing = np.setdiff1d(ids, held, assume_unique=True)
    gone = np.setdiff1d(held, ids, assume_unique=True)
    for start in range(0, len(missing), ADD_CHUNK):
        chunk = missing[start : start + ADD_CHUNK]
        index.add(*fetch_vectors(session, stored.model, stored.dimension, chunk))
    index.remove(gone)
    return len(missing) + len(gone)


def _build_inverted(
    session: Session, stored: StoredVectors, ids: Ids, probes: int, ivf_threshold: int
) -> VectorIndex:
    """Train on a random sample of the stored vectors, then add them all a batch at a
    time, so the float32 vectors are never all in memory at once."""
    model, dimension = stored.model, stored.dimension
    lists = lists_for(len(ids))
    rng = np.random.default_rng(len(ids))
    sample_ids = np.sort(rng.choice(ids, size=min(len(ids), training_size(lists)), replace=False))
    sample = read_sample(session, model, dimension, sample_ids)
    engine = train_inverted(dimension, lists, sample, probes=probes)
    del sample
    index = VectorIndex(
        dimension, ivf_threshold=ivf_threshold, probes=probes, engine=engine, stored=stored
    )
    for batch_ids, vectors in stream_vectors(session, model, dimension):
        index.add(batch_ids, vectors)
    return index
