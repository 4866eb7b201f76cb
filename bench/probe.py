"""A child process that starts like `parley run` and reports its peak memory.

`python -m bench.probe` builds Parley's services exactly as `parley run` does (migrations,
the real model, every stored vector into the index, the fingerprints), answers one
question, waits for the last fingerprints, and prints one JSON line: peak RSS (VmHWM) and
how long loading and answering took.
With --model-only it loads just the model: the fixed cost every archive size pays.
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # imported for real with the services: --model-only must not load FAISS
    from storage.vectors import VectorIndex

QUESTION = "Who leads the Russian delegation?"
# Searches after the first answer: a running bot's searches map the saved index's codes into
# the process (storage/mapped_pages.py), so its peak is measured after them too.
SEARCHES = 1_000


def peak_rss_kib() -> int:
    """This process's peak resident set in KiB: VmHWM, which starts afresh at exec. (Linux
    carries getrusage's ru_maxrss across execve, so a child started by a large parent would
    report the parent's peak.)"""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def search_randomly(vectors: VectorIndex, count: int) -> None:
    """`count` top-10 searches for random unit vectors: over a large archive they reach
    lists all over the index, as a bot's questions do over its days."""
    rng = np.random.default_rng(0)
    for _ in range(count):
        query = rng.standard_normal(vectors.dimension).astype(np.float32)
        vectors.search(query / np.linalg.norm(query), 10)


def main(argv: Sequence[str] | None = None) -> int:
    """Load, answer one question, print the figures."""
    parser = argparse.ArgumentParser(prog="python -m bench.probe")
    parser.add_argument("--model-only", action="store_true")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    start = time.perf_counter()
    passages = 0
    searched: dict[str, float] = {}  # the peak before the searches, and how many
    if args.model_only:
        from knowledge.embedding import load_embedder

        load_embedder().embed([QUESTION])
        loaded = time.perf_counter() - start
    else:
        from parley.services import build_services
        from parley.settings import Settings

        services = build_services(Settings(_env_file=None))  # type: ignore[call-arg]
        passages = len(services.vectors)
        services.answerer.ask(QUESTION)
        loaded = time.perf_counter() - start
        # The fingerprints are read on a thread of their own and may still be arriving after
        # the first answer; the bot holds them all soon after, so the peak must include them.
        len(services.follower.fingerprints)  # waits until they are all read
        searched = {"start_peak_rss_mib": round(peak_rss_kib() / 1024, 1), "searches": SEARCHES}
        search_randomly(services.vectors, SEARCHES)
        services.close()
    peak_kib = peak_rss_kib()
    figures = {
        "peak_rss_mib": round(peak_kib / 1024, 1),
        "load_and_answer_seconds": round(loaded, 2),
        "passages": passages,
        **searched,
    }
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
