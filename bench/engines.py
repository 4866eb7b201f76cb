"""1b. Vector engines side by side on the same synthetic vectors, in the same run.

Why Parley's index is FAISS's inverted file with 8-bit codes: numpy's exact float32 scan
(the baseline), the previous hand-written int8 scan (bench/int8_scan.py), Parley's
VectorIndex at several probe counts, and USearch's HNSW graph with 8-bit vectors. Each is
timed one top-10 query at a time (p50/p95) and scored by recall@10 against the exact scan.
USearch's graph is slow to build, so it is measured on at most `graph_size` vectors.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from bench.archive import Say
from bench.corpus import DIMENSION, VectorModel
from bench.int8_scan import Int8Scan
from bench.stats import latency_summary
from storage.vectors import VectorIndex, lists_for

TOP = 10
WARMUP = 5
PROBE_COUNTS = (4, 8, 16, 32)
Matrix = npt.NDArray[np.float32]
Search = Callable[[Matrix], list[int]]


def synthetic(size: int, queries: int, seed: int) -> tuple[Matrix, Matrix]:
    """`size` passage vectors of the archive's mixture, and questions near some of them."""
    rng = np.random.default_rng(seed)
    model = VectorModel()
    vectors = np.empty((size, DIMENSION), dtype=np.float32)
    for start in range(0, size, 100_000):
        count = min(100_000, size - start)
        vectors[start : start + count] = model.passages(rng, count)
    asked = VectorModel.queries(rng, vectors[rng.choice(size, queries, replace=False)])
    return vectors, asked.astype(np.float32)


def exact_top(vectors: Matrix, query: Matrix) -> list[int]:
    scores = vectors @ query
    top = np.argpartition(-scores, TOP - 1)[:TOP]
    return [int(i) for i in top[np.argsort(-scores[top])]]


def timed(search: Search, queries: Matrix, exact: Sequence[list[int]]) -> dict[str, object]:
    """p50/p95 ms and recall@10 of one engine over the queries (warm-up queries untimed)."""
    times, recalls = [], []
    for number, query in enumerate(queries):
        began = time.perf_counter()
        found = search(query)
        seconds = time.perf_counter() - began
        if number >= WARMUP:
            times.append(seconds)
            recalls.append(len(set(found) & set(exact[number])) / TOP)
    return {
        "latency_ms": latency_summary(times),
        "recall_at_10": round(float(np.mean(recalls)), 4),
        "recall_at_10_worst": round(float(np.min(recalls)), 2),
    }


def faiss_index(vectors: Matrix) -> tuple[VectorIndex, float]:
    """Parley's index as it grows past the threshold: trained on a sample, then filled."""
    began = time.perf_counter()
    index = VectorIndex(DIMENSION, ivf_threshold=min(len(vectors), 50_000))
    index.add(range(len(vectors)), vectors)
    return index, time.perf_counter() - began


def usearch_graph(vectors: Matrix) -> tuple[Any, float]:
    """USearch's HNSW over 8-bit vectors (inner product), with its documented defaults
    raised for recall: connectivity 16, expansion 128 when adding, 64 when searching."""
    usearch: Any = importlib.import_module("usearch.index")
    began = time.perf_counter()
    graph = usearch.Index(
        ndim=DIMENSION, metric="ip", dtype="i8", connectivity=16, expansion_add=128,
        expansion_search=64,
    )  # fmt: skip
    graph.add(np.arange(len(vectors), dtype=np.uint64), vectors, threads=os.cpu_count() or 1)
    return graph, time.perf_counter() - began


def run(
    size: int, *, queries: int, graph_size: int = 200_000, say: Say, seed: int = 7
) -> dict[str, object]:
    """Every engine's figures at `size` vectors (USearch at min(size, graph_size))."""
    say(f"vector engines: {size:,} synthetic vectors, {queries} queries")
    vectors, asked = synthetic(size, queries + WARMUP, seed)
    exact = [exact_top(vectors, query) for query in asked]
    results: dict[str, object] = {"vectors": size, "queries": queries}
    results["numpy_float32_exact"] = timed(lambda q: exact_top(vectors, q), asked, exact)
    scan = Int8Scan(np.arange(size, dtype=np.int64), vectors)
    results["previous_int8_scan"] = timed(_ids_of(scan.search), asked, exact)
    del scan
    say("vector engines: training and filling FAISS")
    index, build = faiss_index(vectors)
    by_probes = {}
    for probes in PROBE_COUNTS:
        index.set_probes(probes)
        by_probes[str(probes)] = timed(_ids_of(index.search), asked, exact)
    results["faiss_ivf_sq8"] = {
        "build_seconds": round(build, 1),
        "lists": index.lists or lists_for(size),
        "memory_mib": round(size * (DIMENSION + 8) / 2**20, 1),
        "by_probes": by_probes,
    }
    del index
    results["usearch_hnsw_i8"] = _usearch(vectors[:graph_size], asked, graph_size, say)
    return results


def _usearch(vectors: Matrix, asked: Matrix, graph_size: int, say: Say) -> dict[str, object]:
    if not graph_size:
        return {"skipped": "not asked for (graph size 0)"}
    if importlib.util.find_spec("usearch") is None:
        return {"skipped": "usearch is not installed (pip install usearch)"}
    say(f"vector engines: building USearch's graph over {len(vectors):,} vectors")
    exact = [exact_top(vectors, query) for query in asked]
    graph, build = usearch_graph(vectors)

    def search(query: Matrix) -> list[int]:
        return [int(key) for key in graph.search(query, TOP).keys]

    return {
        "vectors": len(vectors),
        "build_seconds": round(build, 1),
        "memory_mib": round(graph.memory_usage / 2**20, 1),
        **timed(search, asked, exact),
    }


def _ids_of(search: Callable[[Matrix, int], list[tuple[int, float]]]) -> Search:
    return lambda query: [passage_id for passage_id, _ in search(query, TOP)]
