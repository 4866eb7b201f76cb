"""The playground without a browser: its users and settings, the page's JSON API, the command."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import pytest

from parley.playground import (
    DEFAULT_ADMIN_ID,
    LOCAL_TOKEN,
    chat_users,
    local_bot_settings,
    start_page,
)
from parley.settings import Settings, SettingsError
from playground.bot_api import BotApiServer
from playground.chat import ChatUser
from tests.support.web_server import unused_port

PROJECT = Path(__file__).resolve().parent.parent
ALICE, BOB, ADMIN = 101, 102, DEFAULT_ADMIN_ID
JSON = {"Content-Type": "application/json"}
EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//|fetch\(\s*["'`]https?:""")


@pytest.fixture
def server(settings: Settings) -> Iterator[BotApiServer]:
    """The local Bot API with the chat page, on a free port, and no bot polling it."""
    started, _users = start_page(settings, port=0)
    yield started
    started.stop()


@pytest.fixture
def page(server: BotApiServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


def bot_sends(server: BotApiServer, chat_id: int, text: str, **params: Any) -> dict[str, Any]:
    """What the bot would send through the Bot API; returns the sent message."""
    status, body = server.handle(
        LOCAL_TOKEN, "sendMessage", {"chat_id": chat_id, "text": text, **params}
    )
    assert status == 200, body
    result: dict[str, Any] = json.loads(body)["result"]
    return result


def bot_updates(server: BotApiServer) -> list[dict[str, Any]]:
    """What the bot would receive with getUpdates."""
    updates: list[dict[str, Any]] = json.loads(server.handle(LOCAL_TOKEN, "getUpdates", {})[1])[
        "result"
    ]
    return updates


# ------------------------------------------------------------------------------ users, settings
def test_users_are_alice_bob_and_a_default_admin_when_admin_ids_is_empty() -> None:
    assert chat_users(frozenset()) == [
        ChatUser(ALICE, "Alice"),
        ChatUser(BOB, "Bob"),
        ChatUser(DEFAULT_ADMIN_ID, "Admin", admin=True),
    ]


def test_the_admin_is_the_smallest_of_admin_ids_and_no_one_else_shares_an_id() -> None:
    users = chat_users(frozenset({101, 7, 5000}))

    assert [(user.id, user.admin) for user in users] == [(102, False), (103, False), (7, True)]


def test_only_the_bots_address_token_and_admins_change(settings: Settings) -> None:
    local = local_bot_settings(settings, "http://127.0.0.1:8080", chat_users(frozenset()))

    assert local.bot_token() == LOCAL_TOKEN
    assert local.bot_api_url() == "http://127.0.0.1:8080/bot"
    assert local.admin_ids == {DEFAULT_ADMIN_ID}
    assert local.allow_private_sources
    assert local.embedding_model == settings.embedding_model


def test_the_playground_has_its_own_archive_by_default(settings: Settings) -> None:
    local = local_bot_settings(settings, "http://127.0.0.1:8080", chat_users(frozenset()))

    assert local.database_url == "sqlite:///data/playground.db"
    assert local.database_url != settings.database_url


def test_playground_database_url_moves_the_playgrounds_archive(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PLAYGROUND_DATABASE_URL", f"sqlite:///{tmp_path / 'try.db'}")
    configured = Settings(_env_file=None)  # type: ignore[call-arg]

    local = local_bot_settings(configured, "http://127.0.0.1:8080", chat_users(frozenset()))

    assert local.database_url == f"sqlite:///{tmp_path / 'try.db'}"
    assert configured.database_url == settings.database_url


def test_configured_admins_are_kept(settings: Settings) -> None:
    configured = settings.model_copy(update={"admin_ids": frozenset({42, 7})})

    local = local_bot_settings(configured, "http://127.0.0.1:1", chat_users(configured.admin_ids))

    assert local.admin_ids == {42, 7}


def test_a_busy_port_is_one_clear_sentence(settings: Settings) -> None:
    with BotApiServer() as busy:
        port = int(busy.url.rsplit(":", 1)[1])
        with pytest.raises(SettingsError, match=f"127.0.0.1:{port}.*PLAYGROUND_PORT"):
            start_page(settings, port=port)


# ------------------------------------------------------------------------------ the page
def test_the_page_is_served_with_a_strict_content_security_policy(page: httpx.Client) -> None:
    response = page.get("/")

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert 'src="/static/app.js"' in response.text
    assert page.get("/static/app.js").headers["content-type"].startswith("text/javascript")
    assert page.get("/static/style.css").status_code == 200


def test_the_page_needs_nothing_from_the_internet() -> None:
    static = resources.files("playground").joinpath("static")
    for file in static.iterdir():
        text = file.read_text(encoding="utf-8")
        assert not EXTERNAL.search(text), f"{file.name} loads something from another site"
        assert "@import" not in text and "url(" not in text, file.name


@pytest.mark.parametrize(
    "path", ["/static/../bot_api.py", "/static/%2e%2e/runner.py", "/static/nothing.js", "/x"]
)
def test_only_the_pages_own_files_are_served(page: httpx.Client, path: str) -> None:
    assert page.get(path).status_code == 404


def test_users_lists_who_one_can_be_and_the_bot(page: httpx.Client) -> None:
    data = page.get("/playground/api/users").json()

    assert [user["name"] for user in data["users"]] == ["Alice", "Bob", "Admin"]
    assert data["users"][2] == {"id": ADMIN, "name": "Admin", "admin": True}
    assert data["bot"] == {"name": "Parley", "username": "parley_bot"}


def test_the_bot_api_is_on_the_same_port(page: httpx.Client) -> None:
    me = page.get(f"/bot{LOCAL_TOKEN}/getMe").json()

    assert me["ok"] and me["result"]["username"] == "parley_bot"


# ------------------------------------------------------------------------------ the API
def test_a_message_sent_from_the_page_reaches_the_bot_as_that_user(
    page: httpx.Client, server: BotApiServer
) -> None:
    response = page.post("/playground/api/send", json={"user": ALICE, "text": "/start"})

    assert response.status_code == 200
    [update] = bot_updates(server)
    assert update["update_id"] == response.json()["update_id"]
    message = update["message"]
    assert message["from"]["id"] == ALICE and message["from"]["first_name"] == "Alice"
    assert message["chat"] == {"id": ALICE, "type": "private", "first_name": "Alice"}
    assert message["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]


def test_bot_replies_reach_the_page_as_text_and_entities_never_html(
    page: httpx.Client, server: BotApiServer
) -> None:
    page.post("/playground/api/send", json={"user": ALICE, "text": "hi"})
    bot_sends(server, ALICE, "<b>Hello</b> &lt;script&gt;", parse_mode="HTML")
    bot_sends(server, BOB, "for Bob only")

    data = page.get("/playground/api/messages", params={"since": 0, "user": ALICE}).json()

    assert [(m["from_bot"], m["text"]) for m in data["messages"]] == [
        (False, "hi"),
        (True, "Hello <script>"),
    ]
    assert data["messages"][1]["entities"] == [{"type": "bold", "offset": 0, "length": 5}]
    assert data["revision"] == 3


def test_messages_since_a_revision_are_only_the_new_and_the_edited(
    page: httpx.Client, server: BotApiServer
) -> None:
    first = bot_sends(server, ALICE, "Working on it")
    seen = page.get("/playground/api/messages", params={"since": 0}).json()["revision"]
    bot_sends(server, BOB, "Hello Bob")
    server.handle(
        LOCAL_TOKEN,
        "editMessageText",
        {"chat_id": ALICE, "message_id": first["message_id"], "text": "Done"},
    )

    data = page.get("/playground/api/messages", params={"since": seen}).json()

    assert [(m["chat_id"], m["text"], m["edited"]) for m in data["messages"]] == [
        (BOB, "Hello Bob", False),
        (ALICE, "Done", True),
    ]


def test_a_waiting_request_returns_as_soon_as_the_bot_answers(
    page: httpx.Client, server: BotApiServer
) -> None:
    # The bot answers after the request is made: only a request that waits gets the answer.
    threading.Timer(0.3, bot_sends, args=(server, BOB, "Here you are")).start()

    data = page.get("/playground/api/messages", params={"since": 0, "wait": 30}).json()

    assert [m["text"] for m in data["messages"]] == ["Here you are"]


def test_a_page_from_an_earlier_run_gets_everything_again(
    page: httpx.Client, server: BotApiServer
) -> None:
    bot_sends(server, ALICE, "Welcome")

    data = page.get("/playground/api/messages", params={"since": 999}).json()

    assert [m["text"] for m in data["messages"]] == ["Welcome"] and data["revision"] == 1
    assert data["run"] == page.get("/playground/api/messages").json()["run"]


def test_inline_buttons_are_pressed_as_telegram_would_press_them(
    page: httpx.Client, server: BotApiServer
) -> None:
    keyboard = {
        "inline_keyboard": [
            [{"text": "More", "callback_data": "more"}, {"text": "Site", "url": "https://x.org"}],
            [{"text": "Bad", "url": "javascript:alert(1)"}],
        ]
    }
    sent = bot_sends(server, ALICE, "Pick one", reply_markup=json.dumps(keyboard))
    [shown] = page.get("/playground/api/messages").json()["messages"]
    press = {"user": ALICE, "message_id": sent["message_id"]}

    pressed = page.post("/playground/api/press", json={**press, "data": "more"})
    forged = page.post("/playground/api/press", json={**press, "data": "admin"})
    elsewhere = page.post("/playground/api/press", json={**press, "user": BOB, "data": "more"})

    assert shown["buttons"] == [
        [{"text": "More", "data": "more"}, {"text": "Site", "url": "https://x.org"}],
        [{"text": "Bad"}],
    ]
    assert pressed.status_code == 200
    [update] = bot_updates(server)
    query = update["callback_query"]
    assert query["data"] == "more" and query["from"]["id"] == ALICE
    assert query["message"]["message_id"] == sent["message_id"]
    assert forged.status_code == 400 and elsewhere.status_code == 404


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({"user": 999, "text": "hi"}, 400, "Pick one of the playground's users."),
        ({"user": "101", "text": "hi"}, 400, "Pick one of the playground's users."),
        ({"user": ALICE, "text": "   "}, 400, "Write a message first."),
        ({"user": ALICE, "text": "x" * 4097}, 400, "A message holds at most 4096 characters."),
    ],
)
def test_bad_messages_are_refused_with_a_reason(
    page: httpx.Client, server: BotApiServer, body: dict[str, Any], status: int, error: str
) -> None:
    response = page.post("/playground/api/send", json=body)

    assert (response.status_code, response.json()) == (status, {"error": error})
    assert bot_updates(server) == []


def test_other_sites_cannot_post_or_read(page: httpx.Client, server: BotApiServer) -> None:
    hi = json.dumps({"user": ALICE, "text": "hi"})
    as_form = page.post("/playground/api/send", content=hi, headers={"Content-Type": "text/plain"})
    cross_site = page.post(
        "/playground/api/send", content=hi, headers={**JSON, "Origin": "https://evil.example"}
    )
    rebound = page.get("/playground/api/messages", headers={"Host": "evil.example"})
    wrong_method = page.get("/playground/api/send")

    assert as_form.status_code == 415
    assert cross_site.status_code == 403 and rebound.status_code == 403
    assert wrong_method.status_code == 405
    assert bot_updates(server) == []


# ------------------------------------------------------------------------------ the command
@pytest.mark.model
def test_parley_playground_answers_from_the_page_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = unused_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'parley.db'}",
        "SEEDS_DIR": str(PROJECT / "seeds"),
        "PLAYGROUND_PORT": str(port),
        "TELEGRAM_BOT_TOKEN": "",
        "ADMIN_IDS": "",
    }
    command = [sys.executable, "-m", "parley.cli", "playground"]
    process = subprocess.Popen(
        command, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert first_line == f"Parley playground: http://127.0.0.1:{port}/\n"
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            question = {"user": ALICE, "text": "Who leads the Russian delegation?"}
            client.post("/playground/api/send", json=question).raise_for_status()
            answer = _bot_reply(client, ALICE, timeout=120)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
        process.wait()

    assert "Medinsky" in answer
    assert process.returncode == 0, stderr
    assert "Stopping Parley" in stderr
    # Its archive is its own (data/playground.db by default), never the operator's.
    assert (tmp_path / "data" / "playground.db").is_file()
    assert not (tmp_path / "parley.db").exists()


def _bot_reply(client: httpx.Client, user: int, timeout: float) -> str:
    deadline, since = time.monotonic() + timeout, 0
    while time.monotonic() < deadline:
        data = client.get("/playground/api/messages", params={"since": since, "wait": 5}).json()
        since = data["revision"]
        for message in data["messages"]:
            if message["chat_id"] == user and message["from_bot"]:
                return str(message["text"])
    raise AssertionError("the bot did not answer in time")
