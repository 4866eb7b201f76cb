"""Reading RSS 0.9x/1.0/2.0 and Atom feeds with feedparser, as far as they can be read."""

from __future__ import annotations

import calendar
import html
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import feedparser

from knowledge.cleaning import bounded, paragraphs_of, unless_future
from knowledge.encodings import xml_encoding
from storage.limits import MAX_URL_CHARS, fitted_name, fitted_title

# No "<" inside a tag: a summary full of unclosed "<" would otherwise be rescanned from every
# one of them to its end, quadratic in its length.
TAG = re.compile(r"<[^<>]+>")
# The root element, perhaps with a namespace prefix (<rss>, <r:rss>, <feed>, <rdf:RDF>).
FEED_ROOT = re.compile(r"<(?:[\w.-]+:)?(?:rss|feed|rdf)[\s>/]")
HEAD_BYTES = 2048
BLOCK_END = re.compile(r"</(p|div|li|h[1-6]|blockquote)>|<br\s*/?>", re.I)
# Feeds mark full text with a content element (content:encoded, Atom content); a short one
# is still only a teaser. A description alone is a summary unless it is long.
CONTENT_WORDS = 40
DESCRIPTION_WORDS = 150


class NotAFeedError(Exception):
    """The document is not a feed (or is too broken to yield any item)."""


@dataclass(frozen=True)
class FeedItem:
    """One entry of a feed: its link, title, date and whatever text the feed carries."""

    url: str
    title: str
    published_at: datetime | None
    paragraphs: list[str]
    has_content: bool = False  # the text came from a content element, not a description

    @property
    def is_full_text(self) -> bool:
        """Whether the feed carries the whole article, not just a summary."""
        words = sum(len(paragraph.split()) for paragraph in self.paragraphs)
        return words >= (CONTENT_WORDS if self.has_content else DESCRIPTION_WORDS)


@dataclass(frozen=True)
class Feed:
    """A parsed feed."""

    title: str
    items: list[FeedItem]
    malformed: bool  # read despite errors; worth a warning, not a failure


def parse_feed(content: bytes, *, url: str, content_type: str = "") -> Feed:
    """Parse a feed's bytes; malformed feeds are read as far as they go."""
    headers = {"content-location": url, "content-type": content_type or "application/xml"}
    parsed = feedparser.parse(content, response_headers=headers)
    entries = list(parsed.get("entries") or [])
    if not entries and (parsed.get("bozo") or not parsed.get("version")):
        raise NotAFeedError("not an RSS or Atom feed")
    items = [item for entry in entries if (item := _item(entry)) is not None]
    title = _text(str(parsed.get("feed", {}).get("title") or ""))
    return Feed(title=fitted_name(title), items=items, malformed=bool(parsed.get("bozo")))


def looks_like_feed(content: bytes, content_type: str) -> bool:
    """A cheap first guess, before parsing: a feed's media type or root element."""
    if any(kind in content_type for kind in ("rss", "atom", "rdf")):
        return True
    encoding = xml_encoding(content)
    if encoding is None:
        head = content[:HEAD_BYTES].decode("latin-1")
    else:  # UTF-16 and UTF-32 take two or four bytes a character
        head = content[: HEAD_BYTES * 4].decode(encoding, errors="ignore")
    return FEED_ROOT.search(head.lower()) is not None


def _item(entry: Any) -> FeedItem | None:
    link = str(entry.get("link") or "").strip()
    if not link or len(link) > MAX_URL_CHARS:
        return None  # nothing to cite, or an address too long to store
    title = _text(str(entry.get("title") or "")) or link
    return FeedItem(
        url=link,
        title=fitted_title(title),
        published_at=_date(entry.get("published_parsed") or entry.get("updated_parsed")),
        paragraphs=_paragraphs(entry),
        has_content=bool(entry.get("content")),
    )


def _paragraphs(entry: Any) -> list[str]:
    """The richest text the entry has: full content if present, else its summary."""
    candidates = [str(part.get("value") or "") for part in entry.get("content") or []]
    candidates.append(str(entry.get("summary") or ""))
    best = max(candidates, key=lambda value: len(_text(value)))
    return bounded(paragraphs_of(_text(BLOCK_END.sub("\n", best), keep_lines=True)))


def _text(markup: str, *, keep_lines: bool = False) -> str:
    text = html.unescape(TAG.sub(" ", markup))
    if keep_lines:
        return "\n".join(" ".join(line.split()) for line in text.split("\n"))
    return " ".join(text.split())


def _date(parsed: Any) -> datetime | None:
    """The entry's date as naive UTC; a future one is a feed bug, so the page's date is used."""
    if not parsed:
        return None
    try:
        moment = datetime.fromtimestamp(calendar.timegm(parsed), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError):
        return None
    return unless_future(moment)
