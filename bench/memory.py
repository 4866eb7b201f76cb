"""5b. Peak memory with 100k and 1M passages: one fresh process per archive, so peaks never mix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from bench.archive import Say, ensure_archive
from bench.corpus import DIMENSION

PROJECT = Path(__file__).resolve().parent.parent
GIB = 1024.0


def probe(*, database_url: str | None, timeout: float = 900) -> dict[str, float]:
    """Run `python -m bench.probe` in a fresh process and return what it printed."""
    env = {**os.environ, "LOG_LEVEL": "WARNING", "SEEDS_DIR": str(PROJECT / "seeds")}
    arguments = [sys.executable, "-m", "bench.probe"]
    if database_url is None:
        arguments.append("--model-only")
    else:
        env["DATABASE_URL"] = database_url
    done = subprocess.run(
        arguments, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=timeout
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench.probe failed ({done.returncode}): {done.stderr[-2000:]}")
    figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def run(sizes: Sequence[int], *, cache_dir: Path, say: Say) -> dict[str, object]:
    """Peak RSS of the model alone, then of Parley started on each archive size: twice, as
    a large archive's first start may train and save its vector index (the cached one may
    have none yet, or one of an earlier version) and every later start reads it back. The
    figure is the second start's; the first's is kept beside it."""
    say("peak memory: the model alone")
    results: dict[str, object] = {"model_only": probe(database_url=None)}
    for size in sizes:
        archive = ensure_archive(size, cache_dir, say)
        say(f"peak memory: Parley's services on {size:,} passages (two starts)")
        first = probe(database_url=archive.url)
        figures: dict[str, object] = dict(probe(database_url=archive.url))
        figures["first_start_peak_rss_mib"] = first["peak_rss_mib"]
        figures["first_start_load_and_answer_seconds"] = first["load_and_answer_seconds"]
        figures["float32_vectors_mib"] = round(size * DIMENSION * 4 / GIB / GIB, 1)
        results[str(size)] = figures
    return results
