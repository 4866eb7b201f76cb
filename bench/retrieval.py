"""1. Retrieval at 10k, 100k and 1M passages: dense, brute force, FTS5, hybrid and answers."""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from sqlalchemy.orm import Session, sessionmaker

from bench.archive import Say, ensure_archive, load_matrix, token_axes
from bench.corpus import DIMENSION, VectorModel, Vectors, question_words
from bench.int8_scan import Int8Scan
from bench.stats import latency_summary, ratio
from knowledge.answering import Answerer
from knowledge.embedding import BUNDLED_MODEL_ID, Embedder
from knowledge.ranking import load_ranking_model
from knowledge.retrieval import Retriever
from knowledge.terms import content_terms
from knowledge.wordsim import word_similarity_for
from storage.db import create_database_engine, session_factory, upgrade_database
from storage.fulltext import SqliteFullTextIndex
from storage.sentence_vectors import SentenceStore
from storage.vectors import Matrix, VectorIndex, load_vector_index, saved_index_path

TOP = 10
WARMUP = 5


@dataclass(frozen=True)
class Query:
    """A synthetic question: words of a stored passage and a vector near that passage's."""

    text: str
    terms: list[str]
    vector: Matrix


class PrecomputedQuestions:
    """The real embedder, except that the benchmark's questions get their synthetic vectors:
    answers then cost retrieval plus sentence selection (which embeds sentences for real)."""

    def __init__(self, embedder: Embedder, known: dict[str, Matrix]) -> None:
        self._embedder = embedder
        self._known = known
        self.model_id = embedder.model_id
        self.dimension = embedder.dimension

    @property
    def max_tokens(self) -> int:
        return self._embedder.max_tokens

    def count_tokens(self, text: str) -> int:
        return self._embedder.count_tokens(text)

    def token_words(self, text: str) -> list[str]:
        return self._embedder.token_words(text)

    def embed(self, texts: Sequence[str]) -> Matrix:
        missing = [text for text in texts if text not in self._known]
        computed = dict(zip(missing, self._embedder.embed(missing), strict=True))
        rows = [self._known[text] if text in self._known else computed[text] for text in texts]
        return np.stack(rows).astype(np.float32) if rows else self._embedder.embed([])

    def embed_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        """The synthetic vectors, and token vectors from the model's pass over the texts: a
        real question's pass gives both, so the benchmark pays for it once."""
        vectors, tokens = self._embedder.embed_with_tokens(texts)
        rows = [self._known.get(text, vector) for text, vector in zip(texts, vectors, strict=True)]
        return (np.stack(rows).astype(np.float32) if rows else vectors), tokens


def brute_force(ids: npt.NDArray[np.int64], matrix: Vectors, query: Matrix) -> list[int]:
    """The baseline: a float32 matrix-vector product and argpartition, nothing else."""
    scores = matrix @ query
    top = np.argpartition(-scores, TOP - 1)[:TOP]
    return [int(i) for i in ids[top[np.argsort(-scores[top])]]]


