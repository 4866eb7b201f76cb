"""How long stored titles, source names and URLs may be.

SQLite ignores the lengths in `String(n)`, so they are enforced here, where values are stored,
and by the readers of files, pages and feeds, where they come in: one title of 500,000
characters once made a single answer 614 Telegram messages.
"""

from __future__ import annotations

MAX_TITLE_CHARS = 300  # headlines run to 100 or so; the column holds 500
MAX_NAME_CHARS = 120  # a source's name; the column holds 200
MAX_URL_CHARS = 2000  # the column's size, and what browsers and servers reliably accept


class UrlTooLongError(ValueError):
    """A URL longer than MAX_URL_CHARS: cutting it would point somewhere else, so it is refused."""

    def __init__(self, url: str) -> None:
        super().__init__(
            f"the address is {len(url):,} characters long, over the {MAX_URL_CHARS:,} allowed"
        )


def fitted_title(title: str) -> str:
    """The title, cut on a word boundary with "…" when over MAX_TITLE_CHARS."""
    return shorten(title, MAX_TITLE_CHARS)


def fitted_name(name: str) -> str:
    """A source's name, cut on a word boundary with "…" when over MAX_NAME_CHARS."""
    return shorten(name, MAX_NAME_CHARS)


def checked_url(url: str) -> str:
    """The URL unchanged, or UrlTooLongError when it is over MAX_URL_CHARS."""
    if len(url) > MAX_URL_CHARS:
        raise UrlTooLongError(url)
    return url


def shorten(text: str, limit: int) -> str:
    """The text, cut on a word boundary (unless that loses over half) and ended with "…"."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    if space > limit // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:–—-") + "…"
