"""2. Ingest throughput: Parley's ingestion path against the bare model on the same passages."""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from bench.archive import Say
from bench.corpus import Vocabulary, article_files
from bench.stats import median
from knowledge.embedding import Embedder
from parley.services import build_services
from parley.settings import Settings

PARAGRAPHS = (4, 8)  # per article: 3–5 passages of about 210 tokens each


CHUNK_ARTICLES = 30  # raw and ingest alternate per chunk, so machine noise hits both alike


def _settings(database_url: str) -> Settings:
    return Settings(_env_file=None, database_url=database_url)  # type: ignore[call-arg]


@dataclass
class Round:
    """Seconds spent in one round, summed over its chunks."""

    raw: float = 0.0
    planning: float = 0.0
    storing: float = 0.0
    stored: int = 0

    @property
    def ingest(self) -> float:
        return self.planning + self.storing


def _chunk_passages(files: list[Path], embedder: Embedder, workdir: Path) -> list[list[str]]:
    """The passages ingestion cuts each chunk of files into: the bare model gets the same."""
    services = build_services(_settings(f"sqlite:///{workdir / 'plan.db'}"), embedder=embedder)
    try:
        chunks = []
        for start in range(0, len(files), CHUNK_ARTICLES):
            chunk = [str(path) for path in files[start : start + CHUNK_ARTICLES]]
            plans, _ = services.ingestor.plan_files(chunk)
            chunks.append([passage for plan in plans for passage in plan.passages])
        return chunks
    finally:
        services.close()


def _round(
    files: list[Path], texts: list[list[str]], database_url: str, embedder: Embedder, number: int
) -> Round:
    """Every chunk through ingestion (plan_files + store, as `parley ingest` does, on one
    fresh archive) and through embed alone, alternating which goes first."""
    services = build_services(_settings(database_url), embedder=embedder)
    measured = Round()
    try:
        for index, chunk in enumerate(texts):
            first = index * CHUNK_ARTICLES
            paths = [str(path) for path in files[first : first + CHUNK_ARTICLES]]
            for step in ("raw", "ingest") if (number + index) % 2 == 0 else ("ingest", "raw"):
                start = time.perf_counter()
                if step == "raw":
                    embedder.embed(chunk)
                    measured.raw += time.perf_counter() - start
                    continue
                plans, problems = services.ingestor.plan_files(paths)
                planned = time.perf_counter()
                report = services.ingestor.store(plans)
                measured.planning += planned - start
                measured.storing += time.perf_counter() - planned
                if problems or report.duplicates:
                    raise RuntimeError(f"benchmark articles refused: {problems or 'duplicates'}")
                measured.stored += len(report.stored)
    finally:
        services.close()
    return measured


def run(*, articles: int, repeats: int, embedder: Embedder, say: Say) -> dict[str, object]:
    """Passages per second through ingestion and through `embed` alone, interleaved."""
    with tempfile.TemporaryDirectory(prefix="parley-bench-ingest-") as temporary:
        workdir = Path(temporary)
        folder = workdir / "articles"
        folder.mkdir()
        files = article_files(
            Vocabulary(), np.random.default_rng(5), articles, folder, paragraphs=PARAGRAPHS
        )
        texts = _chunk_passages(files, embedder, workdir)
        passages = sum(len(chunk) for chunk in texts)
        embedder.embed(texts[0][:16])  # warm-up: the first call pays one-off costs
        say(f"ingest: {articles} articles, {passages} passages, {repeats} rounds")
        rounds = []
        for number in range(repeats):
            database_url = f"sqlite:///{workdir / f'round-{number}.db'}"
            measured = _round(files, texts, database_url, embedder, number)
            if measured.stored != articles:
                raise RuntimeError(f"stored {measured.stored} of {articles} articles")
            rounds.append(measured)
            say(
                f"  round {number + 1}: ingest {passages / measured.ingest:.1f} passages/s, "
                f"raw embed {passages / measured.raw:.1f} passages/s"
            )
    return {
        "articles": articles,
        "passages": passages,
        "rounds": repeats,
        "chunk_articles": CHUNK_ARTICLES,
        "ingest_passages_per_second": round(median([passages / r.ingest for r in rounds]), 2),
        "raw_embed_passages_per_second": round(median([passages / r.raw for r in rounds]), 2),
        "ratio": round(median([r.raw / r.ingest for r in rounds]), 3),
        "ratio_by_round": [round(r.raw / r.ingest, 3) for r in rounds],
        "planning_seconds": round(median([r.planning for r in rounds]), 2),
        "storing_seconds": round(median([r.storing for r in rounds]), 2),
    }
