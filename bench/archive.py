"""Synthetic archives of any size, built through Parley's own schema and cached on disk.

The schema comes from Parley's migrations (`storage.db.upgrade_database`); the rows —
sources, articles, passages, passage_vectors (little-endian float32 BLOBs, as
`storage.vectors.vector_to_blob` writes them), sentence_vectors (each sentence's vector drawn
near its passage's, encoded by `storage.sentence_vectors.encode`, and random 8-bit token
vectors on the shipped axes, a token a word and two more) and the FTS5 `passage_terms`
— are written in
bulk with plain SQL `executemany`, about 100× faster than one transaction per article through
`Ingestor.store`. The rows are the ones ingestion would write: passage terms are
`knowledge.terms.index_terms` of the text (checked on a sample), vectors carry the bundled
model's id, so Parley opens the archive as its own.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path

import numpy as np
import numpy.typing as npt

from bench.corpus import (
    DIMENSION,
    GENERATOR_VERSION,
    Passage,
    VectorModel,
    Vectors,
    Vocabulary,
    passages,
)
from knowledge.embedding import BUNDLED_MODEL_ID
from knowledge.terms import index_terms
from knowledge.token_vectors import TokenAxes, axes_for
from storage.db import create_database_engine, upgrade_database
from storage.fulltext import RECOUNT_STATEMENTS
from storage.sentence_vectors import encode

CHUNK = 20_000
SOURCES = ["Reuters", "Associated Press", "AFP", "Bloomberg", "Kyiv Independent", "TASS"]
Say = Callable[[str], None]


@dataclass(frozen=True)
class BuiltArchive:
    """A synthetic archive on disk."""

    path: Path
    passages: int
    articles: int
    build_seconds: float | None  # None when it came from the cache

    @property
    def url(self) -> str:
        """The DATABASE_URL that opens it."""
        return f"sqlite:///{self.path}"


def archive_name(size: int) -> str:
    """The cache file of an archive: its size and the generator version that made it."""
    return f"archive-{size}-g{GENERATOR_VERSION}.db"


def ensure_archive(size: int, cache_dir: Path, say: Say) -> BuiltArchive:
    """The cached archive of `size` passages, built first when it is missing."""
    cache_dir.mkdir(parents=True, exist_ok=True)
    path = cache_dir / archive_name(size)
    if path.exists():
        with sqlite3.connect(path) as connection:
            articles = int(connection.execute("SELECT count(*) FROM articles").fetchone()[0])
        return BuiltArchive(path, size, articles, None)
    partial = path.with_suffix(".partial")
    for leftover in cache_dir.glob(partial.name + "*"):
        leftover.unlink()
    start = time.perf_counter()
    articles = _build(partial, size, say)
    os.replace(partial, path)
    return BuiltArchive(path, size, articles, time.perf_counter() - start)


def copy_archive(archive: BuiltArchive, destination: Path) -> BuiltArchive:
    """A private copy to write to, so the cached archive stays as built. The vector index
    saved beside it comes along, as with any SQLite archive moved with its index: without
    it, the copy's first start trains a new index (107 s at 1M passages) instead of
    reading this one (2–3 s)."""
    shutil.copyfile(archive.path, destination)
    for saved in saved_indexes(archive.path):
        suffix = saved.name.removeprefix(archive.path.name)
        shutil.copyfile(saved, destination.with_name(destination.name + suffix))
    return BuiltArchive(destination, archive.passages, archive.articles, None)


def saved_indexes(database: Path) -> list[Path]:
    """The vector indexes saved beside an SQLite file (storage.vectors.saved_index_path)."""
    return sorted(database.parent.glob(f"{database.name}.vectors-*.faiss"))


def _build(path: Path, size: int, say: Say) -> int:
    engine = create_database_engine(f"sqlite:///{path}")
    try:
        upgrade_database(engine)
    finally:
        engine.dispose()
    vocabulary = Vocabulary()
    model = VectorModel()
    rng = np.random.default_rng(size)
    connection = sqlite3.connect(path)
    connection.execute("PRAGMA journal_mode=MEMORY")
    connection.execute("PRAGMA synchronous=OFF")
    connection.execute("PRAGMA cache_size=-262144")
    now = datetime(2025, 9, 1)
    connection.executemany(
        "INSERT INTO sources (id, name, kind, active, created_at, failures) "
        "VALUES (?, ?, 'file', 1, ?, 0)",
        [(number, name, now) for number, name in enumerate(SOURCES, start=1)],
    )
    next_passage, next_article = 1, 1
    last_report = time.perf_counter()
    while next_passage <= size:
        count = min(CHUNK, size - next_passage + 1)
        texts = passages(vocabulary, rng, count)
        if next_passage == 1:
            _check_terms([text.text for text in texts[:200]], [text.terms for text in texts[:200]])
        vectors = model.passages(rng, count)
        next_article = _write_chunk(
            connection, rng, next_passage, next_article, texts, vectors, now
        )
        next_passage += count
        connection.commit()
        if time.perf_counter() - last_report > 15:
            say(f"  {path.stem}: {next_passage - 1:,} of {size:,} passages written")
            last_report = time.perf_counter()
    for statement in RECOUNT_STATEMENTS:  # the terms were indexed around their counts
        connection.execute(statement)
    connection.commit()
    connection.execute("PRAGMA journal_mode=WAL")
    connection.close()
    return next_article - 1


def _write_chunk(
    connection: sqlite3.Connection,
    rng: np.random.Generator,
    first_passage: int,
    first_article: int,
    texts: list[Passage],
    vectors: Vectors,
    now: datetime,
) -> int:
    """Group the chunk's passages into articles of 2–6 passages and write every row."""
    articles, passage_rows, vector_rows, term_rows, sentence_rows = [], [], [], [], []
    position, article_id, index = 0, first_article, 0
    while index < len(texts):
        length = min(int(rng.integers(2, 7)), len(texts) - index)
        group = texts[index : index + length]
        body = "\n\n".join(passage.text for passage in group)
        source = 1 + article_id % len(SOURCES)
        published = now - timedelta(minutes=int(article_id) * 7 % 500_000)
        title = " ".join(group[0].text.split()[:8]).rstrip(".")
        outlet = SOURCES[source - 1].lower().replace(" ", "-")
        articles.append(
            (
                article_id,
                source,
                f"https://bench.example/{outlet}/{article_id}",
                title,
                published,
                body,
                hashlib.sha256(f"article {article_id}".encode()).hexdigest(),
                int(rng.integers(-(2**63), 2**63 - 1)),
                now,
            )
        )
        for position, passage in enumerate(group):
            passage_id = first_passage + index + position
            passage_rows.append((passage_id, article_id, position, passage.text))
            vector_rows.append(
                (
                    passage_id,
                    BUNDLED_MODEL_ID,
                    vectors.shape[1],
                    hashlib.sha256(passage.text.encode()).hexdigest(),
                    np.asarray(vectors[index + position], dtype="<f4").tobytes(),
                )
            )
            term_rows.append((passage_id, passage.terms))
            own, title = vectors[index + position], vectors[index]
            sentence_rows.append(_sentence_row(rng, passage_id, passage.text, own, title))
        index += length
        article_id += 1
    connection.executemany(
        "INSERT INTO articles (id, source_id, url, title, published_at, text, content_hash, "
        "fingerprint, ingested_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        articles,
    )
    connection.executemany(
        "INSERT INTO passages (id, article_id, position, text) VALUES (?, ?, ?, ?)", passage_rows
    )
    connection.executemany(
        "INSERT INTO passage_vectors (passage_id, model, dimension, text_hash, vector) "
        "VALUES (?, ?, ?, ?, ?)",
        vector_rows,
    )
    connection.executemany("INSERT INTO passage_terms (rowid, terms) VALUES (?, ?)", term_rows)
    connection.executemany(
        "INSERT INTO sentence_vectors (passage_id, model, dimension, sentences, vectors, "
        "token_axes, token_counts, tokens) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        sentence_rows,
    )
    return article_id


