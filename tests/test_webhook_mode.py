"""`parley run --webhook`: a real process registered with the local Bot API server, which
delivers updates by POSTing them with the secret token; requests without it are refused."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from parley.cli import main
from playground.bot_api import BotApiServer
from playground.webhooks import SECRET_HEADER
from tests.support.bot_harness import TOKEN, USER
from tests.support.webhook_workers import SECRET, WEBHOOK_PATH, Worker, free_port, worker_env

REPLY_TIMEOUT = 120  # returns as soon as the reply comes


@pytest.fixture
def worker(tmp_path: Path, bot_api: BotApiServer) -> Iterator[Worker]:
    port = free_port()
    env = worker_env(
        name="solo",
        database_url=f"sqlite:///{tmp_path / 'parley.db'}",
        bot_api_url=bot_api.url,
        webhook_url=f"http://127.0.0.1:{port}{WEBHOOK_PATH}",
        port=port,
    )
    started = Worker("solo", env, tmp_path)
    try:
        started.wait_until_listening()
        yield started
    finally:
        started.close()


def post_update(url: str, update: dict[str, object], secret: str | None) -> int:
    """POST an update as Telegram would, with the given secret header (or none)."""
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, json.dumps(update).encode(), headers, method="POST")
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)


def test_a_webhook_worker_answers_updates_delivered_by_webhook(
    worker: Worker, bot_api: BotApiServer
) -> None:
    bot_api.send_user_message(chat_id=USER, text="Who leads the Russian delegation?")

    [reply] = bot_api.wait_for_messages(USER, 1, timeout=REPLY_TIMEOUT)

    assert "Medinsky" in reply["text"]
    assert bot_api.webhook is not None
    assert bot_api.webhook["url"] == f"{worker.url}{WEBHOOK_PATH}"
    assert bot_api.webhook["secret_token"] == SECRET
    assert [d.status for d in bot_api.webhook_deliveries] == [200]
    assert "getUpdates" not in bot_api.requests


@pytest.mark.parametrize("secret", [None, "wrong-secret-token-0123456789abcdef"])
def test_a_request_without_the_secret_token_is_refused_and_not_processed(
    worker: Worker, bot_api: BotApiServer, secret: str | None
) -> None:
    forged = {
        "update_id": 999,
        "message": {
            "message_id": 1,
            "date": 0,
            "chat": {"id": 4242, "type": "private"},
            "from": {"id": 4242, "is_bot": False, "first_name": "Mallory"},
            "text": "/start",
            "entities": [{"type": "bot_command", "offset": 0, "length": 6}],
        },
    }

    status = post_update(f"{worker.url}{WEBHOOK_PATH}", forged, secret)

    assert status == 403
    # A genuine update sent afterwards is answered; the forged one never was.
    bot_api.send_user_message(chat_id=USER, text="/start")
    bot_api.wait_for_messages(USER, 1, timeout=REPLY_TIMEOUT)
    assert not [m for m in bot_api.sent_messages if m["chat_id"] == 4242]


def test_webhook_mode_refuses_to_start_without_a_secret_token(
    settings: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_URL", "https://bot.example.org/telegram")
    monkeypatch.delenv("WEBHOOK_SECRET_TOKEN", raising=False)

    status = main(["run", "--webhook"])

    assert status == 1
    error = capsys.readouterr().err.strip()
    assert error.startswith("parley: WEBHOOK_SECRET_TOKEN is not set")
    assert error.count("\n") == 0


def test_webhook_mode_refuses_a_missing_public_url(
    settings: object, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TELEGRAM_BOT_TOKEN", TOKEN)
    monkeypatch.setenv("WEBHOOK_SECRET_TOKEN", SECRET)
    monkeypatch.delenv("WEBHOOK_URL", raising=False)

    assert main(["run", "--webhook"]) == 1
    assert "WEBHOOK_URL must be" in capsys.readouterr().err
