"""5b. Command-line start-up: `parley --help` and the commands that need no model, each a
cold process timed from launch to exit, beside a bare `python -c pass` in the same run."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.archive import Say
from bench.startup import parley_command
from bench.stats import percentile

TIMEOUT = 120.0
SOURCES = 3  # in the small archive the database commands run on
ARTICLES_PER_SOURCE = 4


@dataclass(frozen=True)
class Command:
    """A command whose start-up the issue bounds, and the exit status it must end with."""

    args: tuple[str, ...]
    status: int = 0


# Issue 11: each of these, which load no model, starts and finishes in under half a second.
COMMANDS: dict[str, Command] = {
    "help": Command(("--help",)),
    "db_upgrade": Command(("db", "upgrade")),
    "sources_list": Command(("sources", "list")),
    # A source that is not there, so that every launch runs the same removal, and fails.
    "sources_remove": Command(("sources", "remove", "#99"), status=1),
}


def time_process(
    command: Sequence[str], env: dict[str, str], cwd: Path, *, status: int = 0
) -> tuple[float, float]:
    """Seconds from launching the command to its exit (which must be `status`), and the CPU
    seconds it used: on a busy machine the first waits for the cores, the second much less."""
    used_before = _children_cpu_seconds()
    began = time.perf_counter()
    finished = subprocess.run(command, env=env, cwd=cwd, timeout=TIMEOUT, capture_output=True)
    elapsed = time.perf_counter() - began
    if finished.returncode != status:
        raise RuntimeError(
            f"{' '.join(command)} exited {finished.returncode}, not {status}: "
            f"{finished.stderr.decode(errors='replace')[-2000:]}"
        )
    return elapsed, _children_cpu_seconds() - used_before


def _children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def small_archive(database: Path) -> None:
    """A migrated SQLite archive with a few sources and articles, as the commands find it."""
    from storage import sources
    from storage.db import create_database_engine, session_factory, upgrade_database
    from storage.models import Article, utcnow

    engine = create_database_engine(f"sqlite:///{database}")
    try:
        upgrade_database(engine)
        with session_factory(engine).begin() as session:
            for number in range(SOURCES):
                source = sources.add_source(
                    session,
                    url=f"https://news.example/{number}/feed.xml",
                    name=f"Wire {number}",
                    kind="feed",
                )
                session.add_all(
                    Article(
                        source_id=source.id,
                        url=f"https://news.example/{number}/story-{index}",
                        title=f"Talks, day {index}",
                        text="The delegations met again.",
                        content_hash=f"{number}-{index}",
                        ingested_at=utcnow(),
                    )
                    for index in range(ARTICLES_PER_SOURCE)
                )
    finally:
        engine.dispose()


def run(*, launches: int, say: Say) -> dict[str, object]:
    """Time each command `launches` times, in turn, after one untimed warm-up of each (so
    every figure is a cold process on a warm file cache, with its bytecode compiled)."""
    parley = parley_command()
    baseline = Command(("-c", "pass"))
    results: dict[str, object] = {"launches": launches, "command": " ".join(parley)}
    with tempfile.TemporaryDirectory(prefix="parley-cli-bench-") as folder:
        workdir = Path(folder)
        small_archive(workdir / "parley.db")
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{workdir / 'parley.db'}",
            "LOG_LEVEL": "WARNING",
            # An installed package has its bytecode; the warm-up writes it here, so that no
            # launch compiles Parley's modules again (PYTHONDONTWRITEBYTECODE would).
            "PYTHONPYCACHEPREFIX": str(workdir / "pycache"),
        }
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        commands = {"python_alone": ([sys.executable, *baseline.args], 0)} | {
            name: ([*parley, *command.args], command.status) for name, command in COMMANDS.items()
        }
        for command, status in commands.values():
            time_process(command, env, workdir, status=status)
        seconds: dict[str, list[float]] = {name: [] for name in commands}
        cpu_seconds: dict[str, list[float]] = {name: [] for name in commands}
        say(f"cli start-up: {len(commands)} commands × {launches} cold processes")
        for _ in range(launches):
            for name, (command, status) in commands.items():
                elapsed, used = time_process(command, env, workdir, status=status)
                seconds[name].append(elapsed)
                cpu_seconds[name].append(used)
    for name, values in seconds.items():
        results[f"{name}_seconds"] = round(percentile(values, 50), 3)
        results[f"{name}_seconds_max"] = round(max(values), 3)
        results[f"{name}_cpu_seconds"] = round(percentile(cpu_seconds[name], 50), 3)
    results["load_average"] = [round(load, 2) for load in os.getloadavg()]
    return results
