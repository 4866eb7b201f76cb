"""A saved inverted index used in place: its codes memory-mapped from the file, never copied
into the heap, with the changes since it was written layered over it.

The base is the saved index, mapped read-only and never written while mapped (faiss aborts
the process on a write to a mapped index). Vectors added since live in a small exact index in
memory (the delta: a flat scan of the 1% of changes allowed before consolidation, 10,000 at
1M passages, is ~15 MiB and well under a millisecond); the base's vectors removed since are a
set of ids that every search skips through FAISS's own selector, and that lookups skip too.
Consolidation merges base − removed + delta into a new file list by list (codes copied from
map to map), then renames it over the saved one and maps that: the header lives at the saved
index's path and its lists in a data file beside it with a name never reused, so a crash at
any point leaves either the old index or the new one whole, and at worst a leftover that the
next start removes. An older mapping keeps its deleted file alive until it is dropped.
The header names its data file by absolute path: a directory moved elsewhere has its index
rebuilt at the next start (IO_FLAG_ONDISK_SAME_DIR would avoid that, but faiss prints a
line on stdout at every read with it). A merge maps both files, so while it runs (1.3 s at
1M) the process's resident pages include both (file pages, reclaimable), and faiss prints
one "resizing" line (sent to stderr: see vector_engine._stdout_to_stderr).
Beside the index, an ids file lists the ids it holds, written with it and tagged with the
identity of the header file it describes (device, inode, size, modification time), so that
a start can reconcile the index with the database without reading the ids from the mapped
lists: they sit right after each list's codes, and the kernel maps the cached pages around
each one it reads, so that scan made 160–400 MiB of codes resident at 1M (whichever of it
was in the page cache). An ids file that describes another header (a crash between the two
renames, a copy, a save by an older Parley) is ignored, and written anew from the lists.
When a saved index is opened, a thread asks the kernel to read its file into the page cache
(`read_ahead`): searches then fault in cached pages, never wait on the disk.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from pathlib import Path

import numpy as np

from storage.mapped_pages import MappedPages
from storage.vector_engine import EngineIndex, Exclusion, Ids, Matrix

Identity = Ids  # a saved header's device, inode, size and modification time (ns)

logger = logging.getLogger(__name__)

CONSOLIDATE_SHARE = 100  # rewritten once over 1/100 of it has changed
READ_AHEAD_CHUNK = 2 << 20
LEFTOVER_AGE_SECONDS = 3600  # younger leftovers may be another process's merge in progress


class LayeredEngine:
    """A mapped saved index, the vectors added since, and its vectors removed since; the same
    operations as EngineIndex. Not thread-safe (VectorIndex holds the lock)."""

    inverted = True

    def __init__(self, base: EngineIndex, path: Path, identity: Identity | None) -> None:
        self.base = base
        self.path = path
        self.identity = identity  # of the header file `base` was read from, when certain
        self.delta = EngineIndex.flat(base.dimension)
        self.removed: set[int] = set()
        self._exclusion: Exclusion | None = None
        self._postponed_until = 0  # changes
        self._pages = MappedPages(base.codes_span)

    @property
    def dimension(self) -> int:
        return self.base.dimension

    @property
    def lists(self) -> int:
        return self.base.lists

    @property
    def current_codes(self) -> bool:
        return self.base.current_codes

    @property
    def changes(self) -> int:
        """How many vectors differ from the base: added and removed since it was written."""
        return len(self.delta) + len(self.removed)

    @property
    def due(self) -> bool:
        """Whether it is time to consolidate (over 1% changed, unless postponed)."""
        return self.changes > max(len(self) // CONSOLIDATE_SHARE, self._postponed_until)

    def postpone(self) -> None:
        """Try again only once the changes have doubled (a consolidation failed)."""
        self._postponed_until = 2 * self.changes

    def __len__(self) -> int:
        return len(self.base) - len(self.removed) + len(self.delta)

    def set_probes(self, probes: int) -> None:
        self.base.set_probes(probes)

    def add(self, ids: Ids, vectors: Matrix) -> None:
        self.delta.add(ids, vectors)

    def remove(self, ids: Ids) -> int:
        """Forget these ids (absent ones are ignored); how many were held."""
        count = self.delta.remove(ids)
        held = [
            int(i)
            for i in ids
            if int(i) not in self.removed and self.base.vector(int(i)) is not None
        ]
        if held:
            self.removed.update(held)
            self._exclusion = None
        return count + len(held)

    def search(self, query: Matrix, limit: int) -> tuple[Ids, Matrix]:
        """The best `limit` of the base (less the removed) and the delta, best first."""
        if self._exclusion is None:
            self._exclusion = Exclusion(np.fromiter(self.removed, np.int64, len(self.removed)))
        ids, scores = self.base.search(query, limit, excluded=self._exclusion)
        self._pages.searched()
        if not len(self.delta):
            return ids, scores
        added_ids, added_scores = self.delta.search(query, limit)
        ids = np.concatenate([ids, added_ids])
        scores = np.concatenate([scores, added_scores])
        best = np.argsort(-scores, kind="stable")[:limit]
        return ids[best], scores[best]

    def vector(self, passage_id: int) -> Matrix | None:
        added = self.delta.vector(passage_id)
        if added is not None or passage_id in self.removed:
            return added
        return self.base.vector(passage_id)

    def ids(self) -> Ids:
        """Every id held, in no particular order."""
        held = self.base_ids()
        if self.removed:
            removed = np.fromiter(self.removed, np.int64, len(self.removed))
            held = held[~np.isin(held, removed)]
        return np.concatenate([held, self.delta.ids()])

    def base_ids(self) -> Ids:
        """The base's ids, ascending: from its ids file, else read from its lists (which pages
        in most of the codes) and saved in one for the next start."""
        if self.identity is not None:
            saved = read_ids(self.path, identity=self.identity, count=len(self.base))
            if saved is not None:
                return saved
        held = np.sort(self.base.ids())
        if self.identity is not None:
            try:
                write_ids(self.path, held, identity=self.identity)
            except OSError:  # a read-only directory, say: read from the lists next time too
                logger.warning("Could not save the vector index's ids beside %s", self.path)
        return held

    def consolidated(self, path: Path) -> LayeredEngine:
        """This index written whole to `path` (header there, lists in a new data file beside
        it) and mapped from there; the data file it replaces at `path` is deleted."""
        data = path.with_name(f"{path.name}.{secrets.token_hex(6)}.codes").absolute()
        partial = path.with_name(f"{path.name}.{os.getpid()}-{threading.get_ident()}.partial")
        added_ids, added = self.delta.all_vectors()
        removed = np.fromiter(self.removed, np.int64, len(self.removed))
        held = np.union1d(np.setdiff1d(self.base_ids(), removed), added_ids)
        try:
            merged = self.base.merged_on_disk(
                data, removed=removed, added_ids=added_ids, added=added
            )
            merged.write(partial)
            del merged  # unmaps the data file before it is mapped read-only
            list_ids_before_rename(partial, path, held)
            partial.replace(path)
        except BaseException:
            partial.unlink(missing_ok=True)
            data.unlink(missing_ok=True)
            raise
        fresh = _mapped(path)
        superseded = self.base.data_file
        if path == self.path and superseded is not None and _beside(superseded, path):
            superseded.unlink(missing_ok=True)  # this mapping keeps it readable until dropped
        return fresh


def open_saved(path: Path) -> EngineIndex | LayeredEngine:
    """A saved index: an inverted one mapped (its codes stay in the file), a flat one read
    into memory. Raises RuntimeError when it cannot be read."""
    engine = _mapped(path)
    if engine.base.inverted:
        remove_leftovers(path, keep=engine.base.data_file)
        threading.Thread(
            target=read_ahead,
            args=(engine.base.data_file or path,),
            name="vector-readahead",
            daemon=True,  # a command that exits at once need not wait for it
        ).start()
        return engine
    return EngineIndex.read(path)  # a mapped flat index could not take new vectors


def _mapped(path: Path) -> LayeredEngine:
    """The index at `path`, mapped, with its header's identity when no other process
    replaced the file while it was read."""
    before = file_identity(path)
    engine = EngineIndex.read(path, mapped=True)
    after = file_identity(path)
    same = before is not None and after is not None and np.array_equal(before, after)
    return LayeredEngine(engine, path, before if same else None)


def read_ahead(path: Path) -> None:
    """Ask the kernel to read the whole file into the page cache (not into this process's
    memory). A search faults in its lists' codes: from disk, a random read each, 24–38 ms
    per query at 1M (16 lists); from the page cache, 1.2 ms. Sequentially the whole file
    reads in 0.5–1 s. One 2 MiB range per call: the kernel reads at most its readahead
    window per WILLNEED, however long the range asked for."""
    try:
        descriptor = os.open(path, os.O_RDONLY)
    except OSError:  # replaced meanwhile: the next start reads the new one
        return
    try:
        size = os.fstat(descriptor).st_size
        for offset in range(0, size, READ_AHEAD_CHUNK):
            os.posix_fadvise(descriptor, offset, READ_AHEAD_CHUNK, os.POSIX_FADV_WILLNEED)
    except OSError:  # only an optimisation
        logger.debug("Could not read %s ahead", path, exc_info=True)
    finally:
        os.close(descriptor)


def file_identity(path: Path) -> Identity | None:
    """What tells one saved header from another at the same path (renaming keeps it)."""
    try:
        found = path.stat()
    except OSError:
        return None
    return np.array([found.st_dev, found.st_ino, found.st_size, found.st_mtime_ns], np.int64)


def ids_file(path: Path) -> Path:
    """Where the ids of the index saved at `path` are listed."""
    return path.with_name(f"{path.name}.ids")


def write_ids(path: Path, ids: Ids, *, identity: Identity) -> None:
    """List `ids` as those of the index at `path` whose header has `identity` (written to a
    partial file first, so a reader never sees half of it)."""
    partial = path.with_name(f"{path.name}.ids.{os.getpid()}-{threading.get_ident()}.partial")
    try:
        with partial.open("wb") as file:
            np.save(file, identity)
            np.save(file, np.sort(np.asarray(ids, dtype=np.int64)))
        partial.replace(ids_file(path))
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def list_ids_before_rename(partial: Path, path: Path, ids: Ids) -> None:
    """List `ids` for the header written at `partial` that is about to be renamed to `path`
    (renaming keeps the identity the list is tagged with)."""
    identity = file_identity(partial)
    if identity is not None:
        write_ids(path, ids, identity=identity)


def read_ids(path: Path, *, identity: Identity, count: int) -> Ids | None:
    """The ids listed for the index at `path`, ascending, if the list describes the header
    with `identity` and holds `count` ids; None otherwise."""
    try:
        with ids_file(path).open("rb") as file:
            if not np.array_equal(np.load(file, allow_pickle=False), identity):
                return None
            ids = np.load(file, allow_pickle=False)
    except (OSError, ValueError, EOFError):  # missing, or not a list this module wrote
        return None
    if ids.dtype != np.int64 or ids.shape != (count,):
        return None
    return np.asarray(ids, dtype=np.int64)


def remove_leftovers(path: Path, *, keep: Path | None) -> None:
    """Delete what interrupted saves left beside `path`: unreferenced data files and partial
    headers, once old enough not to be another process's save in progress."""
    now = time.time()
    for pattern in (f"{path.name}.*.codes", f"{path.name}.*.partial"):
        for leftover in path.parent.glob(pattern):
            if keep is not None and leftover.absolute() == keep.absolute():
                continue
            try:
                if now - leftover.stat().st_mtime > LEFTOVER_AGE_SECONDS:
                    leftover.unlink()
                    logger.info("Removed %s, left by an interrupted save", leftover)
            except OSError:  # another process removed it first
                continue


def _beside(data: Path, path: Path) -> bool:
    """Whether a data file belongs to the index at `path` (a copy of a header elsewhere may
    refer to another index's data file, which is not this one's to delete)."""
    return data.parent.absolute() == path.parent.absolute() and data.name.startswith(
        f"{path.name}."
    )
