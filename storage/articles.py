"""Articles as users see them listed: by id with their text, or the newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, Source


@dataclass(frozen=True)
class ArticleSummary:
    """An article as users see it listed."""

    id: int
    title: str
    source: str
    url: str
    published_at: datetime | None
    ingested_at: datetime
    text: str = ""


def article_summaries(session: Session, *, ids: Sequence[int]) -> list[ArticleSummary]:
    """These articles with their text, in id order."""
    if not ids:
        return []
    rows = session.execute(
        select(Article, Source.name)
        .join(Source, Article.source_id == Source.id)
        .where(Article.id.in_(ids))
        .order_by(Article.id)
    ).all()
    return [_summary(article, name, with_text=True) for article, name in rows]


def _summary(article: Article, source_name: str, *, with_text: bool = False) -> ArticleSummary:
    return ArticleSummary(
        article.id,
        article.title,
        source_name,
        article.url,
        article.published_at,
        article.ingested_at,
        article.text if with_text else "",
    )


def latest_articles(session: Session, *, limit: int) -> list[ArticleSummary]:
    """The most recently published articles (undated ones by when they arrived)."""
    newest = func.coalesce(Article.published_at, Article.ingested_at)
    rows = session.execute(
        select(Article, Source.name)
        .join(Source, Article.source_id == Source.id)
        .order_by(newest.desc(), Article.id.desc())
        .limit(limit)
    ).all()
    return [_summary(article, name) for article, name in rows]
