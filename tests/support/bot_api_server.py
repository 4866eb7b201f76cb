"""A local fake of the Telegram Bot API that speaks the real HTTP protocol.

Point python-telegram-bot at it with ``ApplicationBuilder().base_url(f"{server.url}/bot")``;
PTB then calls ``{server.url}/bot<TOKEN>/<method>`` exactly as it would call Telegram::

    with BotApiServer(token="123:ABC", bot_username="parley_bot") as server:
        server.send_user_message(chat_id=42, text="/start")  # a user writes to the bot
        replies = server.wait_for_messages(chat_id=42, count=1)  # what the bot answered

Each request is served on its own thread, so a long-polling ``getUpdates`` stays open while
``sendMessage`` calls arrive. All state sits behind one condition variable: the recordings and
the simulation helpers are safe to use from any thread. Bot API methods are the ``_api_*``
methods (``_api_send_message`` serves ``sendMessage``); errors use Telegram's exact wording.
"""

from __future__ import annotations

import asyncio
import copy
import itertools
import json
import re
import threading
import time
from collections import defaultdict, deque
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from tests.support.bot_api_protocol import (
    MAX_MESSAGE_LENGTH,
    ApiError,
    JSONDict,
    MessagesTimeout,
    int_param,
    json_param,
    parse_body,
    parse_html,
    truthy,
    user_entities,
)

__all__ = ["ApiError", "BotApiServer", "MessagesTimeout", "parse_body", "parse_html"]

RATE_LIMITED_METHODS = frozenset({"sendMessage", "editMessageText"})


