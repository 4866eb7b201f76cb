"""How near-duplicate checks scale: `python -m evaluation.fingerprint_scale [ARTICLES...]`.

Parley's `FingerprintIndex` (every signature in one numpy matrix, a full scan per check) is
set against datasketch's `MinHashLSH` (threshold 0.5, the same 128 permutations) holding the
same signatures. Each method and size runs in a fresh process, so the memory it reports
(resident set growth while the index is built) is its own. Stored signatures are random
(different articles); each check is timed for a new article (no match: the scan's worst
case) and for a near-copy of a stored one (about 70% of its slots kept).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from knowledge.fingerprints import MIN_JACCARD, NUM_PERM, SCHEME, SEED, FingerprintIndex

CHECKS = 100
Rows = npt.NDArray[np.uint32]
Check = Callable[[Rows], bool]


def resident_mib() -> float:
    """This process's resident set size, from /proc (Linux)."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def numpy_index(rows: Rows) -> Check:
    index = FingerprintIndex(row.astype("<u4").tobytes() for row in rows)
    return lambda probe: index.has_near_duplicate(probe.astype("<u4").tobytes())


def lsh_index(rows: Rows) -> Check:
    from datasketch import LeanMinHash, MinHash, MinHashLSH

    def sketch(values: Rows) -> LeanMinHash:
        return LeanMinHash(MinHash(seed=SEED, hashvalues=values, scheme=SCHEME))

    lsh = MinHashLSH(threshold=MIN_JACCARD, num_perm=NUM_PERM)
    with lsh.insertion_session() as session:
        for key, row in enumerate(rows):
            session.insert(key, sketch(row), check_duplication=False)

    def check(probe: Rows) -> bool:
        # LSH gives candidates; the estimate decides, as the scan does.
        candidates = lsh.query(sketch(probe))
        return any(
            np.count_nonzero(rows[key] == probe) >= MIN_JACCARD * NUM_PERM for key in candidates
        )

    return check


METHODS = {"numpy scan": numpy_index, "MinHashLSH": lsh_index}


def measure(method: str, articles: int) -> dict[str, object]:
    """Build one index of `articles` random signatures; time its checks."""
    rng = np.random.default_rng(articles)
    rows = rng.integers(0, 2**32, size=(articles, NUM_PERM), dtype=np.uint32)
    before = resident_mib()
    started = time.perf_counter()
    check = METHODS[method](rows)
    build = time.perf_counter() - started
    grown = resident_mib() - before
    new, copies, caught = [], [], 0
    for _ in range(CHECKS):
        probe = rng.integers(0, 2**32, size=NUM_PERM, dtype=np.uint32)
        started = time.perf_counter()
        assert not check(probe)
        new.append(time.perf_counter() - started)
        copy = rows[rng.integers(articles)].copy()
        changed = rng.random(NUM_PERM) < 0.3
        copy[changed] = probe[changed]
        started = time.perf_counter()
        caught += check(copy)  # LSH may miss one: banding is a probabilistic filter
        copies.append(time.perf_counter() - started)
    return {
        "method": method,
        "articles": articles,
        "build s": round(build, 1),
        "memory MiB": round(grown),
        "new article ms p50": round(statistics.median(new) * 1000, 2),
        "new article ms max": round(max(new) * 1000, 2),
        "near copy ms p50": round(statistics.median(copies) * 1000, 2),
        "near copies caught": f"{caught}/{CHECKS}",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("articles", nargs="*", type=int, default=[100_000, 1_000_000])
    parser.add_argument("--method", choices=list(METHODS), help="one run, in this process")
    arguments = parser.parse_args()
    if arguments.method:
        for size in arguments.articles:
            print(json.dumps(measure(arguments.method, size)), flush=True)
        return
    for size in arguments.articles:
        for method in METHODS:
            command = [sys.executable, "-m", __spec__.name, "--method", method, str(size)]
            subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