def make_queries(
    path: Path, ids: npt.NDArray[np.int64], matrix: Vectors, count: int, seed: int
) -> list[Query]:
    """Questions about random stored passages."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(ids), size=count, replace=False)
    wanted = [int(ids[row]) for row in rows]
    with sqlite3.connect(path) as connection:
        placeholders = ",".join("?" * len(wanted))
        texts = dict(
            connection.execute(
                f"SELECT id, text FROM passages WHERE id IN ({placeholders})", wanted
            ).fetchall()
        )
    vectors = VectorModel.queries(rng, matrix[rows])
    queries = []
    for passage_id, vector in zip(wanted, vectors, strict=True):
        text = question_words(texts[passage_id], rng)
        queries.append(Query(text, content_terms(text), vector))
    return queries


OPERATIONS = ("dense", "fts", "fts_unbudgeted", "hybrid", "answer", "embedding")
UNBUDGETED = 2**62  # a postings budget no archive reaches: every term searched, as before
SETTLE_SECONDS = 1.0


@dataclass
class Subjects:
    """What one archive size is measured with."""

    ids: npt.NDArray[np.int64]
    matrix: Vectors
    index: VectorIndex
    previous: Int8Scan
    fulltext: SqliteFullTextIndex
    unbudgeted: SqliteFullTextIndex
    retriever: Retriever
    answerer: Answerer
    embedder: Embedder

    def time_baseline(self, query: Query) -> tuple[float, list[int]]:
        """The brute-force baseline's seconds and its exact top 10."""
        began = time.perf_counter()
        exact = brute_force(self.ids, self.matrix, query.vector)
        return time.perf_counter() - began, exact

    def time_previous(self, query: Query, exact: list[int]) -> tuple[float, float]:
        """The previous int8 scan's seconds and its recall@10 against `exact`."""
        began = time.perf_counter()
        found = self.previous.search(query.vector, TOP)
        seconds = time.perf_counter() - began
        return seconds, len(set(exact) & {passage_id for passage_id, _ in found}) / TOP

    def time_query(
        self, session: Session, query: Query, exact: list[int], shift: int
    ) -> tuple[dict[str, float], dict[str, float], bool]:
        """Each operation's seconds for one query (in a rotated order, so none always goes
        first); recall@10 of the dense search against `exact` and the overlap of the budgeted
        full-text top 10 with the unbudgeted one; whether it was answered."""
        times: dict[str, float] = {}
        dense: list[tuple[int, float]] = []
        lexical: dict[str, list[tuple[int, float]]] = {"fts": [], "fts_unbudgeted": []}
        covered = False
        for name in OPERATIONS[shift:] + OPERATIONS[:shift]:
            began = time.perf_counter()
            if name == "dense":
                dense = self.index.search(query.vector, TOP)
            elif name == "fts":
                lexical[name] = self.fulltext.search(session, query.terms, TOP)
            elif name == "fts_unbudgeted":
                lexical[name] = self.unbudgeted.search(session, query.terms, TOP)
            elif name == "hybrid":
                weights = self.retriever.term_weights(query.terms)
                self.retriever.retrieve(vector=query.vector, weights=weights, limit=TOP)
            elif name == "answer":
                covered = self.answerer.ask(query.text).covered
            else:
                self.embedder.embed([query.text])
            times[name] = time.perf_counter() - began
        recall = len(set(exact) & {passage_id for passage_id, _ in dense}) / TOP
        budgeted, unbudgeted = ({pid for pid, _ in found} for found in lexical.values())
        overlap = len(budgeted & unbudgeted) / max(1, len(unbudgeted))
        return times, {"recall": recall, "fts_overlap": overlap}, covered


