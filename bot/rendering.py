"""Parley's replies as Telegram HTML messages: escaped, well-formed, and split to fit."""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Literal, TypeAlias
from urllib.parse import urlsplit

MAX_MESSAGE_LENGTH = 4096
Style: TypeAlias = Literal["b", "i", "code", "blockquote"]


@dataclass(frozen=True)
class Block:
    """A run of plain, unescaped text, optionally wrapped in one tag and/or a link."""

    text: str
    style: Style | None = None
    href: str | None = None


Line: TypeAlias = Sequence[Block]
"""Inline blocks rendered side by side on one line; a lone Block also counts as a line."""


def plain(text: str) -> Block:
    """Text as it is."""
    return Block(text)


def bold(text: str) -> Block:
    """Text in bold."""
    return Block(text, "b")


def italic(text: str) -> Block:
    """Text in italics."""
    return Block(text, "i")


def code(text: str) -> Block:
    """Text in a monospace font."""
    return Block(text, "code")


def quote(text: str) -> Block:
    """Text set apart as a quotation."""
    return Block(text, "blockquote")


def link(text: str, href: str) -> Block:
    """Text linking to href; rendered plain unless href is an http(s) URL."""
    return Block(text, href=href)


def escape(text: str) -> str:
    """Text made safe to place between tags."""
    return html.escape(text, quote=False)


def render(lines: Iterable[Line | Block]) -> str:
    """The whole reply as one HTML string, one line per line."""
    return "\n".join(_render_line(_as_line(line)) for line in lines)


def split_messages(lines: Iterable[Line | Block], limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """The reply packed into as few well-formed HTML messages of at most limit characters."""
    if limit < _MIN_LIMIT:
        raise ValueError(f"limit must be at least {_MIN_LIMIT}, got {limit}")
    packer = _Packer(limit)
    for line in lines:
        packer.add_line(_as_line(line))
    packer.flush()
    return packer.messages


# Telegram rejects any other link target, so anything else is shown as plain text.
_WEB_SCHEMES = frozenset({"http", "https"})
_WIDEST_TAGS = "<blockquote></blockquote>"
_MAX_CHAR_COST = len("&amp;")
# Below this even one escaped character inside the widest tag pair could not be sent.
_MIN_LIMIT = len(_WIDEST_TAGS) + _MAX_CHAR_COST
# Where a piece may end, best first: before a blank line, after a sentence, after a word.
_PARAGRAPH_END = re.compile(r"\S(?=\s*\n\s*\n)")
_SENTENCE_END = re.compile(r"[.!?…][\"'”’»)\]]*(?=\s)")
_WORD_END = re.compile(r"\S(?=\s)")


def _as_line(line: Line | Block) -> Line:
    return (line,) if isinstance(line, Block) else line


def _is_web_url(href: str) -> bool:
    """Whether Telegram would accept href as a link target."""
    if any(char.isspace() or not char.isprintable() for char in href):
        return False
    try:
        parts = urlsplit(href)
    except ValueError:  # e.g. an unbalanced "[" in the host
        return False
    return parts.scheme.lower() in _WEB_SCHEMES and bool(parts.netloc)


def _render_block(block: Block) -> str:
    rendered = escape(block.text)
    if block.style is not None:
        rendered = f"<{block.style}>{rendered}</{block.style}>"
    if block.href is not None and _is_web_url(block.href):
        rendered = f'<a href="{html.escape(block.href, quote=True)}">{rendered}</a>'
    return rendered


def _render_line(line: Line) -> str:
    return "".join(_render_block(block) for block in line)


def _has_text(line: Line) -> bool:
    return any(block.text.strip() for block in line)


def _size(text: str) -> int:
    """Length in UTF-16 code units: never less than Telegram's count of the same text."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _tag_size(block: Block) -> int:
    """What the block's markup costs on top of its escaped text."""
    return _size(_render_block(replace(block, text="")))


def _fitting_prefix(text: str, budget: int) -> int:
    """How many characters of text fit in budget once escaped."""
    used = 0
    for index, char in enumerate(text):
        used += _size(escape(char))
        if used > budget:
            return index
    return len(text)


def _last_end(pattern: re.Pattern[str], text: str, lowest: int, highest: int) -> int | None:
    """The last end of a pattern match between lowest and highest."""
    # Scan no further than the whitespace after highest, which the lookaheads need to see.
    stop = highest
    while stop < len(text) and text[stop].isspace():
        stop += 1
    found = None
    for match in pattern.finditer(text, 0, stop + 1):
        if match.end() > highest:
            break
        if match.end() >= lowest:
            found = match.end()
    return found


def _cut(text: str, fitting: int, *, hard: bool) -> int | None:
    """Where a piece of text should end when only its first `fitting` characters fit."""
    # A paragraph or sentence end only wins if it keeps half the room; else words are better.
    for pattern, lowest in (
        (_PARAGRAPH_END, fitting // 2),
        (_SENTENCE_END, fitting // 2),
        (_WORD_END, 1),
    ):
        end = _last_end(pattern, text, max(lowest, 1), fitting)
        if end is not None:
            return end
    return fitting if hard and fitting > 0 else None


class _Packer:
    """Fills messages line by line, splitting inside a line only when it fits no message."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.messages: list[str] = []
        self._parts: list[str] = []
        self._used = 0
        self._has_text = False

    def add_line(self, line: Line) -> None:
        """Append a line, starting a new message first if the line fits there whole."""
        if not self._has_text and not _has_text(line):
            return  # blank lines before any text would only push the text down
        rendered = _render_line(line)
        if self._parts and not self._fits("\n" + rendered) and _size(rendered) <= self.limit:
            self.flush()
        self._new_line()
        if self._fits(rendered):
            self._append(rendered, has_text=_has_text(line))
            return
        for block in line:
            self._add_block(block)

    def flush(self) -> None:
        """Close the current message, dropping it if nobody would see any text in it."""
        if self._has_text:
            # Only whitespace outside tags or entities is stripped, so markup stays intact.
            self.messages.append("".join(self._parts).strip())
        self._parts, self._used, self._has_text = [], 0, False

    def _add_block(self, block: Block) -> None:
        if not block.text:
            return
        if _tag_size(block) + _MAX_CHAR_COST > self.limit:
            block = plain(block.text)  # a huge href leaves no room for text: show the text
        if not self._fits(_render_block(block)) and _size(_render_block(block)) <= self.limit:
            self.flush()  # a block that fits a message of its own is never split
        text = block.text
        while text:
            fitting = _fitting_prefix(text, self.limit - self._used - _tag_size(block))
            if fitting == len(text):
                self._append(_render_block(block), has_text=not text.isspace())
                return
            end = _cut(text, fitting, hard=not self._has_text)
            if end is not None:
                self._append(_render_block(replace(block, text=text[:end])), has_text=True)
                # The whitespace at the cut becomes the gap between two messages.
                text = text[end:].lstrip()
                block = replace(block, text=text)
            self.flush()

    def _new_line(self) -> None:
        if not self._parts:
            return
        if self._fits("\n"):
            self._append("\n", has_text=False)
        else:
            self.flush()

    def _fits(self, rendered: str) -> bool:
        return self._used + _size(rendered) <= self.limit

    def _append(self, rendered: str, *, has_text: bool) -> None:
        self._parts.append(rendered)
        self._used += _size(rendered)
        self._has_text = self._has_text or has_text
