"""Web sources: adding feeds and pages, polling them, and ingesting single pages by URL."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from sqlalchemy.orm import Session, sessionmaker

from knowledge.documents import Document, DocumentError, read_web_page
from knowledge.ingest import ArticlePlan, DigestRule, Ingestor, IngestReport
from storage import archive, sources
from storage.limits import MAX_URL_CHARS
from storage.models import utcnow
from storage.source_listing import RemovedSource, stop_following
from web.feeds import Feed, FeedItem, NotAFeedError, looks_like_feed, parse_feed
from web.fetching import FetchedResponse, Fetcher, FetchError, canonical_url

log = logging.getLogger(__name__)
PAGE_FETCHES_AT_ONCE = 4
MAX_BACKOFF = timedelta(days=1)


class SourceError(Exception):
    """A URL cannot be used as a source or an article; the message says why, for a person."""


@dataclass(frozen=True)
class PageResult:
    """What ingesting one page did."""

    plan: ArticlePlan
    stored: bool


@dataclass(frozen=True)
class SourceCheck:
    """What adding or polling a source found."""

    source_id: int
    name: str
    kind: str
    found: int  # articles the source offered
    stored: list[int] = field(default_factory=list)  # ids of the new ones
    error: str | None = None
    deactivated: bool = False


@dataclass(frozen=True)
class _Reading:
    kind: str  # "feed" or "page"
    name: str
    documents: list[Document]
    response: FetchedResponse


def source_url(text: str) -> str:
    """The canonical form of an http(s) URL typed by an admin, or SourceError."""
    text = text.strip()
    if not text:
        raise SourceError("Give a URL, for example https://example.org/news/rss.")
    if len(text) > MAX_URL_CHARS:
        raise SourceError(f"That URL is longer than {MAX_URL_CHARS:,} characters.")
    if any(char.isspace() for char in text):
        raise SourceError("That does not look like a single URL.")
    parts = urlsplit(text)
    if parts.scheme.lower() not in {"http", "https"}:
        raise SourceError("Only http and https URLs can be sources.")
    if not parts.hostname or ("." not in parts.hostname and parts.hostname != "localhost"):
        raise SourceError("That URL has no valid host name.")
    try:
        return canonical_url(text)
    except ValueError:
        raise SourceError("That URL is malformed.") from None


class SourceManager:
    """Adds, polls and removes web sources, storing what they publish."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        fetcher: Fetcher,
        ingestor: Ingestor,
        poll_seconds: float,
        backfill_hours: float,
        max_failures: int,
    ) -> None:
        self._sessions = sessions
        self._fetcher = fetcher
        self._ingestor = ingestor
        self._poll_seconds = poll_seconds
        self._backfill = timedelta(hours=backfill_hours)
        self._max_failures = max_failures

    async def add(self, text: str) -> SourceCheck:
        """Detect the URL's kind, fetch it once, store the source and its articles."""
        url = source_url(text)
        with self._sessions() as session:
            existing = sources.source_with_url(session, url=url)
            if existing is not None and existing.active:
                raise SourceError(f"{url} is already source #{existing.id}.")
        reading = await self._read(url, kind=None, source_id=None)
        with self._sessions.begin() as session:
            source = sources.add_source(
                session,
                url=url,
                name=reading.name,
                kind=reading.kind,
                etag=reading.response.etag,
                last_modified=reading.response.last_modified,
            )
            source_id, name = source.id, source.name
        documents = [_filed_under(document, source_id) for document in reading.documents]
        cutoff = utcnow() - self._backfill
        report = await self._store(documents, digest=lambda plan: _published_after(plan, cutoff))
        return SourceCheck(source_id, name, reading.kind, len(documents), report.article_ids)

    async def poll(self, source_id: int) -> SourceCheck | None:
        """Fetch the source (conditionally) and store what is new; None when not due."""
        with self._sessions() as session:
            source = sources.find_source(session, source_id=source_id)
            if source is None or not source.active or source.url is None:
                return None
            if source.next_poll_at is not None and source.next_poll_at > utcnow():
                return None  # backing off after failures
            url, kind, name = source.url, source.kind, source.name
            etag, modified, failures = source.etag, source.last_modified, source.failures
        try:
            reading = await self._read(
                url, kind=kind, source_id=source_id, etag=etag, last_modified=modified
            )
        except SourceError as error:
            return self._failed(source_id, name, kind, str(error), failures)
        report = await self._store(reading.documents, digest=lambda plan: True)
        with self._sessions.begin() as session:
            sources.record_poll_success(
                session,
                source_id=source_id,
                etag=reading.response.etag,
                last_modified=reading.response.last_modified,
            )
        return SourceCheck(source_id, name, kind, len(reading.documents), report.article_ids)

    def remove(self, text: str) -> RemovedSource:
        """Stop following the source with this id; its articles stay."""
        number = text.strip().lstrip("#")
        if not number.isdigit():
            raise SourceError(
                "Give the source's number, as /sources lists it, e.g. /removesource 3."
            )
        with self._sessions.begin() as session:
            removed = stop_following(session, source_id=int(number))
        if removed is None:
            raise SourceError(f"There is no active source #{number}; /sources lists them.")
        return removed

    def polled_source_ids(self) -> list[int]:
        """The sources to poll."""
        with self._sessions() as session:
            return sources.active_web_source_ids(session)

    async def ingest_page(self, text: str) -> PageResult:
        """Fetch one article page and store it unless the archive already has it."""
        plan = await self.preview_page(text)
        report = await self._store_plans([plan])
        return PageResult(plan, stored=bool(report.stored))

    async def preview_page(self, text: str) -> ArticlePlan:
        """What ingesting the page at this URL would store."""
        url = source_url(text)
        response = await self._fetch(url)
        try:
            document = await _read_page(response.content, url=canonical_url(response.url))
        except DocumentError as error:
            raise SourceError(f"Could not read an article at {url}: {error.reason}.") from None
        return await asyncio.to_thread(self._ingestor.plan, document)

    async def _read(
        self,
        url: str,
        *,
        kind: str | None,
        source_id: int | None,
        etag: str | None = None,
        last_modified: str | None = None,
    ) -> _Reading:
        response = await self._fetch(url, etag=etag, last_modified=last_modified)
        if response.not_modified:
            return _Reading(kind or "feed", "", [], response)
        if kind == "feed" or (
            kind is None and looks_like_feed(response.content, response.content_type)
        ):
            try:
                feed = await asyncio.to_thread(
                    parse_feed,
                    response.content,
                    url=response.url,
                    content_type=response.content_type,
                )
            except NotAFeedError:
                raise SourceError(f"{url} is not an RSS or Atom feed any more.") from None
            documents = await self._feed_documents(feed, url, source_id)
            return _Reading("feed", feed.title or _host(url), documents, response)
        try:
            document = await _read_page(response.content, url=canonical_url(response.url))
        except DocumentError:
            raise SourceError(f"{url} is neither a feed nor an article page.") from None
        return _Reading("page", document.source, [_filed_under(document, source_id)], response)

    async def _fetch(
        self, url: str, *, etag: str | None = None, last_modified: str | None = None
    ) -> FetchedResponse:
        try:
            return await self._fetcher.fetch_async(url, etag=etag, last_modified=last_modified)
        except FetchError as error:
            raise SourceError(f"Could not fetch {url}: {error.reason}") from None

    async def _feed_documents(self, feed: Feed, url: str, source_id: int | None) -> list[Document]:
        if feed.malformed:
            log.warning("Feed %s is malformed; read %d items anyway", url, len(feed.items))
        gate = asyncio.Semaphore(PAGE_FETCHES_AT_ONCE)
        name = feed.title or _host(url)

        async def read(item: FeedItem) -> Document | None:
            async with gate:
                return await self._item_document(item, name, source_id)

        found = await asyncio.gather(*(read(item) for item in feed.items))
        return [document for document in found if document is not None]

    async def _item_document(
        self, item: FeedItem, feed_name: str, source_id: int | None
    ) -> Document | None:
        """The item as an article: its own text if full, else the linked page's."""
        try:
            url = canonical_url(item.url)
        except ValueError:
            return None
        with self._sessions() as session:
            if archive.has_article_at(session, url=url):
                return None  # already stored: do not fetch its page again
        paragraphs, published = item.paragraphs, item.published_at
        if not item.is_full_text:
            try:
                page = await _read_page((await self._fetch(item.url)).content, url=url)
                paragraphs, published = page.paragraphs, published or page.published_at
            except (SourceError, DocumentError) as error:
                log.info("Using the feed's summary of %s: %s", url, error)
        if not paragraphs:
            return None
        return Document(
            url=url,
            title=item.title,
            published_at=published,
            source=feed_name,
            paragraphs=paragraphs,
            source_kind="feed",
            source_id=source_id,
        )

    async def _store(self, documents: list[Document], *, digest: DigestRule) -> IngestReport:
        plans = await asyncio.to_thread(lambda: [self._ingestor.plan(doc) for doc in documents])
        return await self._store_plans(plans, digest=digest)

    async def _store_plans(
        self, plans: list[ArticlePlan], *, digest: DigestRule | None = None
    ) -> IngestReport:
        # Embedding is CPU work: keep it off the event loop.
        return await asyncio.to_thread(self._ingestor.store, plans, None, digest=digest)

    def _failed(
        self, source_id: int, name: str, kind: str, reason: str, failures: int
    ) -> SourceCheck:
        delay = min(timedelta(seconds=self._poll_seconds * 2**failures), MAX_BACKOFF)
        with self._sessions.begin() as session:
            deactivated = sources.record_poll_failure(
                session,
                source_id=source_id,
                reason=reason,
                retry_at=utcnow() + delay,
                max_failures=self._max_failures,
            )
        log.warning("Polling source #%d failed (%d in a row): %s", source_id, failures + 1, reason)
        return SourceCheck(source_id, name, kind, 0, error=reason, deactivated=deactivated)


async def _read_page(content: bytes, *, url: str) -> Document:
    # Extracting an article from a page is CPU work in proportion to its size (seconds for a
    # large one): off the event loop, the bot keeps answering other chats meanwhile.
    return await asyncio.to_thread(read_web_page, content, url=url)


def _filed_under(document: Document, source_id: int | None) -> Document:
    return document if source_id is None else replace(document, source_id=source_id)


def _published_after(plan: ArticlePlan, cutoff: datetime) -> bool:
    published = plan.document.published_at
    return published is not None and published >= cutoff


def _host(url: str) -> str:
    return (urlsplit(url).hostname or url).removeprefix("www.")
