"""A local Telegram Bot API server that speaks the real HTTP protocol, for tests and the playground.

Point python-telegram-bot at it with ``ApplicationBuilder().base_url(f"{server.url}/bot")``;
PTB then calls ``{server.url}/bot<TOKEN>/<method>`` exactly as it would call Telegram::

    with BotApiServer(token="123:ABC", bot_username="parley_bot") as server:
        server.send_user_message(chat_id=42, text="/start")  # a user writes to the bot
        replies = server.wait_for_messages(chat_id=42, count=1)  # what the bot answered

Each request is served on its own thread, so a long-polling ``getUpdates`` stays open while
``sendMessage`` calls arrive. All state sits behind one condition variable: the recordings and
the simulation helpers are safe to use from any thread. The Bot API methods themselves are in
:mod:`playground.bot_methods`; other paths go to the pages mounted with :meth:`mount`.
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
from types import TracebackType
from typing import Any

from playground.bot_methods import BotApiMethods
from playground.faults import ChatFaults, service_message
from playground.http_server import HTTPServer, Pages
from playground.protocol import (
    ApiError,
    JSONDict,
    MessagesTimeout,
    int_param,
    parse_body,
    parse_html,
    user_entities,
)
from playground.webhooks import WebhookMethods

__all__ = ["ApiError", "BotApiServer", "MessagesTimeout", "parse_body", "parse_html"]

RATE_LIMITED_METHODS = frozenset({"sendMessage", "editMessageText"})
WILDCARD_HOSTS = frozenset({"", "0.0.0.0", "::"})


class BotApiServer(BotApiMethods, ChatFaults, WebhookMethods):
    """Local Bot API: records what the bot does and lets tests or people act as its users."""

    def __init__(
        self,
        token: str = "123:ABC",
        bot_username: str = "parley_bot",
        bot_name: str = "Parley",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.token, self.host, self.port = token, host, port
        bot_id = token.split(":", 1)[0]
        self.bot_user = {
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
        self.pages: Pages | None = None
        self._cond = threading.Condition()
        self._httpd: HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._update_ids, self._callback_ids = itertools.count(1), itertools.count(1)
        self._message_ids: defaultdict[int, Iterator[int]] = defaultdict(lambda: itertools.count(1))
        self._updates: list[JSONDict] = []
        self._chats: dict[int, JSONDict] = {}
        self._messages: dict[tuple[int, int], JSONDict] = {}
        self._revision = 0  # counts every new or edited message, for pages that follow chats
        self._revisions: dict[tuple[int, int], int] = {}
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
        # Token buckets (tokens, when last refilled) per chat; None: the bot's overall one.
        self._buckets: dict[int | None, tuple[float, float]] = {}
        self._too_many = 0
        self._members: dict[tuple[int, int], str] = {}  # (chat, user) → status; else "member"
        self._init_faults()
        self._init_webhooks()

    # -- lifecycle ------------------------------------------------------------------------
    def start(self) -> BotApiServer:
        """Bind ``host:port`` (by default 127.0.0.1 on a free port); serve from a thread."""
        if self._httpd is not None:
            raise RuntimeError("BotApiServer is already running")
        self._stopping = False
        self._httpd = HTTPServer(self, self.host, self.port)
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

    def mount(self, pages: Pages) -> None:
        """Answer every path that is not a Bot API call with ``pages``."""
        self.pages = pages

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; PTB's base_url is ``f"{url}/bot"``."""
        if self._httpd is None:
            raise RuntimeError("BotApiServer is not running")
        host = "127.0.0.1" if self.host in WILDCARD_HOSTS else self.host
        return f"http://{f'[{host}]' if ':' in host else host}:{self._httpd.server_address[1]}"

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

    def message(self, chat_id: int, message_id: int) -> JSONDict | None:
        """A user's or the bot's message as recorded, or None."""
        return self._copy(self._messages.get((chat_id, message_id)))  # type: ignore[no-any-return]

    def changes(self, since: int = 0, timeout: float = 0.0) -> tuple[int, list[JSONDict]]:
        """(revision, messages): every message, users' and the bot's, new or edited after
        revision ``since``, oldest change first; waits up to ``timeout`` seconds for one."""
        with self._cond:
            if since > self._revision:  # the caller saw another run of the server: resend all
                since = 0
            self._cond.wait_for(lambda: self._revision > since or self._stopping, timeout)
            changed = sorted((rev, key) for key, rev in self._revisions.items() if rev > since)
            return self._revision, [copy.deepcopy(self._messages[key]) for _, key in changed]

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

    def edit_user_message(self, *, chat_id: int, message_id: int, text: str) -> int:
        """Queue an edited_message update: the user changed an earlier message's text."""
        with self._cond:
            message = self._message(chat_id, message_id)
            message["text"], message["edit_date"] = text, int(time.time())
            entities = user_entities(text)
            message.pop("entities", None)
            message.update({"entities": entities} if entities else {})
            self._touch(chat_id, message_id)
            return self._queue_update({"edited_message": copy.deepcopy(message)})

    def update_confirmed(self, update_id: int) -> bool:
        """Whether the bot has fetched the update and asked for the ones after it."""
        with self._cond:
            return all(update["update_id"] > update_id for update in self._updates)

    def set_member_status(self, chat_id: int, user_id: int, status: str) -> None:
        """The user's standing in a group: "creator", "administrator", "member", "left"…"""
        with self._cond:
            self._members[(chat_id, user_id)] = status

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
        """429 for sendMessage/editMessageText above these rates.

        Each rate is a token bucket holding at most a second's worth: a bot that keeps to the
        rate is never refused, even when this server, starved of CPU, handles requests sent
        evenly in a bunch (a sliding window over handling times would refuse those), while
        one that sends faster for more than a moment is.

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
                self._check_chat_faults(name, params)
                result = getattr(self, self._methods[name])(params)
                status, body = 200, {"ok": True, "result": result}
            except ApiError as err:
                self._too_many += err.code == 429
                status, body = err.code, err.envelope()
            delay = self._reply_delay(name or method, params, status == 200)
        if delay:  # done, but the answer comes late (without holding up other requests)
            time.sleep(delay)
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
        self._touch(chat_id, message["message_id"])
        return copy.deepcopy(message)

    def _announce(self, chat: JSONDict, service: JSONDict) -> None:
        chat_id = int(chat["id"])
        sender = _user(0, "Telegram")
        message = service_message(next(self._message_ids[chat_id]), sender, chat, service)
        self._messages[(chat_id, message["message_id"])] = message
        self._touch(chat_id, message["message_id"])
        self._queue_update({"message": copy.deepcopy(message)})

    def _touch(self, chat_id: int, message_id: int) -> None:
        self._revision += 1
        self._revisions[(chat_id, message_id)] = self._revision
        self._cond.notify_all()

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
        refilled: list[tuple[int | None, float]] = []
        for key, limit in zip(keys, self._limits, strict=True):
            if limit is None:
                continue
            tokens, since = self._buckets.get(key, (float(limit), now))
            tokens = min(float(limit), tokens + (now - since) * limit)
            if tokens < 1.0:
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
            refilled.append((key, tokens))
        for key, tokens in refilled:
            self._buckets[key] = (tokens - 1.0, now)


def _user(user_id: int, first_name: str, username: str | None = None) -> JSONDict:
    user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
    return {**user, "username": username} if username else user
