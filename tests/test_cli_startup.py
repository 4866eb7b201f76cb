"""`parley --help` and the commands that need no model start without loading it: what they
import, checked in a fresh process (how long it takes is measured by `make bench`); and the
cyclic collector, paused for the start-up imports, handed back to a caller that lives on."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from parley.cli import main
from parley.settings import Settings
from tests.conftest import PROJECT, SEEDS

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
print(json.dumps({"status": status, "loaded": sorted(sys.modules)}))
"""
# What the commands on a SQLite archive at the head leave out: besides the model and Telegram,
# the web stack, the vector engine, Alembic, and SQLAlchemy itself (SQLite's own driver runs
# their one statement).
NOT_FOR_THE_ARCHIVE_ALONE = MODEL_STACK | {
    "telegram",
    "trafilatura",
    "httpx",
    "faiss",
    "numpy",
    "knowledge",
    "web",
    "alembic",
    "sqlalchemy",
    "storage.models",
}


def loaded_by(
    tmp_path: Path, *args: str, env: dict[str, str] | None = None
) -> tuple[int, set[str]]:
    """The command's exit status, and every module it loaded: packages and their modules."""
    finished = subprocess.run(
        [sys.executable, "-c", PROBE, *args],
        cwd=tmp_path,
        env={
            **os.environ,
            "PYTHONPATH": str(PROJECT),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
            **(env or {}),
        },
        capture_output=True,
        text=True,
        timeout=PROCESS_TIMEOUT,
        check=True,
    )
    report = json.loads(finished.stdout.strip().splitlines()[-1])
    modules = set(report["loaded"])
    return report["status"], modules | {module.split(".")[0] for module in modules}


def test_help_loads_neither_the_model_nor_telegram_nor_the_database(tmp_path: Path) -> None:
    status, loaded = loaded_by(tmp_path, "--help")

    assert status == 0
    assert not loaded & (MODEL_STACK | {"telegram", "sqlalchemy", "numpy", "knowledge"})


@pytest.mark.parametrize("command", [["db", "upgrade"], ["sources", "list"]])
def test_commands_on_the_archive_alone_load_neither_the_model_nor_sqlalchemy(
    tmp_path: Path, command: list[str]
) -> None:
    loaded_by(tmp_path, "db", "upgrade")  # the first run migrates (with Alembic, SQLAlchemy)

    status, loaded = loaded_by(tmp_path, *command)

    assert status == 0
    assert sorted(loaded & NOT_FOR_THE_ARCHIVE_ALONE) == []


def test_removing_a_source_that_is_not_there_loads_neither_the_model_nor_sqlalchemy(
    tmp_path: Path,
) -> None:
    loaded_by(tmp_path, "db", "upgrade")

    status, loaded = loaded_by(tmp_path, "sources", "remove", "#7")

    assert status == 1
    assert sorted(loaded & NOT_FOR_THE_ARCHIVE_ALONE) == []


@pytest.mark.model
def test_answering_loads_no_page_parser_only_reading_a_page_does(tmp_path: Path) -> None:
    """The bot's start and its answers do without the HTML stack (nor, on SQLite, PostgreSQL's
    driver); ingesting a page loads it."""
    not_for_answers = {"trafilatura", "htmldate", "lxml", "psycopg"}
    env = {"SEEDS_DIR": str(SEEDS)}  # the seed is a text file: no page to read

    status, loaded = loaded_by(tmp_path, "ask", "Who leads the Russian delegation?", env=env)

    assert status == 0
    assert "sentence_transformers" in loaded  # it did answer, with the model
    assert sorted(loaded & not_for_answers) == []
    page = tmp_path / "page.html"
    page.write_text(
        "<html><head><title>Talks resume</title></head><body><article><p>"
        + "The delegations met again in Istanbul on Monday to resume the talks. " * 5
        + "</p></article></body></html>"
    )
    status, loaded = loaded_by(tmp_path, "ingest", str(page), env=env)
    assert status == 0
    assert {"trafilatura", "htmldate"} <= loaded


def test_running_the_bot_without_a_token_fails_before_loading_telegram_or_the_model(
    tmp_path: Path,
) -> None:
    status, loaded = loaded_by(tmp_path, "run", env={"TELEGRAM_BOT_TOKEN": ""})

    assert status == 1
    assert sorted(loaded & (MODEL_STACK | {"telegram", "faiss", "knowledge", "bot.app"})) == []


def test_a_caller_that_lives_on_gets_the_collector_back_with_nothing_frozen(
    settings: Settings,
) -> None:
    assert main(["db", "upgrade"]) == 0

    assert gc.isenabled()
    assert gc.get_freeze_count() == 0
