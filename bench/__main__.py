"""`python -m bench`: run the benchmarks, print the tables, write bench/results/latest.json."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from bench import (
    cli_start,
    engines,
    fanout,
    freshness,
    ingest,
    memory,
    report,
    retrieval,
    startup,
    telegram,
    workers,
)
from bench.archive import ensure_archive
from bench.corpus import GENERATOR_VERSION
from bench.machine import code_revision, describe_machine
from knowledge.embedding import load_embedder

RESULTS = Path(__file__).resolve().parent / "results"
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
SECTIONS = (
    "retrieval",
    "engines",
    "memory",
    "ingest",
    "telegram",
    "digests",
    "startup",
    "cli",
    "workers",
    "freshness",
)
METHOD = {
    "archive": "Synthetic archives are built through Parley's own schema (Alembic migrations) "
    "with rows written by plain SQL executemany in bulk, not one transaction per article; "
    "passage terms are knowledge.terms.index_terms of the text, vectors carry the bundled "
    "model's id. Cached in bench/results/cache by size and generator version.",
    "text": "Passage text: Zipf-distributed words (exponent 1.05) over the seed article's "
    "words (most frequent first) plus 40,000 made-up words; 6–9 sentences, ~120 words each.",
    "vectors": "Vectors: a two-level Gaussian mixture in 384 dimensions (2,000 topics × 25 "
    "sub-topics, a shared direction, noise), L2-normalised float32; cosine ≈ 0.06 unrelated, "
    "≈ 0.36 same topic, ≈ 0.56 same sub-topic. Queries: a random stored vector plus noise "
    "(cosine 0.8 to it) and three distinct content words of that passage.",
    "latency": "Latencies are p50 / p95 over every query (after 5 warm-up queries); the "
    "operations run in a rotating order per query. The numpy baseline runs over the same "
    "queries in its own pass just before (its BLAS threads keep spinning after a large "
    "product and slow the next torch call 2–10×). recall@10: overlap of VectorIndex.search's "
    "top 10 with the baseline's exact float32 top 10.",
    "vector_index": "VectorIndex (storage/vectors.py) is FAISS: a flat exact index below "
    "50,000 vectors, above it an inverted file with 8-bit scalar codes (IVF-SQ8, 4·√n lists, "
    "k-means on a random sample of 40 vectors per list, 16 lists probed per query), saved "
    "beside the SQLite file and caught up with the database at start. 'Build' is training and "
    "filling it from the BLOBs (the first start); 'load' reads the saved index and reconciles "
    "it (every later start). The previous int8 scan (bench/int8_scan.py: int8 codes with one "
    "scale per vector, a full scan, shortlist rescoring; numpy's product where production used "
    "torch._int_mm) is timed in the baseline's pass over the same queries.",
    "engines": "Vector engines: numpy exact, the previous int8 scan, VectorIndex at 4–32 probes "
    "and USearch HNSW (8-bit, inner product, connectivity 16, expansion 128 add / 64 search) on "
    "the same synthetic vectors (the archive's mixture, generated in memory), one query at a "
    "time; USearch on at most --graph-size vectors because its graph builds slowly.",
    "hybrid": "FTS5 alone = SqliteFullTextIndex.search over all of the question's terms; "
    "FTS5 searches the rarest terms whose posting lists together stay within 50,000 "
    "passages, none when the rarest alone is in more than 20,000 ('every term' is the same "
    "search without either budget, as before); "
    "hybrid = Retriever.term_weights + Retriever.retrieve (dense + FTS5 over the selective "
    "terms, fused by rank, passages read), as the answer path calls them.",
    "answer": "Answer = Answerer.ask with the question's vector precomputed: retrieval (8 "
    "passages) + reading their sentences and sentence vectors, stored at ingest (the archive "
    "holds them, drawn near their passage's vector) + scoring; the question's own embedding "
    "is timed separately ('question embedding alone'). Synthetic questions are never judged "
    "covered, but every candidate sentence is scored before that check, so the cost is that "
    "of a real answer.",
    "ingest": "Ingest = Ingestor.plan_files + Ingestor.store on a fresh archive (what `parley "
    "ingest` does after start-up) vs the embedder's embed() on the very same passages, batch "
    "64, alternating per chunk of 30 articles; the ratio is the median of per-round ratios.",
    "telegram": "Telegram: the real application (build_application + start_bot) polling a "
    "local Bot API server in the same process (its HTTP threads share the bot's GIL and "
    "cores); the archive is the synthetic one plus the real seed article, ingested through "
    "Ingestor so real questions get real answers; latency from queueing the user's message to "
    "the server recording the reply. 1 user: one question in flight, each from its own chat "
    "(so the 1 msg/s per-chat limit adds no wait); 20 users: each asks again as soon as its "
    "reply arrives, in its own chat. Questions: tests/eval's 38, in turn.",
    "digests": "Digests: DigestSender.send_pending through the Application's bot against the "
    "local server answering 429 above 30 msg/s overall and 1/s per chat; 429s counted by the "
    "server, sampled after 1 s.",
    "cli": "CLI start-up: `parley --help`, `parley db upgrade`, `parley sources list` and "
    "`parley sources remove` (of a missing source) on a small migrated SQLite archive (3 "
    "sources, 12 articles) as cold processes, launch to exit, in turn with a bare "
    "`python -c pass`, after one untimed warm-up each (which writes the bytecode, as an "
    "install does); medians and maxima of the launches.",
    "workers": "Webhook workers: 1 and 2 real `parley run --webhook` processes (real model) on "
    "one throwaway PostgreSQL archive of the seed articles, behind a round-robin load "
    "balancer (playground/load_balancer.py) that the local Bot API server POSTs updates to; "
    "closed-loop users each ask the next evaluation question when the reply arrives, from a "
    "new chat each time; answers counted in a window after 10 s of warm-up.",
    "memory": "Peak RSS: VmHWM of a fresh process per archive that builds Parley's "
    "services as `parley run` does (model, every vector, fingerprints) and answers one "
    "question, then runs 1,000 top-10 searches for random vectors (a running bot's searches "
    "map the saved index's codes in), started twice (the figure is the second start, which "
    "reads the vector index the first saved); start-up RSS is the `parley run` process's VmHWM "
    "after its first answer.",
}


@dataclass(frozen=True)
class Plan:
    """Sizes and repetitions of one run."""

    sizes: tuple[int, ...] = (10_000, 100_000, 1_000_000)
    queries: int = 200
    memory_sizes: tuple[int, ...] = (100_000, 1_000_000)
    ingest_articles: int = 300
    ingest_rounds: int = 3
    telegram_size: int = 100_000
    sequential_questions: int = 50
    crowd_seconds: float = 20.0
    diagnostic_seconds: float = 10.0
    subscribers: int = 5_000
    launches: int = 3
    cli_launches: int = 10
    startup_size: int = 1_000_000
    engine_size: int = 1_000_000
    graph_size: int = 100_000
    worker_users: int = 8
    worker_seconds: float = 30.0
    freshness_rounds: int = 3


QUICK = Plan(
    sizes=(10_000,),
    queries=40,
    memory_sizes=(10_000,),
    ingest_articles=30,
    ingest_rounds=1,
    telegram_size=10_000,
    sequential_questions=12,
    crowd_seconds=5.0,
    diagnostic_seconds=0.0,
    subscribers=200,
    launches=1,
    cli_launches=3,
    startup_size=10_000,
    engine_size=20_000,
    graph_size=5_000,
    worker_users=4,
    worker_seconds=5.0,
    freshness_rounds=1,
)


def parse_arguments(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small smoke run (< 2 minutes)")
    parser.add_argument(
        "--only", default=",".join(SECTIONS), help=f"comma-separated sections: {SECTIONS}"
    )
    parser.add_argument("--sizes", help="archive sizes for retrieval and memory, comma-separated")
    parser.add_argument("--queries", type=int, help="queries per retrieval size")
    parser.add_argument("--startup-size", type=int, help="archive size of the start-up section")
    parser.add_argument("--engine-size", type=int, help="vectors in the engines section")
    parser.add_argument("--graph-size", type=int, help="vectors for USearch (0: skip it)")
    parser.add_argument("--output", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--cache", type=Path, default=RESULTS / "cache", help="built archives")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the chosen sections, print the tables, write the JSON."""
    args = parse_arguments(argv)
    sections = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = set(sections) - set(SECTIONS)
    if unknown:
        print(f"bench: unknown section(s) {sorted(unknown)}; choose from {SECTIONS}")
        return 2
    plan = QUICK if args.quick else Plan()
    if args.sizes:
        sizes = tuple(int(size) for size in args.sizes.split(","))
        plan = replace(plan, sizes=sizes, memory_sizes=sizes)
    if args.queries:
        plan = replace(plan, queries=args.queries)
    for option in ("startup_size", "engine_size", "graph_size"):
        if getattr(args, option) is not None:
            plan = replace(plan, **{option: getattr(args, option)})
    logging.basicConfig(level=logging.WARNING, format=LOG_FORMAT)
    console = Console(stderr=True)
    began = time.perf_counter()

    def say(message: str) -> None:
        console.print(f"[dim]{time.perf_counter() - began:6.0f}s[/dim] {message}")

    results: dict[str, Any] = {
        "mode": "quick" if args.quick else "full",
        "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "generator_version": GENERATOR_VERSION,
        "git_commit": code_revision(),
        "machine": describe_machine(),
        "method": METHOD,
    }
    say("loading the model")
    embedder = load_embedder()
    cache: Path = args.cache
    runners: dict[str, Callable[[], dict[str, object]]] = {
        "retrieval": lambda: retrieval.run(
            plan.sizes, cache_dir=cache, queries=plan.queries, embedder=embedder, say=say
        ),
        "engines": lambda: engines.run(
            plan.engine_size, queries=plan.queries, graph_size=plan.graph_size, say=say
        ),
        "memory": lambda: memory.run(plan.memory_sizes, cache_dir=cache, say=say),
        "ingest": lambda: ingest.run(
            articles=plan.ingest_articles, repeats=plan.ingest_rounds, embedder=embedder, say=say
        ),
        "telegram": lambda: telegram.run(
            ensure_archive(plan.telegram_size, cache, say),
            embedder,
            sequential_questions=plan.sequential_questions,
            crowd_seconds=plan.crowd_seconds,
            diagnostic_seconds=plan.diagnostic_seconds,
            say=say,
        ),
        "digests": lambda: fanout.run(subscribers=plan.subscribers, embedder=embedder, say=say),
        "startup": lambda: startup.run(
            ensure_archive(plan.startup_size, cache, say),
            embedder,
            launches=plan.launches,
            say=say,
        ),
        "cli": lambda: cli_start.run(launches=plan.cli_launches, say=say),
        "workers": lambda: workers.run(
            users=plan.worker_users,
            seconds=plan.worker_seconds,
            embedder=embedder,
            say=say,
            worker_counts=(1, 2),
        ),
        "freshness": lambda: freshness.run(
            rounds=plan.freshness_rounds, embedder=embedder, say=say
        ),
    }
    results["sections"] = {}
    for name in SECTIONS:
        if name in sections:
            section_began = time.perf_counter()
            results[name] = runners[name]()
            results["sections"][name] = {  # other work on the machine shows in the load
                "seconds": round(time.perf_counter() - section_began, 1),
                "load_average_after": [round(value, 2) for value in os.getloadavg()],
            }
    results["duration_seconds"] = round(time.perf_counter() - began, 1)
    results["load_average_at_end"] = [round(value, 2) for value in os.getloadavg()]
    results["targets"] = report.judge(results)
    report.write_json(results, args.output)
    report.print_report(results, Console(width=160))
    say(f"figures written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
