"""A large index used from its saved file: codes memory-mapped, changes layered over them,
consolidated into a new file, and rebuilt from the database's BLOBs whenever the files cannot
be trusted."""

from __future__ import annotations

import ctypes
import mmap
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import Engine

from storage import vector_layers
from storage.db import create_database_engine, session_factory, upgrade_database
from storage.mapped_pages import RELEASE_EVERY
from storage.models import Passage
from storage.vector_engine import EngineIndex
from storage.vector_layers import file_identity, ids_file, read_ahead, read_ids, write_ids
from storage.vectors import VectorIndex, saved_index_path
from tests.test_vectors import MODEL, clustered, load, store_vectors

BASE = 8_000  # inverted past the tests' threshold of 4,000; 1% of it is 80 changes


@pytest.fixture
def database(tmp_path: Path) -> Engine:
    engine = create_database_engine(f"sqlite:///{tmp_path / 'archive.db'}")
    upgrade_database(engine)
    return engine


def loaded(database: Engine) -> tuple[VectorIndex, Path]:
    with session_factory(database)() as session:
        index = load(session, threshold=4_000)
        path = saved_index_path(session, MODEL)
    assert path is not None and path.exists()
    return index, path


def mapped_files() -> set[str]:
    """The files this process has memory-mapped (Linux)."""
    lines = Path("/proc/self/maps").read_text().splitlines()
    return {line.split(maxsplit=5)[5] for line in lines if len(line.split(maxsplit=5)) == 6}


def data_files(path: Path) -> list[Path]:
    return sorted(path.parent.glob(f"{path.name}.*.codes"))


def expected_top(held: dict[int, np.ndarray], query: np.ndarray, count: int) -> list[int]:
    ids = np.array(sorted(held))
    scores = np.stack([held[i] for i in ids]) @ query
    return [int(i) for i in ids[np.argsort(-scores, kind="stable")[:count]]]


