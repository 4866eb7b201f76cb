"""Managing sources and ingesting single web pages, for admins."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from knowledge.documents import DocumentError, read_web_page
from knowledge.fetching import Fetcher, FetchError, canonical_url
from knowledge.ingest import ArticlePlan, Ingestor
from storage import sources
from storage.models import Source

MAX_URL_LENGTH = 2000


class SourceError(Exception):
    """A URL cannot be used as a source or an article; the message says why, for a person."""


@dataclass(frozen=True)
class PageResult:
    """What ingesting one page did."""

    plan: ArticlePlan
    stored: bool


def source_url(text: str) -> str:
    """The canonical form of an http(s) URL typed by an admin, or SourceError."""
    text = text.strip()
    if not text:
        raise SourceError("Give a URL, for example https://example.org/news/rss.")
    if len(text) > MAX_URL_LENGTH or any(char.isspace() for char in text):
        raise SourceError("That does not look like a single URL.")
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"}:
        raise SourceError("Only http and https URLs can be sources.")
    if not parts.hostname or ("." not in parts.hostname and parts.hostname != "localhost"):
        raise SourceError("That URL has no valid host name.")
    return canonical_url(text)


def add_source(sessions: sessionmaker[Session], text: str) -> Source:
    """Store a new source for the URL (its kind is learnt when it is first fetched)."""
    url = source_url(text)
    host = (urlsplit(url).hostname or url).removeprefix("www.")
    with sessions.begin() as session:
        try:
            return sources.add_source(session, url=url, name=host, kind="web")
        except sources.DuplicateSourceError as duplicate:
            raise SourceError(f"{url} is already source #{duplicate.source_id}.") from None


def remove_source(sessions: sessionmaker[Session], text: str) -> Source:
    """Stop following the source with this id; its articles stay."""
    if not text.strip().lstrip("#").isdigit():
        raise SourceError("Give the source's number, as /sources lists it, e.g. /removesource 3.")
    source_id = int(text.strip().lstrip("#"))
    with sessions.begin() as session:
        removed = sources.deactivate_source(session, source_id=source_id)
    if removed is None:
        raise SourceError(f"There is no active source #{source_id}; /sources lists them.")
    return removed


async def ingest_page(text: str, *, fetcher: Fetcher, ingestor: Ingestor) -> PageResult:
    """Fetch one article page and store it unless the archive already has it."""
    url = source_url(text)
    try:
        response = await fetcher.fetch_async(url)
        document = read_web_page(response.content, url=canonical_url(response.url))
    except FetchError as error:
        raise SourceError(f"Could not fetch {url}: {error.reason}") from None
    except DocumentError as error:
        raise SourceError(f"Could not read an article at {url}: {error.reason}.") from None
    plan = ingestor.plan(document)
    report = await asyncio.to_thread(ingestor.store, [plan])
    return PageResult(plan, stored=bool(report.stored))