# ------------------------------------------------------------------------------ the server
class BotApiServer:
    """Fake Bot API: records what the bot does and lets tests act as its users."""

    def __init__(
        self, token: str = "123:ABC", bot_username: str = "parley_bot", bot_name: str = "Parley"
    ) -> None:
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSONDict = {
            "id": int(bot_id) if bot_id.isdigit() else 1,
            "is_bot": True,
            "first_name": bot_name,
            "username": bot_username,
        }
        self._methods = {
            re.sub(r"_([a-z])", lambda m: m[1].upper(), name.removeprefix("_api_")): name
            for name in dir(self)
            if name.startswith("_api_")
        }
        self._canonical = {method.lower(): method for method in self._methods}
        self._cond = threading.Condition()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._update_ids, self._callback_ids = itertools.count(1), itertools.count(1)
        self._message_ids: defaultdict[int, Iterator[int]] = defaultdict(lambda: itertools.count(1))
        self._updates: list[JSONDict] = []
        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._sent: list[JSONDict] = []
        self._edits: list[JSONDict] = []
        self._actions: list[JSONDict] = []
        self._answers: list[JSONDict] = []
        self._requests: list[str] = []
        self._commands: dict[tuple[str, str], list[JSONDict]] = {}
        self._webhook: JSONDict | None = None
        self._blocked: set[int] = set()
        self._forced_429: defaultdict[str, deque[int]] = defaultdict(deque)
        self._forced_failures: defaultdict[str, deque[int]] = defaultdict(deque)
        self._limits: tuple[int | None, int | None] = (None, None)
        self._windows: defaultdict[int | None, deque[float]] = defaultdict(deque)  # None: all
        self._too_many = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> BotApiServer:
        """Bind 127.0.0.1 on a free port and serve from a background thread."""
        if self._httpd is not None:
            raise RuntimeError("BotApiServer is already running")
        self._stopping = False
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.api = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, args=(0.05,), name="BotApiServer", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; pending long polls return at once. Safe to call twice."""
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        httpd.shutdown()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join()

    def __enter__(self) -> BotApiServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; PTB's base_url is ``f"{url}/bot"``."""
        if self._httpd is None:
            raise RuntimeError("BotApiServer is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- recordings (deep copies, safe from any thread) -----------------------------------
    def _copy(self, value: Any) -> Any:
        with self._cond:
            return copy.deepcopy(value)

    sent_messages = property(lambda self: self._copy(self._sent), doc="sendMessage records")
    edited_messages = property(lambda self: self._copy(self._edits), doc="editMessageText")
    chat_actions = property(lambda self: self._copy(self._actions), doc="chat_id and action")
    callback_answers = property(lambda self: self._copy(self._answers), doc="answers given")
    requests = property(lambda self: self._copy(self._requests), doc="method names in order")
    webhook = property(lambda self: self._copy(self._webhook), doc="last setWebhook params")
    too_many_requests = property(lambda self: self._too_many, doc="number of 429 replies")

    @property
    def commands(self) -> list[JSONDict]:
        """The commands set for the default scope and no language."""
        return self.commands_for()

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[JSONDict]:
        """Commands for a scope key like ``"all_private_chats"`` or ``"chat:42"``."""
        return list(self._copy(self._commands.get((scope, language_code), [])))

    # -- acting as users ------------------------------------------------------------------
    def send_user_message(
        self,
        *,
        chat_id: int,
        text: str,
        user_id: int | None = None,
        chat_type: str = "private",
        reply_to_bot_message_id: int | None = None,
        first_name: str = "Test",
        username: str | None = None,
        chat_title: str = "Test group",
    ) -> int:
        """Queue a user's text message (with command/mention entities); return its update_id."""
        user = _user(chat_id if user_id is None else user_id, first_name, username)
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat.update((k, v) for k, v in user.items() if k in ("first_name", "username"))
        else:
            chat["title"] = chat_title
        with self._cond:
            self._chats[chat_id] = chat
            reply_to = None
            if reply_to_bot_message_id is not None:
                reply_to = self._message(chat_id, reply_to_bot_message_id)
            message = self._new_message(chat_id, user, text, user_entities(text), reply_to)
            return self._queue_update({"message": message})

    def press_button(
        self, chat_id: int, user_id: int, message_id: int, data: str, first_name: str = "Test"
    ) -> int:
        """Queue a callback_query for an inline button of a recorded message; return update_id."""
        with self._cond:
            message = copy.deepcopy(self._message(chat_id, message_id))
            query = {"id": str(next(self._callback_ids)), "from": _user(user_id, first_name)}
            query.update(message=message, chat_instance=str(chat_id), data=data)
            return self._queue_update({"callback_query": query})

    def wait_for_messages(
        self, chat_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[JSONDict]:
        """Block until ``chat_id`` got at least ``count`` messages; return all of them."""
        with self._cond:
            if self._cond.wait_for(lambda: len(self._sent_to(chat_id)) >= count, timeout):
                return copy.deepcopy(self._sent_to(chat_id))
            raise MessagesTimeout(self._timeout_report(chat_id, count, timeout))

    async def await_messages(
        self, chat_id: int, count: int = 1, timeout: float = 10.0
    ) -> list[JSONDict]:
        """:meth:`wait_for_messages` for coroutines: polls without blocking the event loop."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if len(self._sent_to(chat_id)) >= count:
                    return copy.deepcopy(self._sent_to(chat_id))
                if time.monotonic() >= deadline:
                    raise MessagesTimeout(self._timeout_report(chat_id, count, timeout))
            await asyncio.sleep(0.01)

    # -- failure injection ----------------------------------------------------------------
    def block_chat(self, chat_id: int) -> None:
        """sendMessage/sendChatAction to this chat now fail: 403 bot was blocked by the user."""
        with self._cond:
            self._blocked.add(chat_id)

    def rate_limit_next(
        self, method: str = "sendMessage", count: int = 1, retry_after: int = 1
    ) -> None:
        """The next ``count`` calls of ``method`` fail with 429 Too Many Requests."""
        with self._cond:
            name = self._canonical.get(method.lower(), method)
            self._forced_429[name].extend([retry_after] * count)

    def fail_next(self, method: str = "sendMessage", count: int = 1, status: int = 502) -> None:
        """The next ``count`` calls of ``method`` fail as a broken gateway would (5xx)."""
        with self._cond:
            name = self._canonical.get(method.lower(), method)
            self._forced_failures[name].extend([status] * count)

    def enforce_rate_limit(
        self, per_second: int | None = 30, per_chat_per_second: int | None = 1
    ) -> None:
        """429 for sendMessage/editMessageText above these rates (1 s sliding window).

        ``enforce_rate_limit(None, None)`` switches limiting off again.
        """
        with self._cond:
            self._limits = (per_second, per_chat_per_second)

    # -- request entry point --------------------------------------------------------------
    def handle(self, token: str, method: str, params: JSONDict) -> tuple[int, bytes]:
        """Run one Bot API call; return (HTTP status, JSON body)."""
        if token != self.token:
            return 401, json.dumps(ApiError(401, "Unauthorized").envelope()).encode()
        name = self._canonical.get(method.lower())
        with self._cond:
            self._requests.append(name or method)
            try:
                if name is None:
                    raise ApiError(404, "Not Found")
                self._check_flood(name, params)
                result = getattr(self, self._methods[name])(params)
                status, body = 200, {"ok": True, "result": result}
            except ApiError as err:
                self._too_many += err.code == 429
                status, body = err.code, err.envelope()
            return status, json.dumps(body).encode()

    # -- internals (called with self._cond held) ------------------------------------------
    def _queue_update(self, payload: JSONDict) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._cond.notify_all()
        return update_id

    def _message(self, chat_id: int, message_id: int) -> JSONDict:
        if (chat_id, message_id) not in self._messages:
            raise ValueError(f"there is no message {message_id} in chat {chat_id}")
        return self._messages[(chat_id, message_id)]

    def _new_message(
        self, chat_id: int, sender: JSONDict, text: str, entities: list[JSONDict], reply_to: Any
    ) -> JSONDict:
        chat: JSONDict = {"id": chat_id, "type": "private", "first_name": "User"}
        if chat_id < 0:  # -100… ids are supergroups
            kind = "supergroup" if chat_id < -(10**12) else "group"
            chat = {"id": chat_id, "type": kind, "title": "Chat"}
        message: JSONDict = {
            "message_id": next(self._message_ids[chat_id]),
            "from": sender,
            "chat": self._chats.setdefault(chat_id, chat),
            "date": int(time.time()),
            "text": text,
        }
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = {
                k: v for k, v in reply_to.items() if k != "reply_to_message"
            }
        self._messages[(chat_id, message["message_id"])] = message
        return copy.deepcopy(message)

    def _sent_to(self, chat_id: int) -> list[JSONDict]:
        return [m for m in self._sent if m["chat_id"] == chat_id]

    def _timeout_report(self, chat_id: int, count: int, timeout: float) -> str:
        got = [m["text"] for m in self._sent_to(chat_id)]
        others = [(m["chat_id"], m["text"]) for m in self._sent if m["chat_id"] != chat_id]
        return (
            f"expected >= {count} message(s) to chat {chat_id} within {timeout}s, got "
            f"{len(got)}: {got!r}; to other chats: {others[-5:]!r}; "
            f"last requests: {self._requests[-10:]!r}"
        )

    def _check_flood(self, name: str, params: JSONDict) -> None:
        if self._forced_failures[name]:
            raise ApiError(self._forced_failures[name].popleft(), "Bad Gateway")
        if self._forced_429[name]:
            retry = self._forced_429[name].popleft()
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        if name not in RATE_LIMITED_METHODS or self._limits == (None, None):
            return
        now, keys = time.monotonic(), (None, int_param(params, "chat_id"))
        for key, limit in zip(keys, self._limits, strict=True):
            window = self._windows[key]
            while window and now - window[0] >= 1.0:
                window.popleft()
            if limit is not None and len(window) >= limit:
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        for key in keys:
            self._windows[key].append(now)

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = int_param(params, "chat_id")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _format(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text = str(params.get("text") or "")
        if str(params.get("parse_mode")).lower() == "html":
            plain, entities = parse_html(text)
        else:
            plain, entities = text, list(json_param(params.get("entities")) or [])
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return plain, entities

    def _scope_key(self, params: JSONDict) -> tuple[str, str]:
        scope = json_param(params.get("scope")) or {"type": "default"}
        key = ":".join(str(scope[k]) for k in ("type", "chat_id", "user_id") if k in scope)
        return key, str(params.get("language_code") or "")

    # -- Bot API methods ------------------------------------------------------------------
    def _api_get_me(self, params: JSONDict) -> JSONDict:
        return self.bot_user

    def _api_close(self, params: JSONDict) -> bool:
        return True

    _api_log_out = _api_close

    def _api_set_webhook(self, params: JSONDict) -> bool:
        self._webhook = dict(params) if params.get("url") else None
        return True

    def _api_delete_webhook(self, params: JSONDict) -> bool:
        self._webhook = None
        if truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _api_get_updates(self, params: JSONDict) -> list[JSONDict]:
        offset = int_param(params, "offset", 0)
        if offset < 0:  # keep only the last -offset updates
            self._updates = self._updates[offset:]
        elif offset:  # confirms (drops) all updates below offset
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        self._cond.wait_for(lambda: bool(self._updates) or self._stopping, timeout)
        return copy.deepcopy(self._updates[: max(1, min(100, int_param(params, "limit", 100)))])

    def _api_send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        plain, entities = self._format(params)
        reply = json_param(params.get("reply_parameters")) or {}
        reply_id = reply.get("message_id", params.get("reply_to_message_id"))
        reply_to = self._messages.get((chat_id, int(reply_id))) if reply_id else None
        if reply_id and reply_to is None and not truthy(reply.get("allow_sending_without_reply")):
            raise ApiError(400, "Bad Request: message to be replied not found")
        message = self._new_message(chat_id, self.bot_user, plain, entities, reply_to)
        markup = json_param(params.get("reply_markup"))
        if isinstance(markup, dict) and "inline_keyboard" in markup:  # only these are echoed
            message["reply_markup"] = markup
            self._messages[(chat_id, message["message_id"])]["reply_markup"] = markup
        self._sent.append(
            {
                "chat_id": chat_id,
                "text": params.get("text"),  # as sent, markup included
                "plain_text": plain,  # as shown to the user
                "parse_mode": params.get("parse_mode"),
                "reply_markup": markup,
                "message_id": message["message_id"],
                "reply_to_message_id": int(reply_id) if reply_id else None,
            }
        )
        self._cond.notify_all()
        return message

    def _api_edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = int_param(params, "chat_id"), int_param(params, "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None or message["from"] != self.bot_user:
            raise ApiError(400, "Bad Request: message to edit not found")
        plain, entities = self._format(params)
        new = {
            "text": plain,
            "entities": entities,
            "reply_markup": json_param(params.get("reply_markup")),
        }
        if all(message.get(key) == (value or None) for key, value in new.items()):
            raise ApiError(
                400,
                "Bad Request: message is not modified: specified new message content and reply "
                "markup are exactly the same as a current content and reply markup of the message",
            )
        for key, value in new.items():
            message.pop(key, None)
            message.update({key: value} if value else {})
        message["edit_date"] = int(time.time())
        change = {
            "text": params.get("text"),
            "plain_text": plain,
            "parse_mode": params.get("parse_mode"),
            "reply_markup": new["reply_markup"],
        }
        for record in self._sent_to(chat_id):
            if record["message_id"] == message_id:
                record.update(change)
        self._edits.append({"chat_id": chat_id, "message_id": message_id, **change})
        self._cond.notify_all()
        return copy.deepcopy(message)

    def _api_send_chat_action(self, params: JSONDict) -> bool:
        self._actions.append({"chat_id": self._target_chat(params), "action": params.get("action")})
        return True

    def _api_answer_callback_query(self, params: JSONDict) -> bool:
        answer = {"callback_query_id": params.get("callback_query_id"), "text": params.get("text")}
        self._answers.append({**answer, "show_alert": truthy(params.get("show_alert"))})
        return True

    def _api_set_my_commands(self, params: JSONDict) -> bool:
        commands = json_param(params.get("commands"))
        if not isinstance(commands, list) or not all(
            re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command"))) and c.get("description")
            for c in commands
        ):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        self._commands[self._scope_key(params)] = commands
        return True

    def _api_get_my_commands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._scope_key(params), []))

    def _api_delete_my_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True


def _user(user_id: int, first_name: str, username: str | None = None) -> JSONDict:
    user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
    return {**user, "username": username} if username else user


# ------------------------------------------------------------------------------ HTTP plumbing
class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    api: BotApiServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "FakeBotAPI/1.0"
    _PATH = re.compile(r"/bot([^/]*)/([A-Za-z]+)/?")

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        match = self._PATH.fullmatch(parts.path)
        status, body = 404, json.dumps(ApiError(404, "Not Found").envelope()).encode()
        try:
            params: JSONDict = dict(parse_qsl(parts.query, keep_blank_values=True))
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            params.update(parse_body(self.headers.get("Content-Type", ""), raw))
        except (ValueError, UnicodeDecodeError):
            error = ApiError(400, "Bad Request: can't parse request body").envelope()
            status, body = 400, json.dumps(error).encode()
        else:
            if match is not None:
                status, body = self.server.api.handle(match[1], match[2], params)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client went away, e.g. a cancelled long poll
            pass

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        """Keep test output quiet."""
