"""2. Ingest throughput: Parley's ingestion path against the bare model on the same passages."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

from bench.archive import Say
from bench.corpus import Vocabulary, article_files
from bench.stats import median, ratio
from bot.services import build_services
from bot.settings import Settings
from knowledge.embedding import Embedder

PARAGRAPHS = (4, 8)  # per article: 3–5 passages of about 210 tokens each


def _settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


def _ingest_once(folder: Path, database_url: str, embedder: Embedder) -> tuple[float, float, int]:
    """Plan and store every file on a fresh archive, as `parley ingest` does:
    (planning seconds, storing seconds, articles stored)."""
    services = build_services(_settings(database_url), embedder=embedder)
    try:
        start = time.perf_counter()
        plans, problems = services.ingestor.plan_files([str(folder)])
        planned = time.perf_counter()
        report = services.ingestor.store(plans)
        stored = time.perf_counter()
    finally:
        services.close()
    if problems or report.duplicates:
        raise RuntimeError(f"ingest benchmark articles were refused: {problems or 'duplicates'}")
    return planned - start, stored - planned, len(report.stored)


def _passages(folder: Path, embedder: Embedder, workdir: Path) -> list[str]:
    """The passages ingestion cuts the files into, to hand the bare model the same texts."""
    services = build_services(_settings(f"sqlite:///{workdir / 'plan.db'}"), embedder=embedder)
    try:
        plans, _ = services.ingestor.plan_files([str(folder)])
    finally:
        services.close()
    return [passage for plan in plans for passage in plan.passages]


def run(*, articles: int, repeats: int, embedder: Embedder, say: Say) -> dict[str, object]:
    """Passages per second through ingestion and through `embed` alone, interleaved."""
    with tempfile.TemporaryDirectory(prefix="parley-bench-ingest-") as temporary:
        workdir = Path(temporary)
        folder = workdir / "articles"
        folder.mkdir()
        article_files(
            Vocabulary(), np.random.default_rng(5), articles, folder, paragraphs=PARAGRAPHS
        )
        texts = _passages(folder, embedder, workdir)
        embedder.embed(texts[:16])  # warm-up: the first call pays one-off costs
        say(f"ingest: {articles} articles, {len(texts)} passages, {repeats} rounds")
        raw_rates, ingest_rates, ratios, plan_times, store_times = [], [], [], [], []
        for round_number in range(repeats):
            raw_first = round_number % 2 == 0  # alternate which goes first
            steps = ["raw", "ingest"] if raw_first else ["ingest", "raw"]
            rates: dict[str, float] = {}
            for step in steps:
                if step == "raw":
                    start = time.perf_counter()
                    embedder.embed(texts)
                    rates["raw"] = len(texts) / (time.perf_counter() - start)
                else:
                    url = f"sqlite:///{workdir / f'ingest-{round_number}.db'}"
                    planning, storing, stored = _ingest_once(folder, url, embedder)
                    if stored != articles:
                        raise RuntimeError(f"stored {stored} of {articles} articles")
                    rates["ingest"] = len(texts) / (planning + storing)
                    plan_times.append(planning)
                    store_times.append(storing)
            raw_rates.append(rates["raw"])
            ingest_rates.append(rates["ingest"])
            ratios.append(rates["ingest"] / rates["raw"])
            say(
                f"  round {round_number + 1}: ingest {rates['ingest']:.1f} passages/s, "
                f"raw embed {rates['raw']:.1f} passages/s"
            )
    return {
        "articles": articles,
        "passages": len(texts),
        "rounds": repeats,
        "ingest_passages_per_second": round(median(ingest_rates), 2),
        "raw_embed_passages_per_second": round(median(raw_rates), 2),
        "ratio": round(median(ratios), 3),
        "ratio_of_medians": ratio(median(ingest_rates), median(raw_rates)),
        "planning_seconds": round(median(plan_times), 2),
        "storing_seconds": round(median(store_times), 2),
    }
