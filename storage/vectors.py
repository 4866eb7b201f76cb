"""Passage vectors: float32 BLOBs in the database, searched by FAISS.

The BLOBs are the truth; every index is rebuilt from them. While the archive is small
(below `IVF_THRESHOLD` vectors) the index is flat, exact and in memory. Past it, an inverted
file with 8-bit codes: 4·√n lists, trained on a sample, searched in `PROBES` lists, with
recall@10 against exact search 0.99 (storage/vector_engine.py says why not 6-bit;
bench/engines.py, bench/retrieval.py). Training and filling it at 1M takes 2–3 minutes on
two shared cores, so with SQLite a large index is saved beside the database file and used
from there: its codes memory-mapped (395 MiB at 1M, paged in by the lists searched, never
copied into the heap), the changes since layered over them until they pass 1%, then merged
into a new file (storage/vector_layers.py), and reconciled with the database at each start
through the list of ids saved beside it (reading them from the mapped lists paged in most of
the codes: the start's peak RSS at 1M was 952–977 MiB that way, 776 with the list).
At 1M: 1.1 / 1.6–2.7 ms (p50 / p95) per query (a list's first search faults its pages in,
~1 ms; warm, as fast as from the heap; from a cold disk 21–36 ms, hence the file is read into
the page cache as it opens: storage/vector_layers.read_ahead), recall@10 0.993. The saved
index maps in 0.1 s (read into the heap it took 2.3–2.5 s). A served process's anonymous
memory fell 920 -> 515 MiB; the file's pages that searches touch count as resident too,
though shared and reclaimable: 1,000 searches make the whole file resident (peak RSS
1,120–1,140 MiB at 1M: 546 anonymous, 387 the index, the rest the model's and libraries'
files). A consolidation at 1M takes 1.3 s, and maps both files whole while it merges
(+713 MiB of peak RSS in a process holding only the index).
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session

from storage.vector_engine import EngineIndex, Ids
from storage.vector_engine import Matrix as Matrix  # re-exported: callers import it from here
from storage.vector_layers import LayeredEngine, list_ids_before_rename, open_saved
from storage.vector_rows import fetch_vectors, stored_ids, stream_vectors
from storage.vector_rows import vectors_of_articles as vectors_of_articles  # re-exported

logger = logging.getLogger(__name__)

IVF_THRESHOLD = 50_000  # a flat scan of 50k float32 vectors takes about 2 ms (measured)
# lists = 4√n: at 1M, 4,000 lists of ~250 vectors. With √n lists (fewer lists than the
# synthetic archive's 2,000 topics) recall@10 fell to 0.8–0.9 at 16 probes (measured).
LISTS_PER_ROOT = 4.0
TRAINING_PER_LIST = 40  # FAISS warns below 39 training points per list
PROBES = 16  # lists searched per query: recall@10 0.97 at 100k, 8 probes 0.96 (bench/engines.py)
ADD_CHUNK = 20_000
SPOT_CHECKS = 32  # saved vectors compared with the stored ones before a saved index is used
SPOT_CHECK_COSINE = 0.98  # 8-bit codes decode to within ~0.01 of the vector (measured)


def vector_to_blob(vector: npt.NDArray[np.floating]) -> bytes:
    """Little-endian float32 bytes, the stored form of a vector."""
    return np.asarray(vector, dtype="<f4").tobytes()


def blob_to_vector(blob: bytes, dimension: int) -> Matrix:
    """The vector stored in a BLOB, checked against its recorded dimension."""
    vector = np.frombuffer(blob, dtype="<f4")
    if vector.shape[0] != dimension:
        raise ValueError(f"stored vector has {vector.shape[0]} values, expected {dimension}")
    return vector.astype(np.float32)


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
    """Cosine (inner-product) search over passage vectors; safe to share between threads."""

    def __init__(
        self,
        dimension: int,
        *,
        ivf_threshold: int = IVF_THRESHOLD,
        probes: int = PROBES,
        engine: EngineIndex | LayeredEngine | None = None,
    ) -> None:
        self.dimension = dimension
        self.ivf_threshold = ivf_threshold
        self.probes = probes
        # One lock for reads and writes: FAISS may not search while an add moves codes.
        self._lock = threading.Lock()
        # Not `engine or …`: an engine has a length, and a trained one still empty is falsy.
        self._engine: EngineIndex | LayeredEngine = (
            engine if engine is not None else EngineIndex.flat(dimension)
        )
        self._engine.set_probes(probes)

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
        if isinstance(self._engine, LayeredEngine):
            self._engine.add(new_ids, vectors)
            self._consolidate_if_due()
        elif not self._engine.inverted and len(self._engine) + len(new_ids) >= self.ivf_threshold:
            self._engine = self._inverted_from_flat(self._engine, new_ids, vectors)
        else:
            self._engine.add(new_ids, vectors)

    def _inverted_from_flat(
        self, flat: EngineIndex, new_ids: Ids, new_vectors: Matrix
    ) -> EngineIndex:
        """Train an inverted index on everything held plus the new vectors, and fill it.
        Happens once, as the archive crosses the threshold (about a second at 50k)."""
        held_ids, held = flat.all_vectors()
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
        return engine

    def add_missing(self, ids: Iterable[int], vectors: Matrix) -> int:
        """Add the vectors of passages not held yet (catching up may meet a passage twice:
        once from this process's own ingest, once from the database); how many were added."""
        wanted = np.fromiter(ids, dtype=np.int64)
        vectors = np.asarray(vectors, dtype=np.float32).reshape(-1, self.dimension)
        if wanted.shape[0] != vectors.shape[0]:
            raise ValueError("each vector needs exactly one id")
        with self._lock:
            fresh = np.array([self._engine.vector(int(i)) is None for i in wanted], dtype=bool)
            self._add_held(wanted[fresh], vectors[fresh])
        return int(fresh.sum())

    def replace_with(self, other: VectorIndex) -> None:
        """Hold what another index holds from now on (a reload, swapped in at once, so
        searches meanwhile see the old vectors rather than none)."""
        with self._lock:
            self._engine = other._engine
            self.ivf_threshold = other.ivf_threshold

    def remove(self, ids: Iterable[int]) -> None:
        """Forget the vectors of these passages (ids it does not hold are ignored)."""
        doomed = np.unique(np.fromiter(ids, dtype=np.int64))
        if len(doomed):
            with self._lock:
                self._engine.remove(doomed)
                self._consolidate_if_due()

    def _consolidate_if_due(self) -> None:
        """Rewrite a mapped index with its changes once they pass 1% of it (with the lock
        held), so the in-memory delta stays small and the next start's catching up short.
        Searches wait meanwhile: about a second per 100k passages."""
        engine = self._engine
        if not isinstance(engine, LayeredEngine) or not engine.due:
            return
        try:
            self._engine = engine.consolidated(engine.path)
        except (OSError, RuntimeError):  # a full disk, say: the changes wait in memory
            logger.exception("Could not rewrite the saved vector index %s", engine.path)
            engine.postpone()
            return
        self._engine.set_probes(self.probes)

    def search(self, query: npt.NDArray[np.floating], limit: int) -> list[tuple[int, float]]:
        """The ids of the most similar vectors with their cosine similarity, best first."""
        if limit <= 0:
            return []
        vector = np.asarray(query, dtype=np.float32).reshape(self.dimension)
        with self._lock:
            if not len(self._engine):
                return []
            ids, scores = self._engine.search(vector, limit)
        return [(int(i), float(s)) for i, s in zip(ids, scores, strict=True)]

    def similarities(self, query: npt.NDArray[np.floating], ids: Iterable[int]) -> dict[int, float]:
        """Cosine similarity of the query to each of these passages that has a vector
        (exact while flat; from the 8-bit codes once inverted, within about 0.01)."""
        vector = np.asarray(query, dtype=np.float32).reshape(self.dimension)
        found: dict[int, float] = {}
        with self._lock:
            for passage_id in dict.fromkeys(ids):
                stored = self._engine.vector(passage_id)
                if stored is not None:
                    found[int(passage_id)] = float(stored @ vector)
        return found

    def ids(self) -> Ids:
        """Every passage id held, ascending."""
        with self._lock:
            return np.sort(self._engine.ids())

    def stored_vector(self, passage_id: int) -> Matrix | None:
        """The vector held for a passage (decoded when inverted), or None."""
        with self._lock:
            return self._engine.vector(passage_id)

    def save(self, path: Path) -> None:
        """Write the index to `path` atomically (a reader never sees half a file); a mapped
        one is rewritten with its changes and, when saved to its own path, mapped anew."""
        partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
        with self._lock:
            if isinstance(self._engine, LayeredEngine):
                fresh = self._engine.consolidated(path)
                if path == self._engine.path:
                    self._engine = fresh
                    self._engine.set_probes(self.probes)
                return
            self._engine.write(partial)
            if self._engine.inverted:
                list_ids_before_rename(partial, path, self._engine.ids())
        partial.replace(path)

    @classmethod
    def read(
        cls, path: Path, *, probes: int = PROBES, ivf_threshold: int = IVF_THRESHOLD
    ) -> VectorIndex:
        """An index saved by `save`; an inverted one mapped, its codes left in the file."""
        engine = open_saved(path)
        return cls(engine.dimension, ivf_threshold=ivf_threshold, probes=probes, engine=engine)


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
    once large, the saved index brought up to date with the database, else built anew."""
    ids = stored_ids(session, model)
    if len(ids) < ivf_threshold:
        index = VectorIndex(dimension, ivf_threshold=ivf_threshold, probes=probes)
        for batch_ids, vectors in stream_vectors(session, model, dimension):
            index.add(batch_ids, vectors)
        return index
    path = saved_index_path(session, model) if save_beside_database else None
    saved = _saved(path, session, model, ids, probes=probes, ivf_threshold=ivf_threshold)
    if saved is not None and path is not None:
        _reconcile(saved, session, model, ids)  # rewrites the saved index past 1% changed
        return saved
    built = _build_inverted(session, model, dimension, ids, probes, ivf_threshold)
    if path is None:
        return built
    # Built in memory (the codes are written as k-means places them, list by list across
    # the whole archive, which a map of a new file would scatter): saved, then mapped as the
    # next start will, so that the codes' heap is freed.
    built.save(path)
    del built
    return VectorIndex.read(path, probes=probes, ivf_threshold=ivf_threshold)


def _saved(
    path: Path | None, session: Session, model: str, ids: Ids, *, probes: int, ivf_threshold: int
) -> VectorIndex | None:
    """The saved index when it fits this archive: same dimension and codes, lists right for
    its size (within 2×), and a sample of its vectors equal to the stored ones."""
    if path is None or not path.exists():
        return None
    try:
        index = VectorIndex.read(path, probes=probes, ivf_threshold=ivf_threshold)
    except RuntimeError:  # unreadable (truncated, another FAISS format): rebuild
        logger.warning("Ignoring the unreadable saved vector index %s", path)
        return None
    wanted = lists_for(len(ids))
    if not index.inverted or not index.current_codes or not wanted / 2 <= index.lists <= wanted * 2:
        return None
    sample = np.random.default_rng().choice(ids, size=min(len(ids), SPOT_CHECKS), replace=False)
    stored = fetch_vectors(session, model, index.dimension, sample)
    for passage_id, vector in zip(*stored, strict=True):
        held = index.stored_vector(int(passage_id))
        if held is not None and float(held @ vector) < SPOT_CHECK_COSINE:
            logger.warning("The saved vector index %s differs from the database", path)
            return None
    return index


def _reconcile(index: VectorIndex, session: Session, model: str, ids: Ids) -> None:
    """Add the stored vectors the index lacks and drop what the database no longer has."""
    held = index.ids()
    missing = np.setdiff1d(ids, held, assume_unique=True)
    gone = np.setdiff1d(held, ids, assume_unique=True)
    for start in range(0, len(missing), ADD_CHUNK):
        index.add(
            *fetch_vectors(session, model, index.dimension, missing[start : start + ADD_CHUNK])
        )
    index.remove(gone)


def _build_inverted(
    session: Session, model: str, dimension: int, ids: Ids, probes: int, ivf_threshold: int
) -> VectorIndex:
    """Train on a random sample of the stored vectors, then add them all a batch at a
    time, so the float32 vectors are never all in memory at once."""
    lists = lists_for(len(ids))
    rng = np.random.default_rng(len(ids))
    sample_ids = np.sort(rng.choice(ids, size=min(len(ids), training_size(lists)), replace=False))
    _, sample = fetch_vectors(session, model, dimension, sample_ids)
    engine = train_inverted(dimension, lists, sample, probes=probes)
    del sample
    index = VectorIndex(dimension, ivf_threshold=ivf_threshold, probes=probes, engine=engine)
    for batch_ids, vectors in stream_vectors(session, model, dimension):
        index.add(batch_ids, vectors)
    return index
