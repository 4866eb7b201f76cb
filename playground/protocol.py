"""The Bot API's wire format as the local server speaks it: error envelopes, request bodies,
user-text entities, and Telegram's HTML subset (validated as strictly as Telegram)."""

from __future__ import annotations

import json
import re
from email.message import Message
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any
from urllib.parse import parse_qsl

JSONDict = dict[str, Any]
MAX_MESSAGE_LENGTH = 4096


class ApiError(Exception):
    """An error reply, raised by method handlers and sent as Telegram's error envelope."""

    def __init__(self, code: int, description: str, parameters: JSONDict | None = None) -> None:
        super().__init__(description)
        self.code, self.description, self.parameters = code, description, parameters

    def envelope(self) -> JSONDict:
        body: JSONDict = {"ok": False, "error_code": self.code, "description": self.description}
        return {**body, "parameters": self.parameters} if self.parameters else body


class MessagesTimeout(AssertionError, TimeoutError):
    """The bot did not send the awaited messages in time (an assertion and a timeout)."""


# ------------------------------------------------------------------------------ Telegram HTML
_ENTITY_TYPES = {
    **dict.fromkeys(["b", "strong"], "bold"),
    **dict.fromkeys(["i", "em"], "italic"),
    **dict.fromkeys(["u", "ins"], "underline"),
    **dict.fromkeys(["s", "strike", "del"], "strikethrough"),
    **dict.fromkeys(["tg-spoiler", "span"], "spoiler"),
    **{"a": "text_link", "code": "code", "pre": "pre", "blockquote": "blockquote"},
}
_NAMED_REFS = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_REF_RE = re.compile(r"&(?:#([0-9]{1,8})|#[xX]([0-9a-fA-F]{1,8})|([a-zA-Z]+));")
_TAG_NAME_RE = re.compile(r"<([^\s>]*)")
_VALUE = r"""(?:"[^"]*"|'[^']*'|[^\s>"']+)"""
_START_TAG_RE = re.compile(rf"<[^\s>]*((?:\s+[^\s=>]+(?:\s*=\s*{_VALUE})?)*)\s*>")
_ATTR_RE = re.compile(r"""([^\s=>]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_END_TAG_RE = re.compile(r"</([^\s>]*)\s*>")


def utf16_length(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _decode_ref(match: re.Match[str]) -> str | None:
    if match[3] is not None:
        return _NAMED_REFS.get(match[3])
    code = int(match[1]) if match[1] else int(match[2], 16)
    return chr(code) if 0 < code < 0x110000 and not 0xD800 <= code < 0xE000 else None


def _html_error(reason: str, text: str = "", at: int | None = None) -> ApiError:
    if at is not None:
        reason += f" at byte offset {len(text[:at].encode('utf-8', 'surrogatepass'))}"
    return ApiError(400, f"Bad Request: can't parse entities: {reason}")


def _parse_start_tag(text: str, i: int) -> tuple[str, JSONDict, int]:
    """Parse the start tag at ``text[i]``: (tag, entity draft or {} for none, index after it)."""
    name = _TAG_NAME_RE.match(text, i)
    assert name is not None
    tag, whole = name[1].lower(), _START_TAG_RE.match(text, i)
    if name.end() >= len(text):
        raise _html_error("Unclosed start tag", text, i)
    if tag not in _ENTITY_TYPES:
        raise _html_error(f'Unsupported start tag "{tag}"', text, i)
    if whole is None:
        raise _html_error("Unclosed start tag", text, i)
    attrs = {
        m[1].lower(): _REF_RE.sub(lambda r: _decode_ref(r) or r[0], m[2] or m[3] or m[4] or "")
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
    return tag, entity, whole.end()


def parse_html(text: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML like the Bot API: return (plain text, entities).

    Only Telegram's tags are allowed, properly nested and closed. Only ``&lt; &gt; &amp;
    &quot;`` and numeric references are decoded; any other ``&`` stays literal, as on Telegram.
    """
    out: list[str] = []
    pos, i = 0, 0  # UTF-16 offset in the output, index in the input
    stack: list[tuple[str, JSONDict, int]] = []
    entities: list[JSONDict] = []
    while i < len(text):
        if text[i] != "<":
            ref = _REF_RE.match(text, i) if text[i] == "&" else None
            decoded = _decode_ref(ref) if ref else None
            piece, i = (decoded, ref.end()) if ref and decoded else (text[i], i + 1)
            out.append(piece)
            pos += utf16_length(piece)
            continue
        if not text.startswith("</", i):
            tag, entity, i = _parse_start_tag(text, i)
            stack.append((tag, entity, pos))
            continue
        end = _END_TAG_RE.match(text, i)
        if not stack or end is None:
            raise _html_error("Unclosed end tag" if stack else "Unexpected end tag", text, i)
        tag, entity, start = stack.pop()
        if end[1] and end[1].lower() != tag:
            raise _html_error(
                f"Unmatched end tag at byte offset {len(text[:i].encode())}, "
                f'expected "</{tag}>", found "</{end[1]}>"'
            )
        language = entity.pop("language", None) if tag == "code" else None
        if tag == "code" and stack and stack[-1][0] == "pre":
            if language:  # <pre><code class="language-x"> is one pre entity
                stack[-1][1]["language"] = language
        elif entity and pos > start:
            entities.append({**entity, "offset": start, "length": pos - start})
        i = end.end()
    if stack:
        raise _html_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    return "".join(out), sorted(entities, key=lambda e: (e["offset"], -e["length"]))


_ENTITY_PATTERNS = {
    "bot_command": re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,64}(?:@[A-Za-z0-9_]{3,32})?"),
    "mention": re.compile(r"(?<![\w@/])@[A-Za-z0-9_]{5,32}"),
}


def user_entities(text: str) -> list[JSONDict]:
    """The entities Telegram attaches to plain user text: bot commands and @mentions."""
    found = [
        {"type": kind, "offset": utf16_length(text[: m.start()]), "length": utf16_length(m[0])}
        for kind, pattern in _ENTITY_PATTERNS.items()
        for m in pattern.finditer(text)
    ]
    return sorted(found, key=lambda e: e["offset"])


# ------------------------------------------------------------------------------ parameters
def parse_body(content_type: str, body: bytes) -> JSONDict:
    """Decode a JSON, urlencoded or multipart/form-data body into a parameter dict."""
    mime = content_type.split(";")[0].strip().lower()
    if not body:
        return {}
    if mime == "application/json":
        data = json.loads(body)
        if not isinstance(data, dict):
            raise ValueError("JSON body must be an object")
        return data
    if mime != "multipart/form-data":
        return dict(parse_qsl(body.decode(), keep_blank_values=True))
    head = f"Content-Type: {content_type}\r\n\r\n".encode()
    form: Message = BytesParser(policy=HTTP).parsebytes(head + body)
    params: JSONDict = {}
    for part in form.walk():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):  # files stay bytes
            params[name] = payload if part.get_filename() else payload.decode()
    return params


def json_param(value: Any) -> Any:
    """Form fields carry structured values (reply_markup, commands, ...) as JSON strings."""
    return json.loads(value) if isinstance(value, str) and value else value


def truthy(value: Any) -> bool:
    return str(value).lower() in ("true", "1")


def int_param(params: JSONDict, name: str, default: int | None = None) -> int:
    if params.get(name) in (None, ""):
        if default is None:
            raise ApiError(400, f"Bad Request: {name} is empty")
        return default
    try:
        return int(params[name])
    except (TypeError, ValueError):
        raise ApiError(400, f"Bad Request: invalid {name} specified") from None
