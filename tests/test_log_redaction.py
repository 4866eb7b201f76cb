"""The bot token and database passwords never reach the logs, even at DEBUG level."""

from __future__ import annotations

import io
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from telegram import Bot
from telegram.error import InvalidToken

from parley.logs import REDACTED, Redactor, redact_logs, secrets_in
from parley.settings import Settings
from playground.bot_api import BotApiServer
from tests.conftest import PROJECT, SEEDS

TOKEN = "987654321:AAH-secret-part-of-the-token_0123456789"
DB_PASSWORD = "s3cr3t-pa$$word"


@pytest.fixture
def debug_log(monkeypatch: pytest.MonkeyPatch) -> Iterator[io.StringIO]:
    """Everything logged at DEBUG through a root handler that `redact_logs` will filter."""
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # redact_logs replaces it
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


@pytest.mark.model  # `parley run` loads the real model before it meets the Bot API
def test_parley_run_at_debug_level_never_prints_the_token(tmp_path: Path) -> None:
    # The server knows another token, so PTB logs its URLs at DEBUG and then raises
    # InvalidToken quoting ours: both places the token used to show up.
    with BotApiServer(token="111:another-token-the-server-accepts") as server:
        env = {
            **os.environ,
            "PYTHONPATH": str(PROJECT),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
            "SEEDS_DIR": str(SEEDS),
            "TELEGRAM_BOT_TOKEN": TOKEN,
            "TELEGRAM_API_BASE_URL": server.url,
            "LOG_LEVEL": "DEBUG",
        }
        finished = subprocess.run(
            [sys.executable, "-m", "parley.cli", "run"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )

    output = finished.stdout + finished.stderr
    assert finished.returncode != 0
    assert "Set Bot API URL" in output  # the DEBUG lines that carried the token were written
    assert TOKEN not in output
    assert TOKEN.split(":", 1)[1] not in output
    assert REDACTED in output


async def test_third_party_debug_lines_and_errors_are_redacted(
    debug_log: io.StringIO, bot_api: BotApiServer
) -> None:
    redact_logs([TOKEN])
    bot = Bot(TOKEN, base_url=f"{bot_api.url}/bot")  # logs its URLs at DEBUG

    with pytest.raises(InvalidToken) as rejected:
        await bot.initialize()
    logging.getLogger("parley").error("could not start", exc_info=rejected.value)

    text = debug_log.getvalue()
    assert "Set Bot API URL" in text and "was rejected by the server" in text
    assert TOKEN not in text
    assert f"/bot{REDACTED}" in text


def test_database_password_is_redacted_in_messages_and_arguments(debug_log: io.StringIO) -> None:
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, database_url=f"postgresql://parley:{DB_PASSWORD}@db.internal/parley"
    )
    redact_logs(secrets_in(settings))

    logging.getLogger("sqlalchemy.engine").warning("connecting with %s", DB_PASSWORD)
    logging.getLogger("parley").info("database: %s", settings.database_url)

    text = debug_log.getvalue()
    assert DB_PASSWORD not in text
    assert "postgresql://parley:[redacted]@db.internal/parley" in text
    assert f"connecting with {REDACTED}" in text


def test_any_bot_token_in_a_url_and_any_url_password_are_redacted() -> None:
    redactor = Redactor()  # knows no secret: the shapes alone give them away

    line = redactor.redact(
        "POST https://api.telegram.org/bot42:other-bots-token/getMe; "
        "GET https://api.telegram.org/file/bot42:other-bots-token/photo.jpg; "
        "mysql://me:hunter2@localhost/db"
    )

    assert line == (
        "POST https://api.telegram.org/bot[redacted]/getMe; "
        "GET https://api.telegram.org/file/bot[redacted]/photo.jpg; "
        "mysql://me:[redacted]@localhost/db"
    )


def test_uncaught_error_carrying_the_token_is_printed_redacted(
    debug_log: io.StringIO, capsys: pytest.CaptureFixture[str]
) -> None:
    redact_logs([TOKEN])

    try:
        raise InvalidToken(f"The token `{TOKEN}` was rejected by the server.")
    except InvalidToken as error:
        sys.excepthook(type(error), error, error.__traceback__)

    printed = capsys.readouterr().err
    assert "was rejected by the server" in printed
    assert TOKEN not in printed


def test_short_secrets_do_not_blank_out_ordinary_words() -> None:
    assert Redactor(["ab"]).redact("a table about abc") == "a table about abc"