@lru_cache(maxsize=1)
def token_axes() -> TokenAxes:
    """The axes Parley stores the bundled model's token vectors on, read once when needed."""
    return axes_for(BUNDLED_MODEL_ID, DIMENSION)


def _sentence_row(
    rng: np.random.Generator, passage_id: int, text: str, passage: Vectors, title: Vectors
) -> tuple[int, str, int, str, bytes, str, str, bytes]:
    """A passage's sentences (the generator ends each with a full stop), their vectors
    near the passage's, and its title's (its article's first passage's); their tokens'."""
    sentences = [part if part.endswith(".") else part + "." for part in text.split(". ")]
    near = VectorModel.queries(rng, np.repeat(passage[None, :], len(sentences), axis=0))
    rows = np.vstack([title[None, :], near]).astype(np.float32)
    counts = [len(sentence.split()) + 2 for sentence in sentences]
    return (
        passage_id,
        BUNDLED_MODEL_ID,
        rows.shape[1],
        json.dumps(sentences),
        encode(rows),
        token_axes().identity,
        json.dumps(counts),
        _random_codes(passage_id, sum(counts)),
    )


def _random_codes(passage_id: int, tokens: int) -> bytes:
    """Token rows as `encode` lays them out (scales, then codes): random bytes, since what
    the benchmark measures is reading and comparing them, not what they say. Drawn apart
    from the archive's generator, so that its texts and vectors stay those of version 2."""
    scales = np.full(tokens, 1 / 592, dtype="<f4")  # about unit length; decode rescales
    codes = np.random.default_rng(passage_id).bytes(tokens * token_axes().dimension)
    return scales.tobytes() + codes


def _check_terms(texts: list[str], terms: list[str]) -> None:
    """The terms written must be exactly what ingestion would index the text under."""
    for text, written in zip(texts, terms, strict=True):
        if index_terms(text) != written:
            raise AssertionError(f"generated terms differ from index_terms for {text[:60]!r}")


def load_matrix(path: Path, *, dimension: int) -> tuple[npt.NDArray[np.int64], Vectors]:
    """Every passage id and vector, read with plain sqlite3: the baseline's own copy."""
    with sqlite3.connect(path) as connection:
        count = int(connection.execute("SELECT count(*) FROM passage_vectors").fetchone()[0])
        ids = np.empty(count, dtype=np.int64)
        matrix = np.empty((count, dimension), dtype=np.float32)
        cursor = connection.execute(
            "SELECT passage_id, vector FROM passage_vectors ORDER BY passage_id"
        )
        row = 0
        while batch := cursor.fetchmany(50_000):
            ids[row : row + len(batch)] = [passage_id for passage_id, _ in batch]
            blob = b"".join(vector for _, vector in batch)
            matrix[row : row + len(batch)] = np.frombuffer(blob, dtype="<f4").reshape(
                len(batch), dimension
            )
            row += len(batch)
    return ids, matrix
