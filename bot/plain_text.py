"""A Telegram HTML message as plain text, for when Telegram refuses its markup."""

from __future__ import annotations

from html.parser import HTMLParser

from bot.rendering import MAX_MESSAGE_LENGTH


def html_to_plain(text: str) -> str:
    """The visible text of the message; a link keeps its address in brackets after it.

    Lenient on purpose: this is the fallback for markup Telegram could not parse.
    """
    reader = _TextReader()
    reader.feed(text)
    reader.close()
    while reader.open_links():  # a link never closed still shows where it led
        reader.handle_endtag("a")
    return "".join(reader.pieces)


def split_plain(text: str, limit: int = MAX_MESSAGE_LENGTH) -> list[str]:
    """The text in pieces of at most `limit` UTF-16 units (Telegram's count), cut between
    lines where it can and inside a line only when one line alone is too long."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for line in text.split("\n"):
        for chunk in _cut(line, limit):
            cost = _size(chunk) + (1 if current else 0)
            if current and size + cost > limit:
                pieces.append("\n".join(current))
                current, size, cost = [], 0, _size(chunk)
            current.append(chunk)
            size += cost
    pieces.append("\n".join(current))
    return [piece for piece in pieces if piece.strip()]


class _TextReader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self._links: list[tuple[str, int]] = []  # href, where its text starts

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            self._links.append((dict(attrs).get("href") or "", len(self.pieces)))

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._links:
            href, start = self._links.pop()
            shown = "".join(self.pieces[start:]).strip()
            if href and href != shown:
                self.pieces.append(f" ({href})")

    def handle_data(self, data: str) -> None:
        self.pieces.append(data)

    def open_links(self) -> bool:
        return bool(self._links)


def _size(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _cut(line: str, limit: int) -> list[str]:
    """The line in chunks that each fit, never splitting a character."""
    chunks, start, size = [], 0, 0
    for index, char in enumerate(line):
        width = _size(char)
        if size + width > limit:
            chunks.append(line[start:index])
            start, size = index, 0
        size += width
    chunks.append(line[start:])
    return chunks
