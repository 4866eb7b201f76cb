"""A smoke run of the benchmark suite's retrieval part: it runs end to end on a real archive
of 10,000 synthetic passages and reports what `make bench` reports. No timing is asserted."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bench import engines
from bench.__main__ import main

pytestmark = [pytest.mark.bench_smoke, pytest.mark.model]

LATENCIES = (
    "dense_ms",
    "baseline_ms",
    "previous_int8_scan_ms",
    "fts_ms",
    "fts_unbudgeted_ms",
    "hybrid_ms",
    "answer_ms",
)


def test_quick_retrieval_benchmark_reports_every_figure_and_recalls_exact_search(
    tmp_path: Path,
) -> None:
    output = tmp_path / "latest.json"
    status = main(
        [
            "--quick",
            "--only",
            "retrieval",
            "--sizes",
            "10000",
            "--queries",
            "20",
            "--output",
            str(output),
            "--cache",
            str(tmp_path / "cache"),
        ]
    )

    assert status == 0
    results = json.loads(output.read_text())
    assert {"machine", "method", "targets", "retrieval"} <= results.keys()
    assert {"cpu", "cores", "ram_gib", "python", "numpy", "torch"} <= results["machine"].keys()
    figures = results["retrieval"]["10000"]
    assert figures["passages"] == 10_000
    for name in LATENCIES:
        assert {"p50", "p95"} <= figures[name].keys()
        assert figures[name]["n"] == 20
    assert figures["dense_speedup_vs_baseline_p50"] > 0
    assert figures["recall_at_10"] >= 0.95
    assert figures["previous_int8_scan_recall_at_10"] >= 0.95
    assert 0 <= figures["fts_top10_overlap_with_unbudgeted"] <= 1
    recall_target = next(t for t in results["targets"] if t["target"] == "recall@10 at 10k")
    assert recall_target["status"] == "PASS"


def test_vector_engines_are_compared_on_the_same_vectors() -> None:
    figures: dict[str, Any] = engines.run(6_000, queries=20, graph_size=1_000, say=print)

    assert figures["numpy_float32_exact"]["recall_at_10"] == 1.0
    assert figures["previous_int8_scan"]["recall_at_10"] >= 0.95
    faiss = figures["faiss_ivf_sq8"]
    assert faiss["lists"] > 0 and set(faiss["by_probes"]) == {"4", "8", "16", "32"}
    recalls = [faiss["by_probes"][probes]["recall_at_10"] for probes in ("4", "32")]
    assert recalls[0] <= recalls[1]  # searching more lists finds more of the exact top 10
    assert "recall_at_10" in figures["usearch_hnsw_i8"]
