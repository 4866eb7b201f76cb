"""The chat page and its small JSON API, served beside the local Bot API.

    GET  /                                   the page (files in playground/static/)
    GET  /playground/api/users               who one can be, and the bot
    GET  /playground/api/messages?since=N    messages new or edited after revision N (and
                                             the run they belong to); &wait=S waits up to S
                                             seconds for one; &user=ID keeps one chat
    POST /playground/api/send                {"user": ID, "text": "..."}: the user writes
    POST /playground/api/press               {"user": ID, "message_id": M, "data": "..."}:
                                             presses a button; returns the bot's toast

A user's private chat with the bot has the user's id, as on Telegram.
"""

from __future__ import annotations

import json
import re
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

from playground.bot_api import WILDCARD_HOSTS, BotApiServer
from playground.http_server import Request, Response
from playground.protocol import MAX_MESSAGE_LENGTH, JSONDict

MAX_WAIT_SECONDS = 25  # long polls end well before browsers or proxies give up on them
ANSWER_WAIT_SECONDS = 5  # how long a button press waits for the bot's toast
LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "::1"})
STATIC_FILE = re.compile(r"[a-z0-9-]+\.(html|css|js|svg)")
CONTENT_TYPES = {
    "html": "text/html; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "svg": "image/svg+xml",
}
# The page runs only its own script and talks only to this server, whatever a message holds.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
        "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class ChatUser:
    """Someone the person at the page can be."""

    id: int
    name: str
    admin: bool = False

    def as_json(self) -> JSONDict:
        """The user as the page sees it."""
        return {"id": self.id, "name": self.name, "admin": self.admin}


class PageError(Exception):
    """A request the page API refuses; the message is shown to the person."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ChatPage:
    """Serves the page and its API, acting as ``users`` on ``server``."""

    def __init__(self, server: BotApiServer, users: Sequence[ChatUser]) -> None:
        self.server = server
        self.users = {user.id: user for user in users}
        self.run_id = secrets.token_hex(8)  # tells the page when it talks to a new server
        self._routes: dict[tuple[str, str], Callable[[Request], JSONDict]] = {
            ("GET", "/playground/api/users"): self._list_users,
            ("GET", "/playground/api/messages"): self._messages,
            ("POST", "/playground/api/send"): self._send,
            ("POST", "/playground/api/press"): self._press,
        }

    def serve(self, request: Request) -> Response:
        """Answer one request for the page or its API."""
        try:
            self._check_origin(request)
            if request.method == "GET" and not request.path.startswith("/playground/"):
                return _static(request.path)
            route = self._routes.get((request.method, request.path))
            if route is None:
                known = any(path == request.path for _, path in self._routes)
                raise PageError(405 if known else 404, "There is nothing to do here.")
            return _json(200, route(request))
        except PageError as error:
            return _json(error.status, {"error": str(error)})

    # -- API ------------------------------------------------------------------------------
    def _list_users(self, _request: Request) -> JSONDict:
        users = [user.as_json() for user in self.users.values()]
        bot = self.server.bot_user
        return {"users": users, "bot": {"name": bot["first_name"], "username": bot["username"]}}

    def _messages(self, request: Request) -> JSONDict:
        since = _number(request.query.get("since", "0"), "since")
        wait = min(max(_number(request.query.get("wait", "0"), "wait"), 0), MAX_WAIT_SECONDS)
        chats = set(self.users)
        if "user" in request.query:
            chats = {self._user(_number(request.query["user"], "user")).id}
        revision, messages = self.server.changes(since, timeout=wait)
        views = [_view(message) for message in messages if message["chat"]["id"] in chats]
        return {"run": self.run_id, "revision": revision, "messages": views}

    def _send(self, request: Request) -> JSONDict:
        body = _json_body(request)
        user = self._user(body.get("user"))
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise PageError(400, "Write a message first.")
        if len(text) > MAX_MESSAGE_LENGTH:
            raise PageError(400, f"A message holds at most {MAX_MESSAGE_LENGTH} characters.")
        update_id = self.server.send_user_message(
            chat_id=user.id, user_id=user.id, text=text, first_name=user.name
        )
        return {"update_id": update_id}

    def _press(self, request: Request) -> JSONDict:
        body = _json_body(request)
        user = self._user(body.get("user"))
        message_id, data = body.get("message_id"), body.get("data")
        message = self.server.message(user.id, message_id) if isinstance(message_id, int) else None
        if message is None:
            raise PageError(404, "That message is not in this chat.")
        if data not in _callback_data(message):
            raise PageError(400, "That message has no such button.")
        answered = len(self.server.callback_answers)
        update_id = self.server.press_button(
            user.id, user.id, message["message_id"], str(data), first_name=user.name
        )
        return {"update_id": update_id, "answer": self._answer_after(answered)}

    def _answer_after(self, answered: int) -> str | None:
        """The bot's answer to the button just pressed (its toast), when it comes in time.
        The page has one person at it, so the next answer given is the answer to them."""
        deadline = time.monotonic() + ANSWER_WAIT_SECONDS
        while time.monotonic() < deadline:
            answers = self.server.callback_answers
            if len(answers) > answered:
                return str(answers[answered].get("text") or "") or None
            time.sleep(0.05)
        return None

    # -- checks ---------------------------------------------------------------------------
    def _user(self, value: Any) -> ChatUser:
        if not isinstance(value, int) or value not in self.users:
            raise PageError(400, "Pick one of the playground's users.")
        return self.users[value]

    def _check_origin(self, request: Request) -> None:
        """Refuse other sites' pages (CSRF) and other host names (DNS rebinding)."""
        if self.server.host in WILDCARD_HOSTS:  # the operator chose to listen everywhere
            return
        allowed = LOOPBACK_NAMES | {self.server.host}
        host = urlsplit(f"//{request.headers.get('host', '')}").hostname
        origin = request.headers.get("origin")
        if host not in allowed or (origin and urlsplit(origin).hostname not in allowed):
            raise PageError(403, "The playground answers only pages it served itself.")


