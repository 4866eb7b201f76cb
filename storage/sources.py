"""News sources that admins manage, and what the archive holds from them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, Source


@dataclass(frozen=True)
class SourceSummary:
    """A source as users see it listed."""

    id: int
    name: str
    kind: str
    url: str | None
    articles: int


@dataclass(frozen=True)
class ArticleSummary:
    """An article as users see it listed."""

    id: int
    title: str
    source: str
    url: str
    published_at: datetime | None
    ingested_at: datetime


class DuplicateSourceError(Exception):
    """The URL is already an active source."""

    def __init__(self, source_id: int) -> None:
        super().__init__(f"already source #{source_id}")
        self.source_id = source_id


def add_source(session: Session, *, url: str, name: str, kind: str) -> Source:
    """Add a web source, or reactivate it if it was removed; refuse an active duplicate."""
    existing = session.scalars(select(Source).where(Source.url == url)).first()
    if existing is not None:
        if existing.active:
            raise DuplicateSourceError(existing.id)
        existing.active = True
        existing.kind = kind
        return existing
    source = Source(url=url, name=name, kind=kind)
    session.add(source)
    session.flush()
    return source


def deactivate_source(session: Session, *, source_id: int) -> Source | None:
    """Stop following a source; its articles stay in the archive. None when there is none."""
    source = session.get(Source, source_id)
    if source is None or not source.active:
        return None
    source.active = False
    return source


def active_sources(session: Session) -> list[SourceSummary]:
    """Every active source with how many articles it has given."""
    rows = session.execute(
        select(Source, func.count(Article.id))
        .outerjoin(Article, Article.source_id == Source.id)
        .where(Source.active)
        .group_by(Source.id)
        .order_by(Source.id)
    ).all()
    return [
        SourceSummary(source.id, source.name, source.kind, source.url, int(count))
        for source, count in rows
    ]


def latest_articles(session: Session, *, limit: int) -> list[ArticleSummary]:
    """The most recently published articles (undated ones by when they arrived)."""
    newest = func.coalesce(Article.published_at, Article.ingested_at)
    rows = session.execute(
        select(Article, Source.name)
        .join(Source, Article.source_id == Source.id)
        .order_by(newest.desc(), Article.id.desc())
        .limit(limit)
    ).all()
    return [
        ArticleSummary(
            article.id,
            article.title,
            name,
            article.url,
            article.published_at,
            article.ingested_at,
        )
        for article, name in rows
    ]
