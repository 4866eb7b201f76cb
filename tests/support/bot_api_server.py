"""A local fake of the Telegram Bot API that speaks the real HTTP protocol.

Point python-telegram-bot at it with ``ApplicationBuilder().base_url(f"{server.url}/bot")``;
PTB then calls ``{server.url}/bot<TOKEN>/<method>`` exactly as it would call Telegram.

>>> with BotApiServer(token="123:ABC", bot_username="parley_bot") as server:
...     server.send_user_message(chat_id=42, text="/start")   # queue an update
...     replies = server.wait_for_messages(chat_id=42, count=1)  # what the bot sent back

Requests are served concurrently (one thread each), so a long-polling ``getUpdates`` can be held
open while ``sendMessage`` calls arrive. All state sits behind one condition variable, so the
recording properties and the simulation helpers are safe to use from any thread.
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
from collections.abc import Callable
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, urlsplit

JSONDict = dict[str, Any]
MAX_MESSAGE_LENGTH = 4096
RATE_LIMITED_METHODS = frozenset({"sendMessage", "editMessageText"})
CHAT_ACTIONS = frozenset({
    "typing", "upload_photo", "record_video", "upload_video", "record_voice", "upload_voice",
    "upload_document", "choose_sticker", "find_location", "record_video_note", "upload_video_note",
})  # fmt: skip


class ApiError(Exception):
    """An error reply; raised inside method handlers and turned into Telegram's error envelope."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def envelope(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        if self.parameters:
            body["parameters"] = self.parameters
        return body


class MessagesTimeout(AssertionError, TimeoutError):
    """Raised when awaited bot messages do not arrive: both an assertion and a timeout."""


# --------------------------------------------------------------------------- Telegram HTML
_ENTITY_TYPES = {
    "b": "bold", "strong": "bold", "i": "italic", "em": "italic", "u": "underline",
    "ins": "underline", "s": "strikethrough", "strike": "strikethrough", "del": "strikethrough",
    "a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote",
    "tg-spoiler": "spoiler", "span": "spoiler", "tg-emoji": "custom_emoji",
}  # fmt: skip
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]+));")
_TAG_NAME_RE = re.compile(r"<([^\s>]*)")
_START_TAG_RE = re.compile(
    r"""<[^\s>]*((?:\s+[^\s=>]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s>"']*))?)*)\s*>"""
)
_ATTR_RE = re.compile(r"""([^\s=>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']*)))?""")
_END_TAG_RE = re.compile(r"</([^\s>]*)\s*>")


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_entity(match: re.Match[str]) -> str | None:
    if match[3] is not None:
        return _NAMED_ENTITIES.get(match[3])
    code = int(match[1]) if match[1] else int(match[2], 16)
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else None


def _unescape(text: str) -> str:
    return _ENTITY_RE.sub(lambda m: _decode_entity(m) or m[0], text)


def _html_error(reason: str, text: str = "", index: int | None = None) -> ApiError:
    if index is not None:
        reason += f" at byte offset {len(text[:index].encode('utf-8', 'surrogatepass'))}"
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


