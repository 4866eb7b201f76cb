"""5b. Command-line start-up: `parley --help` and the commands that need no model, each a
cold process timed from launch to exit, beside a bare `python -c pass` in the same run."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from bench.archive import Say
from bench.startup import parley_command
from bench.stats import percentile

TIMEOUT = 120.0
# Commands whose start-up the issue bounds; the database ones also migrate a fresh archive.
COMMANDS: dict[str, tuple[str, ...]] = {
    "help": ("--help",),
    "db_upgrade": ("db", "upgrade"),
    "sources_list": ("sources", "list"),
}


def time_process(command: Sequence[str], env: dict[str, str], cwd: Path) -> float:
    """Seconds from launching the command to its exit; it must succeed."""
    began = time.perf_counter()
    subprocess.run(command, env=env, cwd=cwd, check=True, timeout=TIMEOUT, capture_output=True)
    return time.perf_counter() - began


def run(*, launches: int, say: Say) -> dict[str, object]:
    """Time each command `launches` times, in turn, after one untimed warm-up of each (so
    every figure is a cold process on a warm file cache)."""
    parley = parley_command()
    baseline = [sys.executable, "-c", "pass"]
    results: dict[str, object] = {"launches": launches, "command": " ".join(parley)}
    with tempfile.TemporaryDirectory(prefix="parley-cli-bench-") as folder:
        workdir = Path(folder)
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'parley.db'}",
            "LOG_LEVEL": "WARNING",
        }
        commands = {"python_alone": baseline} | {
            name: [*parley, *args] for name, args in COMMANDS.items()
        }
        for command in commands.values():
            time_process(command, env, workdir)
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        say(f"cli start-up: {len(commands)} commands × {launches} cold processes")
        for _ in range(launches):
            for name, command in commands.items():
                seconds[name].append(time_process(command, env, workdir))
    for name, values in seconds.items():
        results[f"{name}_seconds"] = round(percentile(values, 50), 3)
        results[f"{name}_seconds_p95"] = round(percentile(values, 95), 3)
    return results