def measure_size(
    size: int, *, cache_dir: Path, queries: int, embedder: Embedder, say: Say
) -> dict[str, object]:
    """Every retrieval figure at one archive size."""
    archive = ensure_archive(size, cache_dir, say)
    if archive.build_seconds is not None:
        say(f"  built the {size:,}-passage archive in {archive.build_seconds:.0f} s")
    engine = create_database_engine(archive.url)
    upgrade_database(engine)  # as Parley does on every start: a cached archive may predate
    sessions = session_factory(engine)  # the latest migrations
    index, loading = load_index(sessions, say)
    ids, matrix = load_matrix(archive.path, dimension=DIMENSION)
    asked = make_queries(archive.path, ids, matrix, queries + WARMUP, seed=1000 + size)
    fulltext = SqliteFullTextIndex()
    retriever = Retriever(sessions=sessions, fulltext=fulltext, vectors=index)
    answerer = Answerer(
        embedder=PrecomputedQuestions(embedder, {q.text: q.vector for q in asked}),
        retriever=retriever,
        model=load_ranking_model(),
        words=word_similarity_for(getattr(embedder, "model", None)),
        stored=SentenceStore(  # as build_services wires it
            sessions, model=BUNDLED_MODEL_ID, token_axes=token_axes().identity
        ),
        token_axes=token_axes(),
    )
    subjects = Subjects(
        ids, matrix, index, Int8Scan(ids, matrix), fulltext,
        SqliteFullTextIndex(postings_budget=UNBUDGETED, rarest_budget=UNBUDGETED),
        retriever, answerer, embedder,
    )  # fmt: skip
    times: dict[str, list[float]] = {name: [] for name in ("baseline", "previous", *OPERATIONS)}
    recalls: list[float] = []
    previous_recalls: list[float] = []
    overlaps: list[float] = []
    covered = 0
    say(f"  {size:,} passages: index ready ({loading}); {queries} queries")
    # The baselines get their own pass: numpy's BLAS threads keep spinning after a large
    # product and would slow whatever torch runs next (a question's embedding: 8 → 17 ms).
    exact = []
    for number, query in enumerate(asked):
        seconds, found = subjects.time_baseline(query)
        previous_seconds, previous_recall = subjects.time_previous(query, found)
        exact.append(found)
        if number >= WARMUP:
            times["baseline"].append(seconds)
            times["previous"].append(previous_seconds)
            previous_recalls.append(previous_recall)
    time.sleep(SETTLE_SECONDS)
    with sessions() as session:
        for number, query in enumerate(asked):
            taken, agreement, answered = subjects.time_query(
                session, query, exact[number], number % len(OPERATIONS)
            )
            if number >= WARMUP:
                for name, seconds in taken.items():
                    times[name].append(seconds)
                recalls.append(agreement["recall"])
                overlaps.append(agreement["fts_overlap"])
                covered += answered
            if number and number % 50 == 0:
                say(f"  {size:,} passages: {number} of {len(asked)} queries")
    engine.dispose()
    summaries = {name: latency_summary(values) for name, values in times.items()}
    return {
        "passages": archive.passages,
        "articles": archive.articles,
        "queries": queries,
        "archive_build_seconds": _rounded(archive.build_seconds),
        **loading.figures(),
        "index_lists": index.lists,
        "index_probes": index.probes,
        "dense_ms": summaries["dense"],
        "baseline_ms": summaries["baseline"],
        "previous_int8_scan_ms": summaries["previous"],
        "previous_int8_scan_recall_at_10": round(float(np.mean(previous_recalls)), 4),
        "dense_speedup_vs_baseline_p50": ratio(
            summaries["baseline"]["p50"], summaries["dense"]["p50"]
        ),
        "fts_ms": summaries["fts"],
        "fts_unbudgeted_ms": summaries["fts_unbudgeted"],
        "fts_top10_overlap_with_unbudgeted": round(float(np.mean(overlaps)), 3),
        "hybrid_ms": summaries["hybrid"],
        "answer_ms": summaries["answer"],
        "question_embedding_ms": summaries["embedding"],
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "recall_at_10_worst": round(float(np.min(recalls)), 4),
        "answers_covered": round(covered / max(1, queries), 3),
    }


@dataclass(frozen=True)
class Loading:
    """How the index came to be: built from the BLOBs (and saved), and/or read back."""

    built_seconds: float | None
    saved_seconds: float | None

    def figures(self) -> dict[str, float | None]:
        return {
            "index_build_seconds": _rounded(self.built_seconds),
            "index_load_seconds": _rounded(self.saved_seconds or self.built_seconds),
        }

    def __str__(self) -> str:
        built = "" if self.built_seconds is None else f"built in {self.built_seconds:.1f} s; "
        saved = "" if self.saved_seconds is None else f"loaded in {self.saved_seconds:.1f} s"
        return (built + saved).rstrip("; ")


def load_index(sessions: sessionmaker[Session], say: Say) -> tuple[VectorIndex, Loading]:
    """The index as `parley run` gets it. When there was no saved index yet, the build is
    timed and then the saved one is loaded again, as the next start would."""
    with sessions() as session:
        path = saved_index_path(session, BUNDLED_MODEL_ID)
    was_saved = path is not None and path.exists()
    began = time.perf_counter()
    with sessions() as session:
        index = load_vector_index(session, model=BUNDLED_MODEL_ID, dimension=DIMENSION)
    first = time.perf_counter() - began
    if was_saved or path is None or not path.exists():
        return index, Loading(None if was_saved else first, first if was_saved else None)
    say(f"  built the vector index in {first:.0f} s; loading the saved one")
    del index
    began = time.perf_counter()
    with sessions() as session:
        index = load_vector_index(session, model=BUNDLED_MODEL_ID, dimension=DIMENSION)
    return index, Loading(first, time.perf_counter() - began)


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def run(
    sizes: Sequence[int], *, cache_dir: Path, queries: int, embedder: Embedder, say: Say
) -> dict[str, object]:
    """Retrieval figures for each size, keyed by the size as a string."""
    results: dict[str, object] = {}
    for size in sizes:
        say(f"retrieval at {size:,} passages")
        results[str(size)] = measure_size(
            size, cache_dir=cache_dir, queries=queries, embedder=embedder, say=say
        )
    return results