def _parse_start_tag(text: str, i: int) -> tuple[str, JSONDict, int]:
    """Parse the start tag at ``text[i]``; return (tag name, entity draft, index after tag)."""
    name = _TAG_NAME_RE.match(text, i)
    assert name is not None
    tag = name[1].lower()
    if name.end() >= len(text):
        raise _html_error("Unclosed start tag", text, i)
    if tag not in _ENTITY_TYPES:
        raise _html_error(f'Unsupported start tag "{tag}"', text, i)
    whole = _START_TAG_RE.match(text, i)
    if whole is None:
        raise _html_error("Unclosed start tag", text, i)
    attrs = {
        m[1].lower(): _unescape(next((v for v in m.groups()[1:] if v is not None), ""))
        for m in _ATTR_RE.finditer(whole[1])
    }
    entity: JSONDict = {"type": _ENTITY_TYPES[tag]}
    cls = attrs.get("class", "")
    if tag == "a":
        entity = {"type": "text_link", "url": attrs["href"]} if attrs.get("href") else {}
    elif tag == "span" and cls != "tg-spoiler":
        raise _html_error('Tag "span" must have class "tg-spoiler"', text, i)
    elif tag == "code" and cls.startswith("language-"):
        entity["language"] = cls.removeprefix("language-")
    elif tag == "blockquote" and "expandable" in attrs:
        entity["type"] = "expandable_blockquote"
    elif tag == "tg-emoji":
        entity["custom_emoji_id"] = attrs.get("emoji-id", "")
    return tag, entity, whole.end()


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML as the Bot API does: return (plain text, entities).

    Mirrors Telegram's parser: only its tags are allowed and they must nest properly; only
    ``&lt; &gt; &amp; &quot;`` and numeric character references are decoded (any other ``&`` is
    kept literally, as Telegram does). Errors raise :class:`ApiError` with Telegram's wording.
    """
    out: list[str] = []
    pos = 0  # current UTF-16 offset in the plain text
    stack: list[tuple[str, JSONDict, int]] = []
    entities: list[JSONDict] = []
    i = 0
    while i < len(text):
        if text[i] != "<":
            ref = _ENTITY_RE.match(text, i) if text[i] == "&" else None
            piece = _decode_entity(ref) if ref else None
            piece, i = (piece, ref.end()) if ref and piece else (text[i], i + 1)
            out.append(piece)
            pos += _u16(piece)
        elif text.startswith("</", i):
            if not stack:
                raise _html_error("Unexpected end tag", text, i)
            end = _END_TAG_RE.match(text, i)
            if end is None:
                raise _html_error("Unclosed end tag", text, i)
            tag, entity, start = stack.pop()
            if end[1] and end[1].lower() != tag:
                raise _html_error(
                    f'Unmatched end tag at byte offset {len(text[:i].encode())}, '
                    f'expected "</{tag}>", found "</{end[1]}>"'
                )
            language = entity.pop("language", None) if tag == "code" else None
            if tag == "code" and stack and stack[-1][0] == "pre":
                if language:  # <pre><code class="language-x"> is one pre entity
                    stack[-1][1]["language"] = language
            elif entity and pos > start:
                entities.append({**entity, "offset": start, "length": pos - start})
            i = end.end()
        else:
            tag, entity, i = _parse_start_tag(text, i)
            stack.append((tag, entity, pos))
    if stack:
        raise _html_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


_COMMAND_RE = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?")
_MENTION_RE = re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}")


def user_entities(text: str) -> list[JSONDict]:
    """The entities Telegram attaches to plain user text: bot commands and @mentions."""
    found = [("bot_command", m) for m in _COMMAND_RE.finditer(text)]
    found += [("mention", m) for m in _MENTION_RE.finditer(text)]
    entities = [
        {"type": kind, "offset": _u16(text[: m.start()]), "length": _u16(m[0])} for kind, m in found
    ]
    return sorted(entities, key=lambda e: e["offset"])


# --------------------------------------------------------------------------- request parsing
def parse_body(content_type: str, body: bytes) -> JSONDict:
    """Decode a JSON, urlencoded or multipart request body into a parameter dict."""
    mime = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if mime == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data
    if mime == "multipart/form-data":
        head = f"Content-Type: {content_type}\r\n\r\n".encode()
        form: Message = BytesParser(policy=HTTP).parsebytes(head + body)
        params: JSONDict = {}
        for part in form.walk():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if isinstance(name, str) and isinstance(payload, bytes):
                params[name] = payload if part.get_filename() else payload.decode()
        return params
    return dict(parse_qsl(body.decode(), keep_blank_values=True))


def _json(value: Any) -> Any:
    """Form fields carry JSON-encoded values (reply_markup, commands, ...) as strings."""
    return json.loads(value) if isinstance(value, str) and value else value


def _truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def _int(params: JSONDict, name: str, default: int | None = None) -> int:
    value = params.get(name)
    if value in (None, ""):
        if default is None:
            raise ApiError(400, f"Bad Request: {name} is empty")
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None


# --------------------------------------------------------------------------- the server
class BotApiServer:
    """Fake Bot API: records what the bot does and lets tests act as users."""

    def __init__(self, token: str = "123:ABC", bot_username: str = "parley_bot",
                 bot_name: str = "Parley") -> None:  # fmt: skip
        self.token = token
        bot_id = token.split(":", 1)[0]
        self.bot_user: JSONDict = {"id": int(bot_id) if bot_id.isdigit() else 1, "is_bot": True,
                                   "first_name": bot_name, "username": bot_username}  # fmt: skip
        self._cond = threading.Condition()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._update_ids = itertools.count(1)
        self._callback_ids = itertools.count(1)
        self._message_ids: defaultdict[int, itertools.count[int]] = defaultdict(
            lambda: itertools.count(1))  # fmt: skip
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
        self._forced_429: dict[str, deque[int]] = defaultdict(deque)
        self._limits: tuple[int | None, int | None] = (None, None)
        self._window: deque[float] = deque()
        self._chat_windows: defaultdict[int, deque[float]] = defaultdict(deque)
        self._too_many = 0
        self._methods: dict[str, Callable[[JSONDict], Any]] = {
            "getMe": lambda p: self.bot_user, "close": lambda p: True, "logOut": lambda p: True,
            "getUpdates": self._get_updates, "setWebhook": self._set_webhook,
            "deleteWebhook": self._delete_webhook, "getWebhookInfo": self._webhook_info,
            "sendMessage": self._send_message, "editMessageText": self._edit_message_text,
            "sendChatAction": self._send_chat_action, "answerCallbackQuery": self._answer_callback,
            "setMyCommands": self._set_commands, "getMyCommands": self._get_commands,
            "deleteMyCommands": self._delete_commands,
        }  # fmt: skip
        self._canonical = {name.lower(): name for name in self._methods}

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> BotApiServer:
        """Bind 127.0.0.1 on a free port and serve in a background thread."""
        if self._httpd is not None:
            raise RuntimeError("BotApiServer is already running")
        self._stopping = False
        self._httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.api = self
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,),
                                        name="BotApiServer", daemon=True)  # fmt: skip
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

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:  # fmt: skip
        self.stop()

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT``; PTB's base_url is ``f"{url}/bot"``."""
        if self._httpd is None:
            raise RuntimeError("BotApiServer is not running")
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    # -- recordings (copies, safe to read from any thread) ------------------------------------
    def _snapshot(self, value: Any) -> Any:
        with self._cond:
            return copy.deepcopy(value)

    sent_messages = property(lambda self: self._snapshot(self._sent), doc="Every sendMessage.")
    edited_messages = property(lambda self: self._snapshot(self._edits), doc="Every edit.")
    chat_actions = property(lambda self: self._snapshot(self._actions), doc="chat_id, action.")
    callback_answers = property(lambda self: self._snapshot(self._answers), doc="Answers.")
    requests = property(lambda self: self._snapshot(self._requests), doc="Method names.")
    webhook = property(lambda self: self._snapshot(self._webhook), doc="setWebhook params.")
    too_many_requests = property(lambda self: self._too_many, doc="Number of 429 replies.")

    @property
    def commands(self) -> list[JSONDict]:
        """Commands set for the default scope and no language."""
        return self.commands_for()

    def commands_for(self, scope: str = "default", language_code: str = "") -> list[JSONDict]:
        """Commands for a scope key such as ``"all_private_chats"`` or ``"chat:42"``."""
        return list(self._snapshot(self._commands.get((scope, language_code), [])))

    # -- simulating users ----------------------------------------------------------------------
    def send_user_message(self, *, chat_id: int, text: str, user_id: int | None = None,
                          chat_type: str = "private", reply_to_bot_message_id: int | None = None,
                          first_name: str = "Test", username: str | None = None,
                          chat_title: str = "Test group") -> int:  # fmt: skip
        """Queue a user's text message as an update; returns its update_id."""
        user = self._user(user_id if user_id is not None else chat_id, first_name, username)
        chat: JSONDict = {"id": chat_id, "type": chat_type}
        if chat_type == "private":
            chat.update({k: v for k, v in user.items() if k in ("first_name", "username")})
        else:
            chat["title"] = chat_title
        with self._cond:
            self._chats[chat_id] = chat
            reply_to = None
            if reply_to_bot_message_id is not None:
                reply_to = self._messages.get((chat_id, reply_to_bot_message_id))
                if reply_to is None:
                    raise ValueError(f"no message {reply_to_bot_message_id} in chat {chat_id}")
            message = self._new_message(chat_id, user, text, user_entities(text), reply_to)
            return self._queue_update({"message": message})

    def press_button(self, chat_id: int, user_id: int, message_id: int, data: str,
                     first_name: str = "Test") -> int:  # fmt: skip
        """Queue a callback_query for an inline button on a recorded message."""
        with self._cond:
            message = self._messages.get((chat_id, message_id))
            if message is None:
                raise ValueError(f"no message {message_id} in chat {chat_id}")
            query = {"id": str(next(self._callback_ids)), "from": self._user(user_id, first_name),
                     "message": copy.deepcopy(message), "chat_instance": str(chat_id),
                     "data": data}  # fmt: skip
            return self._queue_update({"callback_query": query})

    def wait_for_messages(self, chat_id: int, count: int = 1, timeout: float = 10.0
                          ) -> list[JSONDict]:  # fmt: skip
        """Block until ``chat_id`` received at least ``count`` messages; return them all."""
        with self._cond:
            if self._cond.wait_for(lambda: len(self._sent_to(chat_id)) >= count, timeout):
                return copy.deepcopy(self._sent_to(chat_id))
            raise MessagesTimeout(self._timeout_report(chat_id, count, timeout))

    async def await_messages(self, chat_id: int, count: int = 1, timeout: float = 10.0
                             ) -> list[JSONDict]:  # fmt: skip
        """Asyncio-friendly :meth:`wait_for_messages` (never blocks the event loop)."""
        deadline = time.monotonic() + timeout
        while True:
            with self._cond:
                if len(self._sent_to(chat_id)) >= count:
                    return copy.deepcopy(self._sent_to(chat_id))
                if time.monotonic() >= deadline:
                    raise MessagesTimeout(self._timeout_report(chat_id, count, timeout))
            await asyncio.sleep(0.01)

    # -- failure injection -------------------------------------------------------------------
    def block_chat(self, chat_id: int) -> None:
        """Make sendMessage/sendChatAction to this chat fail with 403 (user blocked the bot)."""
        with self._cond:
            self._blocked.add(chat_id)

    def unblock_chat(self, chat_id: int) -> None:
        with self._cond:
            self._blocked.discard(chat_id)

    def rate_limit_next(self, method: str = "sendMessage", count: int = 1,
                        retry_after: int = 1) -> None:  # fmt: skip
        """Make the next ``count`` calls of ``method`` fail with 429 Too Many Requests."""
        with self._cond:
            self._forced_429[self._canonical.get(method.lower(), method)].extend(
                [retry_after] * count)  # fmt: skip

    def enforce_rate_limit(self, per_second: int | None = 30,
                           per_chat_per_second: int | None = 1) -> None:  # fmt: skip
        """Reply 429 to sendMessage/editMessageText beyond these rates (1 s sliding window).

        ``enforce_rate_limit(None, None)`` switches the limits off again.
        """
        with self._cond:
            self._limits = (per_second, per_chat_per_second)

    # -- HTTP entry point --------------------------------------------------------------------
    def handle(self, token: str, method: str, params: JSONDict) -> tuple[int, bytes]:
        """Run one Bot API call; returns (HTTP status, JSON body)."""
        if token != self.token:
            return 401, json.dumps(ApiError(401, "Unauthorized").envelope()).encode()
        name = self._canonical.get(method.lower())
        with self._cond:
            self._requests.append(name or method)
            try:
                if name is None:
                    raise ApiError(404, "Not Found")
                self._check_flood(name, params)
                status, body = 200, {"ok": True, "result": self._methods[name](params)}
            except ApiError as err:
                self._too_many += err.code == 429
                status, body = err.code, err.envelope()
            return status, json.dumps(body).encode()

    # -- internals (all called with self._cond held) ------------------------------------------
    def _user(self, user_id: int, first_name: str, username: str | None = None) -> JSONDict:
        user: JSONDict = {"id": user_id, "is_bot": False, "first_name": first_name}
        return {**user, "username": username} if username else user

    def _queue_update(self, payload: JSONDict) -> int:
        update_id = next(self._update_ids)
        self._updates.append({"update_id": update_id, **payload})
        self._cond.notify_all()
        return update_id

    def _chat(self, chat_id: int) -> JSONDict:
        default: JSONDict = {"id": chat_id, "type": "private", "first_name": "User"}
        if chat_id < 0:
            kind = "supergroup" if str(chat_id).startswith("-100") else "group"
            default = {"id": chat_id, "type": kind, "title": "Chat"}
        return self._chats.setdefault(chat_id, default)

    def _new_message(self, chat_id: int, sender: JSONDict, text: str,
                     entities: list[JSONDict], reply_to: JSONDict | None) -> JSONDict:  # fmt: skip
        message: JSONDict = {"message_id": next(self._message_ids[chat_id]), "from": sender,
                             "chat": self._chat(chat_id), "date": int(time.time()), "text": text}  # fmt: skip
        if entities:
            message["entities"] = entities
        if reply_to is not None:
            message["reply_to_message"] = {k: v for k, v in reply_to.items()
                                           if k != "reply_to_message"}  # fmt: skip
        self._messages[(chat_id, message["message_id"])] = message
        return copy.deepcopy(message)

    def _sent_to(self, chat_id: int) -> list[JSONDict]:
        return [m for m in self._sent if m["chat_id"] == chat_id]

    def _timeout_report(self, chat_id: int, count: int, timeout: float) -> str:
        got = [m["text"] for m in self._sent_to(chat_id)]
        others = {m["chat_id"]: m["text"] for m in self._sent if m["chat_id"] != chat_id}
        return (f"expected >= {count} message(s) to chat {chat_id} within {timeout}s, got "
                f"{len(got)}: {got!r}; last messages to other chats: {others!r}; "
                f"last requests: {self._requests[-10:]!r}")  # fmt: skip

    def _check_flood(self, name: str, params: JSONDict) -> None:
        forced = self._forced_429.get(name)
        if forced:
            retry = forced.popleft()
            raise ApiError(429, f"Too Many Requests: retry after {retry}", {"retry_after": retry})
        per_second, per_chat = self._limits
        if name not in RATE_LIMITED_METHODS or (per_second is None and per_chat is None):
            return
        now = time.monotonic()
        windows = [(self._window, per_second)]
        if "chat_id" in params:
            windows.append((self._chat_windows[_int(params, "chat_id")], per_chat))
        for window, limit in windows:
            while window and now - window[0] >= 1.0:
                window.popleft()
            if limit is not None and len(window) >= limit:
                raise ApiError(429, "Too Many Requests: retry after 1", {"retry_after": 1})
        for window, _ in windows:
            window.append(now)

    def _target_chat(self, params: JSONDict) -> int:
        chat_id = _int(params, "chat_id")
        if chat_id in self._blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def _format(self, params: JSONDict) -> tuple[str, list[JSONDict]]:
        text = str(params.get("text") or "")
        if str(params.get("parse_mode") or "").lower() == "html":
            plain, entities = parse_html(text)
        else:
            plain, entities = text, list(_json(params.get("entities")) or [])
        if not plain.strip():
            raise ApiError(400, "Bad Request: message text is empty")
        if len(plain) > MAX_MESSAGE_LENGTH:
            raise ApiError(400, "Bad Request: message is too long")
        return plain, entities

    def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self._webhook:
            raise ApiError(409, "Conflict: can't use getUpdates method while webhook is active; "
                                "use deleteWebhook to delete the webhook first")  # fmt: skip
        offset = _int(params, "offset", 0)
        if offset < 0:
            self._updates = self._updates[offset:]
        elif offset:
            self._updates = [u for u in self._updates if u["update_id"] >= offset]
        timeout = float(params.get("timeout") or 0)
        self._cond.wait_for(lambda: bool(self._updates) or self._stopping, timeout)
        return copy.deepcopy(self._updates[: max(1, min(100, _int(params, "limit", 100)))])

    def _set_webhook(self, params: JSONDict) -> bool:
        self._webhook = dict(params) if params.get("url") else None
        return True

    def _delete_webhook(self, params: JSONDict) -> bool:
        self._webhook = None
        if _truthy(params.get("drop_pending_updates")):
            self._updates.clear()
        return True

    def _webhook_info(self, params: JSONDict) -> JSONDict:
        url = (self._webhook or {}).get("url", "")
        return {"url": url, "has_custom_certificate": False,
                "pending_update_count": len(self._updates)}  # fmt: skip

    def _send_message(self, params: JSONDict) -> JSONDict:
        chat_id = self._target_chat(params)
        plain, entities = self._format(params)
        reply = _json(params.get("reply_parameters")) or {}
        reply_id = reply.get("message_id", params.get("reply_to_message_id"))
        reply_to = self._messages.get((chat_id, int(reply_id))) if reply_id else None
        lenient = reply.get("allow_sending_without_reply", params.get("allow_sending_without_reply"))
        if reply_id and reply_to is None and not _truthy(lenient):
            raise ApiError(400, "Bad Request: message to be replied not found")
        message = self._new_message(chat_id, self.bot_user, plain, entities, reply_to)
        markup = _json(params.get("reply_markup"))
        if isinstance(markup, dict) and "inline_keyboard" in markup:
            message["reply_markup"] = self._messages[(chat_id, message["message_id"])][
                "reply_markup"] = markup  # fmt: skip
        self._sent.append({
            "chat_id": chat_id, "text": str(params.get("text")), "plain_text": plain,
            "parse_mode": params.get("parse_mode"), "reply_markup": markup,
            "message_id": message["message_id"], "reply_to_message_id": int(reply_id) if reply_id else None,
        })  # fmt: skip
        self._cond.notify_all()
        return message

    def _edit_message_text(self, params: JSONDict) -> JSONDict | bool:
        if params.get("inline_message_id"):
            return True
        chat_id, message_id = _int(params, "chat_id"), _int(params, "message_id")
        message = self._messages.get((chat_id, message_id))
        if message is None:
            raise ApiError(400, "Bad Request: message to edit not found")
        if message["from"]["id"] != self.bot_user["id"]:
            raise ApiError(400, "Bad Request: message can't be edited")
        plain, entities = self._format(params)
        markup = _json(params.get("reply_markup"))
        new = {"text": plain, "entities": entities, "reply_markup": markup}
        if all(message.get(key) == (value or None) for key, value in new.items()):
            raise ApiError(400, "Bad Request: message is not modified: specified new message "
                                "content and reply markup are exactly the same as a current "
                                "content and reply markup of the message")  # fmt: skip
        for key, value in new.items():
            message.pop(key, None)
            if value:
                message[key] = value
        message["edit_date"] = int(time.time())
        change = {"text": str(params.get("text")), "plain_text": plain, "reply_markup": markup,
                  "parse_mode": params.get("parse_mode")}  # fmt: skip
        for record in self._sent:
            if (record["chat_id"], record["message_id"]) == (chat_id, message_id):
                record.update(change)
        self._edits.append({"chat_id": chat_id, "message_id": message_id, **change})
        self._cond.notify_all()
        return copy.deepcopy(message)

    def _send_chat_action(self, params: JSONDict) -> bool:
        chat_id = self._target_chat(params)
        if params.get("action") not in CHAT_ACTIONS:
            raise ApiError(400, "Bad Request: wrong parameter action in request")
        self._actions.append({"chat_id": chat_id, "action": params["action"]})
        return True

    def _answer_callback(self, params: JSONDict) -> bool:
        self._answers.append({"callback_query_id": str(params.get("callback_query_id")),
                              "text": params.get("text"),
                              "show_alert": _truthy(params.get("show_alert"))})  # fmt: skip
        return True

    @staticmethod
    def _scope_key(params: JSONDict) -> tuple[str, str]:
        scope = _json(params.get("scope")) or {"type": "default"}
        key = ":".join(str(scope[k]) for k in ("type", "chat_id", "user_id") if k in scope)
        return key, str(params.get("language_code") or "")

    def _set_commands(self, params: JSONDict) -> bool:
        commands = _json(params.get("commands"))
        if not isinstance(commands, list):
            raise ApiError(400, "Bad Request: commands is empty")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(command.get("command", ""))):
                raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
                raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self._commands[self._scope_key(params)] = commands
        return True

    def _get_commands(self, params: JSONDict) -> list[JSONDict]:
        return copy.deepcopy(self._commands.get(self._scope_key(params), []))

    def _delete_commands(self, params: JSONDict) -> bool:
        self._commands.pop(self._scope_key(params), None)
        return True


# --------------------------------------------------------------------------- HTTP plumbing
class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    api: BotApiServer


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "FakeBotAPI/1.0"
    _PATH = re.compile(r"/bot([^/]*)/([A-Za-z]+)/?")

    def do_GET(self) -> None:  # noqa: N802 - name fixed by BaseHTTPRequestHandler
        parts = urlsplit(self.path)
        match = self._PATH.fullmatch(parts.path)
        if match is None:
            status, body = 404, json.dumps(ApiError(404, "Not Found").envelope()).encode()
        else:
            try:
                params: JSONDict = dict(parse_qsl(parts.query, keep_blank_values=True))
                length = int(self.headers.get("Content-Length") or 0)
                params.update(parse_body(self.headers.get("Content-Type", ""),
                                         self.rfile.read(length)))  # fmt: skip
            except (ValueError, UnicodeDecodeError):
                error = ApiError(400, "Bad Request: can't parse request body")
                status, body = 400, json.dumps(error.envelope()).encode()
            else:
                status, body = self.server.api.handle(match[1], match[2], params)
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:  # the client gave up (e.g. a cancelled long poll)
            pass

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - inherited name
        """Keep test output quiet."""
