"""The benchmark's private copies of a cached archive: the vector index saved beside the
cached SQLite file comes with the copy, and the copy's first start reads it."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import insert

from bench.archive import BuiltArchive, copy_archive
from storage import vectors
from storage.db import create_database_engine, session_factory, upgrade_database
from storage.models import Article, Passage, PassageVector, Source
from storage.vectors import load_vector_index, saved_index_path, vector_to_blob

DIMENSION = 32
MODEL = "test-model"
THRESHOLD = 2_000


def archive_with_vectors(path: Path, count: int) -> BuiltArchive:
    """An archive of `count` passages with vectors, as ingestion writes them."""
    engine = create_database_engine(f"sqlite:///{path}")
    upgrade_database(engine)
    rng = np.random.default_rng(3)
    rows = rng.standard_normal((count, DIMENSION)).astype(np.float32)
    rows /= np.linalg.norm(rows, axis=1, keepdims=True)
    with session_factory(engine)() as session, session.begin():
        session.add(Source(id=1, name="Wire", kind="file", active=True))
        session.add(Article(id=1, source_id=1, url="u", title="t", text="x", content_hash="h"))
        session.execute(
            insert(Passage),
            [{"id": i, "article_id": 1, "position": i, "text": "p"} for i in range(1, count + 1)],
        )
        session.execute(
            insert(PassageVector),
            [
                {
                    "passage_id": i,
                    "model": MODEL,
                    "dimension": DIMENSION,
                    "text_hash": "h",
                    "vector": vector_to_blob(row),
                }
                for i, row in enumerate(rows, start=1)
            ],
        )
    engine.dispose()
    return BuiltArchive(path, count, 1, None)


def saved_path(database: Path) -> Path | None:
    engine = create_database_engine(f"sqlite:///{database}")
    try:
        with session_factory(engine)() as session:
            return saved_index_path(session, MODEL)
    finally:
        engine.dispose()


def load(database: Path) -> vectors.VectorIndex:
    engine = create_database_engine(f"sqlite:///{database}")
    try:
        with session_factory(engine)() as session:
            return load_vector_index(
                session, model=MODEL, dimension=DIMENSION, ivf_threshold=THRESHOLD
            )
    finally:
        engine.dispose()


def test_a_copy_brings_the_saved_index_and_its_first_start_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    cached = archive_with_vectors(cache / "archive.db", 3_000)
    built = load(cached.path)  # the first start trains the index and saves it beside the file
    original = saved_path(cached.path)
    assert built.inverted and original is not None and original.exists()

    copy = copy_archive(cached, tmp_path / "copy.db")

    copied = saved_path(copy.path)
    assert copied is not None and copied != original
    assert copied.read_bytes() == original.read_bytes()

    def no_training(*_args: object, **_kwargs: object) -> vectors.VectorIndex:
        raise AssertionError("the copy trained a new index instead of reading the saved one")

    monkeypatch.setattr(vectors, "_build_inverted", no_training)
    index = load(copy.path)
    assert len(index) == 3_000 and index.lists == built.lists


def test_a_copy_of_an_archive_without_a_saved_index_is_just_the_file(tmp_path: Path) -> None:
    cached = archive_with_vectors(tmp_path / "archive.db", 10)

    copy = copy_archive(cached, tmp_path / "copy.db")

    assert copy.path.read_bytes() == cached.path.read_bytes()
    assert sorted(path.name for path in tmp_path.iterdir()) == ["archive.db", "copy.db"]