def _view(message: JSONDict) -> JSONDict:
    """A message as the page renders it: plain text and Telegram's entities, never HTML."""
    return {
        "chat_id": message["chat"]["id"],
        "message_id": message["message_id"],
        "from_bot": bool(message["from"].get("is_bot")),
        "text": message.get("text", ""),
        "entities": message.get("entities", []),
        "buttons": _buttons(message.get("reply_markup")),
        "date": message["date"],
        "edited": "edit_date" in message,
    }


def _buttons(markup: Any) -> list[list[JSONDict]]:
    """Inline keyboard rows; a button keeps its callback data or an http(s) link, if any."""
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [[_button(button) for button in row if isinstance(button, dict)] for row in rows]


def _button(button: JSONDict) -> JSONDict:
    view: JSONDict = {"text": str(button.get("text", ""))}
    if isinstance(button.get("callback_data"), str):
        view["data"] = button["callback_data"]
    elif str(button.get("url", "")).startswith(("http://", "https://")):
        view["url"] = button["url"]
    return view


def _callback_data(message: JSONDict) -> set[str]:
    return {b["data"] for row in _buttons(message.get("reply_markup")) for b in row if "data" in b}


def _number(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        raise PageError(400, f"{name} must be a whole number.") from None


def _json_body(request: Request) -> JSONDict:
    # Requiring JSON also makes browsers ask before another site's page may post here.
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/json":
        raise PageError(415, "Send JSON.")
    try:
        body = json.loads(request.body or b"{}")
    except ValueError:
        raise PageError(400, "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise PageError(400, "The request body must be a JSON object.")
    return body


def _static(path: str) -> Response:
    name = "index.html" if path == "/" else path.removeprefix("/static/")
    if not STATIC_FILE.fullmatch(name) or (path != "/" and not path.startswith("/static/")):
        raise PageError(404, "There is no such page.")
    file = resources.files("playground").joinpath("static", name)
    if not file.is_file():
        raise PageError(404, "There is no such page.")
    content_type = CONTENT_TYPES[name.rsplit(".", 1)[1]]
    return Response(200, file.read_bytes(), content_type, SECURITY_HEADERS)


def _json(status: int, payload: JSONDict) -> Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    return Response(status, body, "application/json; charset=utf-8", SECURITY_HEADERS)
