"""Real `parley run --webhook` worker processes for tests (and the bench).

Run as ``python -m tests.support.webhook_workers ARGS...`` it is `parley ARGS...` with the fake
embedder (as tests/support/fake_parley.py) and a User-Agent naming the worker
(``PARLEY_TEST_WORKER``), so that a local feed server can tell which worker polled it.
"""

from __future__ import annotations

import functools
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from tests.conftest import PROJECT, SEEDS
from tests.support.bot_harness import ADMIN, TOKEN

SECRET = "test-secret-token-0123456789abcdef"
WEBHOOK_PATH = "/telegram/webhook"
USER_AGENT = "Parley-test-worker/"
READY_TIMEOUT = 180  # a guard against a hang on a busy machine, never a measure of speed


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def worker_env(
    *, name: str, database_url: str, bot_api_url: str, webhook_url: str, port: int, **extra: str
) -> dict[str, str]:
    """The environment of one worker: production settings, local addresses."""
    return {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "DATABASE_URL": database_url,
        "SEEDS_DIR": str(SEEDS),
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_API_BASE_URL": bot_api_url,
        "ADMIN_IDS": str(ADMIN),
        "ALLOW_PRIVATE_SOURCES": "true",
        "WEBHOOK_URL": webhook_url,
        "WEBHOOK_LISTEN": "127.0.0.1",
        "WEBHOOK_PORT": str(port),
        "WEBHOOK_PATH": WEBHOOK_PATH,
        "WEBHOOK_SECRET_TOKEN": SECRET,
        "PARLEY_TEST_WORKER": name,
        **extra,
    }


def command(*args: str) -> list[str]:
    """`parley ARGS` as a process with the fake embedder."""
    return [sys.executable, "-m", "tests.support.webhook_workers", *args]


class Worker:
    """One `parley run --webhook` process, its output kept in a file."""

    def __init__(
        self, name: str, env: dict[str, str], folder: Path, *, real_model: bool = False
    ) -> None:
        self.name, self.port = name, int(env["WEBHOOK_PORT"])
        self.log = folder / f"worker-{name}.log"
        self._output: IO[bytes] = self.log.open("wb")
        argv = ["run", "--webhook"]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "parley.cli", *argv] if real_model else command(*argv),
            cwd=folder,
            env=env,
            stdout=self._output,
            stderr=subprocess.STDOUT,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def user_agent(self) -> str:
        return USER_AGENT + self.name

    def wait_until_listening(self) -> None:
        """Return once the worker accepts connections (it is then also registered)."""
        deadline = time.monotonic() + READY_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"worker {self.name} exited: {self.output()}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"worker {self.name} never listened: {self.output()}")

    def output(self) -> str:
        self._output.flush()
        return self.log.read_text(errors="replace")

    def kill(self) -> None:
        """SIGKILL: no clean-up of any kind."""
        self.process.kill()
        self.process.wait(timeout=READY_TIMEOUT)

    def stop(self) -> int:
        """SIGTERM, as an orchestrator stops a worker; its exit status."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=READY_TIMEOUT)
        finally:
            self._output.close()

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self._output.close()


def _fake_model(*_args: Any, **_kwargs: Any) -> Any:
    from tests.support.fake_embedder import FakeEmbedder

    return FakeEmbedder()


if __name__ == "__main__":
    from parley import services
    from parley.cli import main
    from web.fetching import Fetcher

    services.load_embedder = _fake_model  # type: ignore[attr-defined, assignment, unused-ignore]
    worker = os.environ.get("PARLEY_TEST_WORKER", "")
    services.Fetcher = functools.partial(Fetcher, user_agent=USER_AGENT + worker)  # type: ignore[attr-defined, assignment, unused-ignore]
    sys.exit(main())
