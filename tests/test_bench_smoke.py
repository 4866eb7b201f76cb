"""A smoke run of the benchmark suite's retrieval part: it runs end to end on a real archive
of 10,000 synthetic passages and reports what `make bench` reports. No timing is asserted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.__main__ import main

pytestmark = [pytest.mark.bench_smoke, pytest.mark.model]

LATENCIES = ("dense_ms", "baseline_ms", "fts_ms", "hybrid_ms", "answer_ms")


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
    recall_target = next(t for t in results["targets"] if t["target"] == "recall@10 at 10k")
    assert recall_target["status"] == "PASS"
