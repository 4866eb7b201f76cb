"""5a. Start-up: from launching `parley run` to the first answer through the Bot API, and the
peak memory of that process."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.archive import BuiltArchive, Say
from bench.botapi import SEEDS, TOKEN, archive_with_seed, local_bot_api
from bench.stats import median
from knowledge.embedding import Embedder

QUESTION = "Who leads the Russian delegation?"
EXPECTED = "Medinsky"
CHAT = 4242
TIMEOUT = 180.0


def parley_command() -> list[str]:
    """The installed `parley` script beside this Python, or the module when it is missing."""
    script = Path(sys.executable).with_name("parley")
    return [str(script)] if script.exists() else [sys.executable, "-m", "parley.cli"]


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set so far (VmHWM), in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


@dataclass(frozen=True)
class Launch:
    """One cold start of `parley run`."""

    seconds_to_first_answer: float
    peak_rss_mib: float
    answered_correctly: bool
    exit_status: int | None


def launch_once(database_url: str, workdir: Path) -> Launch:
    """Start `parley run`, ask as soon as it is launched, and time the first answer."""
    with local_bot_api() as server:
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.url,
            "SEEDS_DIR": str(SEEDS),
            "LOG_LEVEL": "WARNING",
        }
        log_path = workdir / "parley-run.log"
        with log_path.open("w") as log:
            started = time.perf_counter()
            process = subprocess.Popen(  # its folder has no .env: only these settings apply
                [*parley_command(), "run"], cwd=workdir, env=env, stdout=log, stderr=log
            )
            try:
                server.send_user_message(chat_id=CHAT, text=QUESTION)
                try:
                    replies = server.wait_for_messages(CHAT, 1, timeout=TIMEOUT)
                except Exception as error:
                    tail = log_path.read_text()[-2000:]
                    raise RuntimeError(f"parley run gave no answer: {error}\n{tail}") from error
                answered = time.perf_counter()
                peak = peak_rss_mib(process.pid)
            finally:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
    return Launch(
        round(answered - started, 2), peak, EXPECTED in str(replies[0]["text"]), process.returncode
    )


def run(archive: BuiltArchive, embedder: Embedder, *, launches: int, say: Say) -> dict[str, object]:
    """`launches` cold starts of `parley run` on a copy of the archive with the seed article."""
    with tempfile.TemporaryDirectory(prefix="parley-bench-startup-") as temporary:
        workdir = Path(temporary)
        copy = archive_with_seed(archive, workdir / "archive.db", embedder)
        results = []
        for number in range(launches):
            say(f"start-up: launch {number + 1} of {launches} on {archive.passages:,} passages")
            results.append(launch_once(copy.url, workdir))
    seconds = [launch.seconds_to_first_answer for launch in results]
    peaks = [launch.peak_rss_mib for launch in results]
    return {
        "passages": archive.passages,
        "launches": launches,
        "seconds_to_first_answer": round(median(seconds), 2),
        "seconds_to_first_answer_max": round(max(seconds), 2),
        "peak_rss_mib": round(median(peaks), 1),
        "every_answer_correct": all(launch.answered_correctly for launch in results),
        "runs": [asdict(launch) for launch in results],
    }
