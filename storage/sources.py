"""News sources that admins manage: adding, listing, polling state and removal."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.conflicts import insert_ignoring_conflicts
from storage.limits import checked_url, fitted_name
from storage.models import Source, utcnow

# Listed in plain SQL, in one place for the bot and for `parley sources list` (which must not
# wait for SQLAlchemy's import).
from storage.source_listing import SourceSummary as SourceSummary
from storage.source_listing import active_sources as active_sources


class DuplicateSourceError(Exception):
    """The URL is already an active source."""

    def __init__(self, source_id: int) -> None:
        super().__init__(f"already source #{source_id}")
        self.source_id = source_id


def source_with_url(session: Session, *, url: str) -> Source | None:
    """The source (active or not) at this URL."""
    return session.scalars(select(Source).where(Source.url == url)).first()


def add_source(
    session: Session,
    *,
    url: str,
    name: str,
    kind: str,
    etag: str | None = None,
    last_modified: str | None = None,
) -> Source:
    """Add a web source, or reactivate it if it was removed; refuse an active duplicate.
    UrlTooLongError for a URL over the stored limit; a long name is shortened."""
    url, name = checked_url(url), fitted_name(name)
    source = source_with_url(session, url=url)
    if source is None:
        # Added inactive and then activated below like a removed one; if another request
        # added the URL since the look-up, its row is the one found, and refused below.
        session.execute(
            insert_ignoring_conflicts(session, Source).values(
                url=url, name=name, kind=kind, active=False
            )
        )
        source = session.scalars(select(Source).where(Source.url == url)).one()
    if source.active:
        raise DuplicateSourceError(source.id)
    source.active, source.name, source.kind = True, name, kind
    source.etag, source.last_modified = etag, last_modified
    source.failures, source.last_error, source.next_poll_at = 0, None, None
    source.last_polled_at = utcnow()
    session.flush()
    return source


def find_source(session: Session, *, source_id: int) -> Source | None:
    """The source with this id."""
    return session.get(Source, source_id)


def active_web_source_ids(session: Session) -> list[int]:
    """Active sources that are polled (feeds and pages, not local files)."""
    return list(
        session.scalars(
            select(Source.id)
            .where(Source.active, Source.url.is_not(None), Source.kind.in_(["feed", "page"]))
            .order_by(Source.id)
        )
    )


def record_poll_success(
    session: Session, *, source_id: int, etag: str | None, last_modified: str | None
) -> None:
    """A poll worked: keep the validators for the next conditional GET, clear failures."""
    source = session.get(Source, source_id)
    if source is None:
        return
    source.etag, source.last_modified = etag, last_modified
    source.failures, source.last_error = 0, None
    source.last_polled_at, source.next_poll_at = utcnow(), None


def record_poll_failure(
    session: Session, *, source_id: int, reason: str, retry_at: datetime, max_failures: int
) -> bool:
    """A poll failed: back off, and deactivate after max_failures; True when deactivated."""
    source = session.get(Source, source_id)
    if source is None:
        return False
    source.failures += 1
    source.last_error = reason[:500]
    source.last_polled_at, source.next_poll_at = utcnow(), retry_at
    if source.failures >= max_failures:
        source.active = False
        return True
    return False
