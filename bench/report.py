"""The figures as tables, the targets with PASS or MISS, and the JSON file."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table

Results = dict[str, Any]


@dataclass(frozen=True)
class Target:
    """A figure the issue sets a limit for."""

    name: str
    path: str  # dotted path into the results
    limit: float
    at_most: bool  # True: the figure must not exceed the limit; False: must reach it
    unit: str = ""


# Issue 11: `parley --help` and every command that needs no model (bench/cli_start.py).
CLI_COMMANDS = (
    ("help", "--help"),
    ("db_upgrade", "db upgrade"),
    ("sources_list", "sources list"),
    ("sources_remove", "sources remove"),
)

TARGETS = [
    Target("dense top-10 p95 at 100k", "retrieval.100000.dense_ms.p95", 10, True, "ms"),
    Target("dense top-10 p95 at 1M", "retrieval.1000000.dense_ms.p95", 5, True, "ms"),
    *(
        Target(f"recall@10 at {label}", f"retrieval.{size}.recall_at_10", 0.95, False)
        for size, label in ((10_000, "10k"), (100_000, "100k"), (1_000_000, "1M"))
    ),
    Target("answer p95 at 1M", "retrieval.1000000.answer_ms.p95", 100, True, "ms"),
    Target("ingest ÷ raw embed", "ingest.ratio", 0.85, False, "×"),
    Target("Telegram reply p95, 1 user", "telegram.one_user.latency_ms.p95", 100, True, "ms"),
    Target("Telegram, 20 users", "telegram.twenty_users.questions_per_second", 40, False, "q/s"),
    Target("digest fan-out rate", "digests.messages_per_second", 28, False, "msg/s"),
    Target("429s after the first second", "digests.too_many_requests_after_first_second", 0, True),
    Target("start-up to first answer", "startup.seconds_to_first_answer", 10, True, "s"),
    *(
        Target(f"`parley {command}`, cold process (median)", f"cli.{name}_seconds", 0.5, True, "s")
        for name, command in CLI_COMMANDS
    ),
    Target(
        "peak RSS at 1M, after 1,000 searches", "memory.1000000.peak_rss_mib", 1024, True, "MiB"
    ),
]


def lookup(results: Results, path: str) -> Any:
    """The value at a dotted path, or None when any part is missing."""
    value: Any = results
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def judge(results: Results) -> list[dict[str, object]]:
    """Each target with its measured value and PASS, MISS or n/a (not measured)."""
    judged: list[dict[str, object]] = []
    for target in TARGETS:
        value = lookup(results, target.path)
        if not isinstance(value, int | float) or (isinstance(value, float) and math.isnan(value)):
            status, share = "n/a", None
        else:
            met = value <= target.limit if target.at_most else value >= target.limit
            status = "PASS" if met else "MISS"
            share = round(value / target.limit, 2) if target.limit else None
        judged.append(
            {
                "target": target.name,
                "figure": target.path,
                "value": value,
                "limit": f"{'≤' if target.at_most else '≥'} {target.limit:g} {target.unit}".strip(),
                "value_over_limit": share,
                "status": status,
            }
        )
    once = lookup(results, "digests.every_subscriber_exactly_once")
    judged.append(
        {
            "target": "every subscriber served exactly once",
            "figure": "digests.every_subscriber_exactly_once",
            "value": once,
            "limit": "true",
            "value_over_limit": None,
            "status": "n/a" if once is None else ("PASS" if once else "MISS"),
        }
    )
    return judged


def write_json(results: Results, path: Path) -> None:
    """Save the figures (NaN written as null)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(_without_nan(results), indent=2, ensure_ascii=False) + "\n")