def agrees_with_exact_search(index: VectorIndex, held: dict[int, np.ndarray]) -> None:
    """Same ids as the vectors meant to be held; searches recall what exact search finds,
    never return a forgotten id, and lookups decode to the held vectors."""
    assert index.ids().tolist() == sorted(held) and len(index) == len(held)
    found = 0
    for query in clustered(20, seed=11):
        results = index.search(query, 10)
        assert {pid for pid, _ in results} <= held.keys()
        found += len({pid for pid, _ in results} & set(expected_top(held, query, 10)))
    assert found / 200 >= 0.9
    sample = list(held)[:: len(held) // 20]
    for passage_id in sample:
        stored = index.stored_vector(passage_id)
        assert stored is not None and float(stored @ held[passage_id]) > 0.99


def test_a_saved_index_is_mapped_and_changes_are_layered_over_it(database: Engine) -> None:
    vectors = clustered(BASE + 100)
    store_vectors(database, vectors[:BASE])
    index, path = loaded(database)
    saved = path.stat()
    held = {i + 1: vectors[i] for i in range(BASE)}

    assert str(path) in mapped_files()  # the codes stay in the file
    index.add(range(BASE + 1, BASE + 51), vectors[BASE : BASE + 50])
    index.remove([3, 4, 5, 1_000, 10**9])
    index.remove([BASE + 7])  # added, then removed again
    index.add([4], vectors[3])  # removed from the file, then back
    for i in range(BASE + 1, BASE + 51):
        held[i] = vectors[i - 1]
    for i in (3, 5, 1_000, BASE + 7):
        del held[i]

    agrees_with_exact_search(index, held)
    assert index.search(vectors[BASE + 20], 1)[0][0] == BASE + 21
    assert index.search(vectors[3], 1)[0][0] == 4
    assert set(index.similarities(vectors[0], [1, 3, 5, BASE + 7, BASE + 8])) == {1, BASE + 8}
    assert index.stored_vector(3) is None
    assert path.stat().st_ino == saved.st_ino and not data_files(path)  # under 1%: unchanged


def test_past_one_percent_changed_the_index_is_consolidated_into_a_new_mapped_file(
    database: Engine, capfd: pytest.CaptureFixture[str]
) -> None:
    vectors = clustered(BASE + 300)
    store_vectors(database, vectors[:BASE])
    index, path = loaded(database)
    held = {i + 1: vectors[i] for i in range(BASE)}

    index.remove(range(1, 31))
    index.add([7], vectors[6])  # removed, then back: its new code must survive the merge
    index.add(range(BASE + 1, BASE + 201), vectors[BASE : BASE + 200])  # past 80 changes
    for i in range(8, 31):
        del held[i]
    for i in (1, 2, 3, 4, 5, 6):
        del held[i]
    for i in range(BASE + 1, BASE + 201):
        held[i] = vectors[i - 1]

    [first] = data_files(path)
    assert str(first) in mapped_files()
    agrees_with_exact_search(index, held)
    reread = VectorIndex.read(path)
    for query in clustered(5, seed=12):
        assert reread.search(query, 10) == index.search(query, 10)

    index.remove(range(100, 200))  # consolidated again: the first data file goes
    del reread
    [second] = data_files(path)
    assert second != first and not first.exists()
    for i in range(100, 200):
        held.pop(i, None)
    agrees_with_exact_search(index, held)
    # FAISS says it resized the file; never on standard output, where `ask --json` writes.
    printed = capfd.readouterr()
    assert "resizing" not in printed.out and "resizing" in printed.err


def test_a_restart_after_unconsolidated_changes_is_reconciled_from_the_database(
    database: Engine,
) -> None:
    vectors = clustered(BASE + 60)
    store_vectors(database, vectors[:BASE])
    live, path = loaded(database)
    store_vectors(database, vectors[BASE:], first_id=BASE + 1)
    live.add(range(BASE + 1, BASE + 61), vectors[BASE:])
    with session_factory(database)() as session, session.begin():
        session.query(Passage).filter(Passage.id <= 10).delete()
    live.remove(range(1, 11))
    assert not data_files(path)  # 70 changes: nothing written, the process stops here

    restarted, _ = loaded(database)

    assert np.array_equal(restarted.ids(), live.ids())
    for query in clustered(10, seed=13):
        assert restarted.search(query, 10) == live.search(query, 10)


def _truncate_the_file(path: Path) -> None:
    with path.open("r+b") as file:
        file.truncate(path.stat().st_size // 2)


def _garble_the_file(path: Path) -> None:
    path.write_bytes(b"not an index at all" * 100)


def _truncate_the_data_file(path: Path) -> None:
    [data] = data_files(path)
    with data.open("r+b") as file:
        file.truncate(data.stat().st_size // 2)


def _lose_the_data_file(path: Path) -> None:
    [data] = data_files(path)
    data.unlink()


@pytest.mark.parametrize(
    "damage",
    [_truncate_the_file, _garble_the_file, _truncate_the_data_file, _lose_the_data_file],
)
def test_a_damaged_saved_index_is_rebuilt_from_the_database(
    database: Engine, damage: Callable[[Path], None]
) -> None:
    vectors = clustered(BASE)
    store_vectors(database, vectors)
    index, path = loaded(database)
    index.remove(range(1, 101))  # consolidated: a header and its data file
    index.add(range(1, 101), vectors[:100])
    assert data_files(path)
    del index
    damage(path)

    rebuilt, _ = loaded(database)

    agrees_with_exact_search(rebuilt, {i + 1: vectors[i] for i in range(BASE)})
    assert VectorIndex.read(path).ids().tolist() == list(range(1, BASE + 1))  # saved again


def test_leftovers_of_an_interrupted_save_are_removed(database: Engine) -> None:
    store_vectors(database, clustered(BASE))
    _, path = loaded(database)
    leftovers = [path.with_name(f"{path.name}.{name}") for name in ("0123.codes", "9-9.partial")]
    for leftover in leftovers:
        leftover.write_bytes(b"half written")
    young = path.with_name(f"{path.name}.4567.codes")  # perhaps another process's save
    young.write_bytes(b"being written")
    for leftover in leftovers:
        _age(leftover)

    loaded(database)

    assert not any(leftover.exists() for leftover in leftovers) and young.exists()


def _age(path: Path) -> None:
    old = path.stat().st_mtime - 2 * 3600
    os.utime(path, (old, old))


def test_searches_from_many_threads_while_changes_are_consolidated_see_no_errors(
    database: Engine,
) -> None:
    vectors = clustered(BASE + 400)
    store_vectors(database, vectors[:BASE])
    index, path = loaded(database)
    failures: list[BaseException] = []

    def ask() -> None:
        try:
            for query in clustered(40, seed=14):
                index.search(query, 10)
                index.similarities(query, [1, BASE + 1])
        except BaseException as error:  # reported by the assertion below
            failures.append(error)

    askers = [threading.Thread(target=ask) for _ in range(4)]
    for thread in askers:
        thread.start()
    for start in range(BASE, BASE + 400, 50):  # consolidated about every 80 changes
        index.add(range(start + 1, start + 51), vectors[start : start + 50])
    for thread in askers:
        thread.join()

    assert not failures and len(index) == BASE + 400 and len(data_files(path)) == 1


def test_a_mapped_saved_index_refuses_changes_instead_of_aborting(database: Engine) -> None:
    store_vectors(database, clustered(BASE))
    _, path = loaded(database)
    mapped = EngineIndex.read(path, mapped=True)

    with pytest.raises(ValueError, match="read-only"):
        mapped.add(np.array([BASE + 1]), clustered(1))
    with pytest.raises(ValueError, match="read-only"):
        mapped.remove(np.array([1]))


def listed_ids(path: Path) -> list[int] | None:
    """The ids the ids file lists for the index now at `path` (None: none that describes it)."""
    identity = file_identity(path)
    assert identity is not None
    listed = read_ids(path, identity=identity, count=len(EngineIndex.read(path, mapped=True)))
    return None if listed is None else listed.tolist()


def test_a_start_reconciles_from_the_ids_file_without_reading_the_mapped_lists(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    vectors = clustered(BASE + 50)
    store_vectors(database, vectors[:BASE])
    _, path = loaded(database)
    assert listed_ids(path) == list(range(1, BASE + 1))  # saved with the index
    store_vectors(database, vectors[BASE:], first_id=BASE + 1)  # while it was stopped
    with session_factory(database)() as session, session.begin():
        session.query(Passage).filter(Passage.id.in_([2, 4, 600])).delete()
    scanned: list[bool] = []
    ids_of = EngineIndex.ids

    def spied(engine: EngineIndex) -> np.ndarray:
        scanned.append(engine.mapped)
        return ids_of(engine)

    monkeypatch.setattr(EngineIndex, "ids", spied)

    restarted, _ = loaded(database)

    assert True not in scanned  # only the small in-memory delta's ids were read
    held = {i + 1: vectors[i] for i in range(BASE + 50) if i + 1 not in (2, 4, 600)}
    agrees_with_exact_search(restarted, held)


def test_a_consolidation_lists_the_new_index_ids_for_the_next_start(database: Engine) -> None:
    vectors = clustered(BASE + 200)
    store_vectors(database, vectors[:BASE])
    index, path = loaded(database)

    index.remove(range(1, 41))
    index.add(range(BASE + 1, BASE + 101), vectors[BASE : BASE + 100])  # past 80 changes

    assert data_files(path)  # consolidated
    assert listed_ids(path) == list(range(41, BASE + 101)) == index.ids().tolist()


@pytest.mark.parametrize("damage", ["older", "miscounted", "garbled", "truncated", "missing"])
def test_an_ids_file_that_does_not_describe_the_index_is_ignored_and_written_anew(
    database: Engine, damage: str
) -> None:
    vectors = clustered(BASE + 50)
    store_vectors(database, vectors[:BASE])
    index, path = loaded(database)
    store_vectors(database, vectors[BASE:], first_id=BASE + 1)  # under 1%: not consolidated
    listed = ids_file(path)
    wrong = np.arange(1, BASE - 500, dtype=np.int64)  # trusted, it would add 500 held twice
    if damage == "older":  # a list of the header saved before this one
        before = file_identity(path)
        assert before is not None
        index.save(path)
        write_ids(path, wrong, identity=before)
    elif damage == "miscounted":
        current = file_identity(path)
        assert current is not None
        write_ids(path, wrong, identity=current)
    elif damage == "garbled":
        listed.write_bytes(b"not a list of ids" * 100)
    elif damage == "truncated":
        listed.write_bytes(listed.read_bytes()[: listed.stat().st_size // 2])
    else:
        listed.unlink()
    del index

    restarted, _ = loaded(database)

    agrees_with_exact_search(restarted, {i + 1: vectors[i] for i in range(BASE + 50)})
    assert listed_ids(path) == list(range(1, BASE + 1))  # describes the index at `path`


def uncached_pages(path: Path) -> int:
    """How many of the file's pages are not in the page cache (mincore(2) on a map of it,
    which reads nothing: a read that must not wait, RWF_NOWAIT, starts a read-ahead)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mmap.restype = ctypes.c_void_p
    libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int, ctypes.c_int]
    libc.mmap.argtypes += [ctypes.c_int, ctypes.c_long]
    libc.mincore.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_char_p]
    libc.munmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    size = path.stat().st_size
    pages = -(-size // mmap.PAGESIZE)
    resident = ctypes.create_string_buffer(pages)
    descriptor = os.open(path, os.O_RDONLY)
    try:
        address = libc.mmap(None, size, mmap.PROT_READ, mmap.MAP_SHARED, descriptor, 0)
        assert address not in (None, ctypes.c_void_p(-1).value), os.strerror(ctypes.get_errno())
        try:
            assert libc.mincore(address, size, resident) == 0, os.strerror(ctypes.get_errno())
        finally:
            libc.munmap(address, size)
    finally:
        os.close(descriptor)
    return sum(not byte & 1 for byte in resident.raw)


def test_read_ahead_brings_a_whole_file_into_the_page_cache(tmp_path: Path) -> None:
    path = tmp_path / "codes"
    path.write_bytes(np.random.default_rng(0).bytes(32 << 20))  # 4× the usual read-ahead
    descriptor = os.open(path, os.O_RDONLY)
    os.fsync(descriptor)  # only clean pages can be dropped
    os.posix_fadvise(descriptor, 0, 0, os.POSIX_FADV_DONTNEED)
    os.close(descriptor)
    if not uncached_pages(path):
        pytest.skip("this file system keeps files in memory")

    read_ahead(path)

    deadline = time.monotonic() + 30  # the kernel reads asynchronously: wait for it
    while uncached_pages(path) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not uncached_pages(path)


def test_opening_a_saved_index_reads_its_codes_ahead(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    store_vectors(database, clustered(BASE))
    index, path = loaded(database)
    index.remove(range(1, 101))  # consolidated: the codes in a data file of their own
    [data] = data_files(path)
    asked: list[Path] = []
    monkeypatch.setattr(vector_layers, "read_ahead", asked.append)

    VectorIndex.read(path)

    assert asked == [data.absolute()]


def resident_kib(path: Path) -> int:
    """How much of this file's mappings is resident in this process (Linux smaps)."""
    total, inside = 0, False
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split(maxsplit=5)
        if "-" in fields[0] and not fields[0].endswith(":"):
            inside = len(fields) == 6 and fields[5] == str(path.resolve())
        elif inside and fields[0] == "Rss:":
            total += int(fields[1])
    return total


def test_searches_leave_no_more_than_a_few_of_the_mapped_index_pages_resident(
    database: Engine,
) -> None:
    store_vectors(database, clustered(BASE))
    loaded(database)  # built and saved
    index, path = loaded(database)  # mapped from the saved file, as every later start
    queries = clustered(RELEASE_EVERY, seed=5)
    before = [index.search(query, 10) for query in queries[:-1]]
    touched = resident_kib(path)

    after_last = index.search(queries[-1], 10)  # the RELEASE_EVERY-th search releases

    # What stays is what is not codes: the header's pages, read when it was opened.
    assert touched > 500 and resident_kib(path) < touched / 2
    assert [index.search(query, 10) for query in queries[:-1]] == before
    assert index.search(queries[-1], 10) == after_last
