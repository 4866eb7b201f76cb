"""The local Bot API server's webhooks, through PTB's own client: setWebhook, getWebhookInfo,
deliveries POSTed with the secret token, retried until answered, and getUpdates refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from telegram import Bot
from telegram.error import Conflict

from playground.bot_api import BotApiServer
from playground.load_balancer import LoadBalancer
from tests.test_bot_api_server import eventually, make_bot

SECRET = "s3cret-token_0123456789abcdef0123"


class Receiver:
    """A webhook endpoint that records what it receives and answers a chosen status."""

    def __init__(self) -> None:
        self.received: list[tuple[dict[str, Any], str | None]] = []
        self.status = 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                secret = self.headers.get("X-Telegram-Bot-Api-Secret-Token")
                receiver.received.append((json.loads(body), secret))
                self.send_response(receiver.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/hook"

    def texts(self) -> list[str]:
        return [update["message"]["text"] for update, _ in self.received]


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(token="123:ABC") as running:
        yield running


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    started = Receiver()
    yield started
    started.httpd.shutdown()
    started.httpd.server_close()


async def test_updates_are_posted_to_the_webhook_with_the_secret_token(
    server: BotApiServer, receiver: Receiver
) -> None:
    async with make_bot(server) as bot:
        await bot.set_webhook(receiver.url, secret_token=SECRET)
        server.send_user_message(chat_id=7, text="first")
        server.send_user_message(chat_id=7, text="second")
        await eventually(lambda: len(receiver.received) == 2)
        info = await bot.get_webhook_info()

    assert receiver.texts() == ["first", "second"]
    assert {secret for _, secret in receiver.received} == {SECRET}
    assert info.url == receiver.url and info.pending_update_count == 0


async def test_a_refused_delivery_is_retried_and_reported(
    server: BotApiServer, receiver: Receiver
) -> None:
    receiver.status = 403
    async with make_bot(server) as bot:
        await bot.set_webhook(receiver.url, secret_token=SECRET)
        server.send_user_message(chat_id=7, text="again")
        await eventually(lambda: len(receiver.received) >= 2)
        info = await bot.get_webhook_info()
        receiver.status = 200
        await eventually(lambda: server.webhook_deliveries[-1].status == 200)

    assert info.pending_update_count == 1
    assert info.last_error_message == "Wrong response from the webhook: 403"
    assert set(receiver.texts()) == {"again"}


async def test_get_updates_is_refused_while_a_webhook_is_set(
    server: BotApiServer, receiver: Receiver
) -> None:
    async with make_bot(server) as bot:
        await bot.set_webhook(receiver.url)
        with pytest.raises(Conflict, match="webhook is active"):
            await bot.get_updates()
        await bot.delete_webhook()
        server.send_user_message(chat_id=7, text="polled")
        [update] = await bot.get_updates(timeout=5)

    assert update.message is not None and update.message.text == "polled"
    assert receiver.received == []


async def test_a_malformed_secret_token_is_refused(server: BotApiServer) -> None:
    async with Bot("123:ABC", base_url=f"{server.url}/bot") as bot:
        with pytest.raises(Exception, match="unallowed characters"):
            await bot.set_webhook("http://127.0.0.1:1/hook", secret_token="no spaces!")


async def test_the_load_balancer_takes_turns_and_skips_a_worker_that_is_down(
    server: BotApiServer, receiver: Receiver
) -> None:
    dead = "http://127.0.0.1:1"
    alive = receiver.url.removesuffix("/hook")
    with LoadBalancer([alive, dead, alive]) as balancer:
        async with make_bot(server) as bot:
            await bot.set_webhook(f"{balancer.url}/hook", secret_token=SECRET)
            for number in range(4):
                server.send_user_message(chat_id=7, text=f"m{number}")
            await eventually(lambda: len(receiver.received) == 4)

    assert receiver.texts() == ["m0", "m1", "m2", "m3"]
    assert {secret for _, secret in receiver.received} == {SECRET}
    assert balancer.answered == {alive: 4}
