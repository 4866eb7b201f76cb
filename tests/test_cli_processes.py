"""The `parley` command as an operator runs it: bad paths, a live question loop on a pipe, and
an unreachable Bot API. Processes use the fake embedder (tests/support/fake_parley.py)."""

from __future__ import annotations

import json
import os
import queue
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

import pytest

from parley.cli import main
from tests.conftest import PROJECT, SEED_ARTICLE, SEEDS
from tests.support.bot_harness import TOKEN

# Generous: a guard against a hang on a busy machine, never a measure of speed.
PROCESS_TIMEOUT = 180


def parley(*args: str) -> list[str]:
    return [sys.executable, "-m", "tests.support.fake_parley", *args]


def parley_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        "SEEDS_DIR": str(SEEDS),
        **extra,
    }


def closed_port() -> int:
    """A local port that nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LineReader:
    """Reads a pipe on a thread, so a test can wait for one line without blocking forever."""

    def __init__(self, stream: IO[str]) -> None:
        self._lines: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, args=(stream,), daemon=True).start()

    def _pump(self, stream: IO[str]) -> None:
        for line in stream:
            self._lines.put(line)

    def next_line(self) -> str:
        return self._lines.get(timeout=PROCESS_TIMEOUT)


@pytest.mark.parametrize("path", ["", "   "])
def test_an_empty_path_is_an_error_not_the_current_folder(
    path: str,
    settings: object,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "article.txt").write_text(SEED_ARTICLE.read_text())

    with pytest.raises(SystemExit) as exited:
        main(["ingest", path])

    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "an empty path names no file or folder" in err
    assert not (tmp_path / "parley.db").exists()  # nothing was opened, let alone ingested


def test_ask_answers_each_line_as_it_arrives(tmp_path: Path) -> None:
    process = subprocess.Popen(
        parley("ask", "--json"),
        cwd=tmp_path,
        env=parley_env(tmp_path),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        bufsize=1,
    )
    assert process.stdin is not None and process.stdout is not None
    answers = LineReader(process.stdout)
    try:
        process.stdin.write("Who leads the Russian delegation?\n")
        process.stdin.flush()
        first = json.loads(answers.next_line())  # stdin is still open: answered live
        process.stdin.write("\n   \nWhere are the talks held?\n")
        process.stdin.flush()
        second = json.loads(answers.next_line())
        process.stdin.close()
        status = process.wait(timeout=PROCESS_TIMEOUT)
    finally:
        if process.poll() is None:
            process.kill()

    assert first["question"] == "Who leads the Russian delegation?"
    assert "Medinsky" in first["answer"]
    assert second["question"] == "Where are the talks held?"
    assert status == 0


def test_an_unreachable_bot_api_is_one_sentence_and_status_1(tmp_path: Path) -> None:
    base_url = f"http://127.0.0.1:{closed_port()}"

    finished = subprocess.run(
        parley("run"),
        cwd=tmp_path,
        env=parley_env(tmp_path, TELEGRAM_BOT_TOKEN=TOKEN, TELEGRAM_API_BASE_URL=base_url),
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
    )

    assert finished.returncode == 1
    assert "Traceback" not in finished.stderr
    assert TOKEN not in finished.stderr
    last_line = finished.stderr.strip().splitlines()[-1]
    assert last_line.startswith(f"parley: cannot reach the Telegram Bot API at {base_url} (")
    assert last_line.endswith("check the network and TELEGRAM_API_BASE_URL.")
