"""`parley run` as an operator starts it: a real process, stopped with SIGTERM."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from playground.bot_api import BotApiServer
from tests.conftest import PROJECT, SEEDS
from tests.support.bot_harness import TOKEN, USER

pytestmark = pytest.mark.model


def test_parley_run_answers_through_the_bot_api_and_stops_cleanly_on_sigterm(
    tmp_path: Path,
) -> None:
    with BotApiServer(token=TOKEN, bot_username="parley_bot") as server:
        env = {
            **os.environ,
            "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
            "SEEDS_DIR": str(SEEDS),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.url,
        }
        process = subprocess.Popen(
            [sys.executable, "-m", "parley.cli", "run"],
            cwd=tmp_path,
            env={**env, "PYTHONPATH": str(PROJECT)},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            server.send_user_message(chat_id=USER, text="Who leads the Russian delegation?")
            [reply] = server.wait_for_messages(USER, 1, timeout=90)
            process.send_signal(signal.SIGTERM)
            output, _ = process.communicate(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()

    assert "Medinsky" in reply["text"] and "Reuters" in reply["text"]
    assert process.returncode == 0, output
    assert "Stopping Parley" in output and "Traceback" not in output
    assert {"ask", "subscribe"} <= {command["command"] for command in server.commands}
