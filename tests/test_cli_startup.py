"""`parley --help` and the commands that need no model start without loading it: what they
import, checked in a fresh process (how long it takes is measured by `make bench`)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT

MODEL_STACK = {"torch", "sentence_transformers", "transformers", "sklearn"}
# Generous: a guard against a hang on a busy machine, never a measure of speed.
PROCESS_TIMEOUT = 180
# Runs the command as `parley` does, then reports which top-level packages it loaded.
PROBE = """
import json, sys
from parley.cli import main
try:
    status = main(sys.argv[1:])
except SystemExit as exit:
    status = exit.code
print(json.dumps({"status": status, "loaded": sorted({m.split(".")[0] for m in sys.modules})}))
"""


def loaded_by(tmp_path: Path, *args: str) -> tuple[int, set[str]]:
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(PROJECT),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        },
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=True,
    )
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    return report["status"], set(report["loaded"])


def test_help_loads_neither_the_model_nor_telegram_nor_the_database(tmp_path: Path) -> None:
    status, loaded = loaded_by(tmp_path, "--help")

    assert status == 0
    assert not loaded & (MODEL_STACK | {"telegram", "sqlalchemy", "numpy", "knowledge"})


@pytest.mark.parametrize("command", [["db", "upgrade"], ["sources", "list"]])
def test_commands_on_the_archive_alone_load_no_model(tmp_path: Path, command: list[str]) -> None:
    status, loaded = loaded_by(tmp_path, *command)

    assert status == 0
    assert not loaded & (MODEL_STACK | {"telegram", "trafilatura"})


def test_removing_a_source_that_is_not_there_loads_no_model(
    tmp_path: Path,
) -> None:
    status, loaded = loaded_by(tmp_path, "sources", "remove", "#7")

    assert status == 1
    assert not loaded & MODEL_STACK