def _without_nan(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if isinstance(value, dict):
        return {key: _without_nan(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_without_nan(item) for item in value]
    return value


def _ms(summary: Any) -> str:
    if not isinstance(summary, dict):
        return "–"
    return f"{summary['p50']:.1f} / {summary['p95']:.1f}"


def _value(value: Any, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.3g}{suffix}" if abs(value) < 10 else f"{value:,.1f}{suffix}"
    return f"{value}{suffix}"


def print_report(results: Results, console: Console) -> None:
    """Every table the run produced."""
    machine = results["machine"]
    console.print(
        f"\n[bold]Parley benchmarks[/bold] ({results['mode']} run, {results['started_at']}, "
        f"commit {results.get('git_commit', '?')}, "
        f"{results['duration_seconds']:.0f} s)\nMachine: {machine['cpu']}, {machine['cores']} "
        f"cores, {machine['ram_gib']} GiB RAM, {machine['os']}; Python {machine['python']}, "
        f"numpy {machine['numpy']}, torch {machine['torch']}, sentence-transformers "
        f"{machine['sentence_transformers']}, SQLite {machine['sqlite']}; load average "
        f"{machine['load_average_at_start']} at start, {results.get('load_average_at_end')} at end"
    )
    sections = results.get("sections", {})
    if sections:
        console.print(
            "Seconds and 1-minute load average after each section: "
            + ", ".join(
                f"{name} {info['seconds']:.0f} s ({info['load_average_after'][0]})"
                for name, info in sections.items()
            )
        )
    _retrieval(results, console)
    _others(results, console)
    targets = Table(title="Targets", title_justify="left")
    for column in ("target", "measured", "limit", "measured ÷ limit", "status"):
        targets.add_column(column)
    for row in results["targets"]:
        style = {"PASS": "green", "MISS": "red"}.get(str(row["status"]), "dim")
        targets.add_row(
            str(row["target"]),
            _value(row["value"]),
            str(row["limit"]),
            _value(row["value_over_limit"]),
            f"[{style}]{row['status']}[/{style}]",
        )
    console.print(targets)
    console.print("How these were measured:")
    for note in results["method"].values():
        console.print(f"  • {note}")


def _retrieval(results: Results, console: Console) -> None:
    retrieval = results.get("retrieval")
    if not retrieval:
        return
    table = Table(title="1. Retrieval, p50 / p95 ms (top-10)", title_justify="left")
    table.add_column("figure")
    for size in retrieval:
        table.add_column(f"{int(size):,} passages", justify="right")
    sizes = list(retrieval.values())

    def row(label: str, cell: Callable[[Any], str]) -> None:
        table.add_row(label, *(cell(figures) for figures in sizes))

    row("dense: VectorIndex.search", lambda r: _ms(r["dense_ms"]))
    row("baseline: numpy float32 brute force", lambda r: _ms(r["baseline_ms"]))
    row("previous: int8 scan (bench/int8_scan.py)", lambda r: _ms(r.get("previous_int8_scan_ms")))
    row("dense speed-up, p50", lambda r: _value(r["dense_speedup_vs_baseline_p50"], "×"))
    row(
        "recall@10 (mean / worst query)",
        lambda r: f"{r['recall_at_10']:.4f} / {r['recall_at_10_worst']:.1f}",
    )
    row("previous int8 scan recall@10", lambda r: _value(r.get("previous_int8_scan_recall_at_10")))
    row("index lists / probes (0: flat)", lambda r: f"{r['index_lists']} / {r['index_probes']}")
    row("FTS5 alone", lambda r: _ms(r["fts_ms"]))
    row("FTS5, every term (before the budget)", lambda r: _ms(r.get("fts_unbudgeted_ms")))
    overlap = "fts_top10_overlap_with_unbudgeted"
    row("FTS5 top-10 shared with every-term", lambda r: _value(r.get(overlap)))
    row("hybrid: term_weights + retrieve", lambda r: _ms(r["hybrid_ms"]))
    row("answer: retrieval + sentence selection", lambda r: _ms(r["answer_ms"]))
    row("question embedding alone", lambda r: _ms(r["question_embedding_ms"]))
    row("vector index build (s; – when saved)", lambda r: _value(r.get("index_build_seconds")))
    row("vector index load (s)", lambda r: _value(r["index_load_seconds"]))
    console.print(table)
    _engines(results, console)


def _engines(results: Results, console: Console) -> None:
    engines = results.get("engines")
    if not engines:
        return
    table = Table(
        title=f"1b. Vector engines, {engines['vectors']:,} synthetic vectors, top-10",
        title_justify="left",
    )
    for column in ("engine", "p50 / p95 ms", "recall@10 (mean / worst)", "build s", "MiB"):
        table.add_column(column, justify="left" if column == "engine" else "right")

    def add(label: str, figures: dict[str, Any], build: Any = None, mib: Any = None) -> None:
        recall = f"{figures['recall_at_10']:.4f} / {figures['recall_at_10_worst']:.1f}"
        table.add_row(label, _ms(figures["latency_ms"]), recall, _value(build), _value(mib))

    add("numpy float32 exact (baseline)", engines["numpy_float32_exact"])
    add("previous int8 scan", engines["previous_int8_scan"])
    faiss = engines["faiss_ivf_sq8"]
    for probes, figures in faiss["by_probes"].items():
        label = f"FAISS IVF-SQ8, {faiss['lists']} lists, {probes} probes"
        add(label, figures, faiss["build_seconds"], faiss["memory_mib"])
    graph = engines["usearch_hnsw_i8"]
    if "skipped" in graph:
        table.add_row("USearch HNSW i8", "–", "–", "–", graph["skipped"])
    else:
        add(f"USearch HNSW i8 ({graph['vectors']:,} vectors)", graph, graph["build_seconds"],
            graph["memory_mib"])  # fmt: skip
    console.print(table)


def _others(results: Results, console: Console) -> None:
    table = Table(title="2–5. Ingest, Telegram, digests, start-up, memory", title_justify="left")
    table.add_column("figure")
    table.add_column("value", justify="right")
    table.add_column("baseline / notes")
    ingest, telegram = results.get("ingest"), results.get("telegram")
    digests, startup, memory = results.get("digests"), results.get("startup"), results.get("memory")
    if ingest:
        table.add_row(
            f"ingest, passages/s ({ingest['passages']} passages, median of {ingest['rounds']})",
            _value(ingest["ingest_passages_per_second"]),
            f"raw embed {_value(ingest['raw_embed_passages_per_second'])}/s; "
            f"ratio {_value(ingest['ratio'], '×')}",
        )
    if telegram:
        one, crowd = telegram["one_user"], telegram["twenty_users"]
        table.add_row(
            f"Telegram 1 user, reply p50 / p95 ms ({telegram['passages']:,} passages)",
            _ms(one["latency_ms"]),
            f"in-process answer {_ms(one['direct_answer_ms'])} ms",
        )
        table.add_row(
            "Telegram 20 users, reply p50 / p95 ms; q/s",
            f"{_ms(crowd['latency_ms'])}; {_value(crowd['questions_per_second'])}",
            f"{crowd['questions']} questions in {crowd['seconds']:g} s",
        )
        fresh = telegram.get("twenty_users_new_chat_each_question")
        if fresh:
            table.add_row(
                "  … a new chat per question (no 1/s per-chat wait); q/s",
                f"{_ms(fresh['latency_ms'])}; {_value(fresh['questions_per_second'])}",
                "diagnostic",
            )
    if digests:
        table.add_row(
            f"digests to {digests['subscribers']:,} subscribers, msg/s",
            _value(digests["messages_per_second"]),
            f"server limit {digests['server_limit_per_second']}/s; median second "
            f"{_value(digests['messages_per_second_median_of_seconds'])}; 429s "
            f"{digests['too_many_requests_total']} "
            f"({digests['too_many_requests_after_first_second']} after 1 s); "
            f"exactly once: {digests['every_subscriber_exactly_once']}",
        )
    if startup:
        table.add_row(
            f"start-up to first answer, s ({startup['passages']:,} passages)",
            _value(startup["seconds_to_first_answer"]),
            f"max {_value(startup['seconds_to_first_answer_max'])} s of {startup['launches']}; "
            f"peak RSS {_value(startup['peak_rss_mib'])} MiB",
        )
    if cli := results.get("cli"):
        for name, command in CLI_COMMANDS:
            if f"{name}_seconds" in cli:
                table.add_row(
                    f"`parley {command}`, cold process, s (median)",
                    _value(cli[f"{name}_seconds"]),
                    f"max {_value(cli.get(f'{name}_seconds_max'))} s of {cli['launches']}; "
                    f"CPU {_value(cli.get(f'{name}_cpu_seconds'))} s; python alone "
                    f"{_value(cli['python_alone_seconds'])} s (CPU "
                    f"{_value(cli.get('python_alone_cpu_seconds'))} s); load "
                    f"{cli.get('load_average')}",
                )
    if fleet := results.get("workers"):
        for count in (1, 2):
            if figures := fleet.get(f"workers_{count}"):
                table.add_row(
                    f"answers/s, {count} webhook worker(s), PostgreSQL ({fleet['users']} users)",
                    _value(figures["answers_per_second"]),
                    f"p50/p95 {_value(figures['latency_ms']['p50'])}/"
                    f"{_value(figures['latency_ms']['p95'])} ms; per worker "
                    f"{figures['share_per_worker']}; speed-up {fleet.get('speed_up_2_vs_1')}",
                )
    if memory:
        model = memory["model_only"]
        for size, figures in memory.items():
            if size != "model_only":
                table.add_row(
                    f"peak RSS, {int(size):,} passages (MiB)",
                    _value(figures["peak_rss_mib"]),
                    f"model alone {_value(model['peak_rss_mib'])} MiB; float32 vectors "
                    f"{_value(figures['float32_vectors_mib'])} MiB; before its "
                    f"{figures.get('searches', 0):,} searches "
                    f"{_value(figures.get('start_peak_rss_mib'))} MiB; first start "
                    f"{_value(figures.get('first_start_peak_rss_mib'))} MiB",
                )
    if table.row_count:
        console.print(table)
