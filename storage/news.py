"""What the news commands read: articles by when they appeared, and one vector per article."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.articles import ArticleSummary
from storage.deliveries import SENT
from storage.models import Article, DigestBatch, Passage, PassageVector, Source
from storage.vectors import Matrix, blob_to_vector


def article_vectors(session: Session, *, ids: Sequence[int]) -> dict[int, Matrix]:
    """Each article's unit vector: the mean of its passages' vectors, so a long article is
    compared by all it says, not by its first passage."""
    if not ids:
        return {}
    rows = session.execute(
        select(Passage.article_id, PassageVector.vector, PassageVector.dimension)
        .join(PassageVector, PassageVector.passage_id == Passage.id)
        .where(Passage.article_id.in_(ids))
    ).all()
    sums: dict[int, Matrix] = {}
    for article_id, blob, dimension in rows:
        vector = blob_to_vector(blob, int(dimension))
        sums[article_id] = sums[article_id] + vector if article_id in sums else vector
    return {
        article_id: (total / (np.linalg.norm(total) or 1.0)).astype(np.float32)
        for article_id, total in sums.items()
    }


def articles_arrived_since(
    session: Session, *, since: datetime, limit: int
) -> list[ArticleSummary]:
    """Articles that entered the archive after `since`, newest first, with their text."""
    return _articles(session, Article.ingested_at > since, limit=limit)


def articles_published_since(
    session: Session, *, since: datetime, limit: int
) -> list[ArticleSummary]:
    """Articles published (or, undated, arrived) at or after `since`, newest first."""
    appeared = func.coalesce(Article.published_at, Article.ingested_at)
    return _articles(session, appeared >= since, limit=limit)


def _articles(session: Session, condition: object, *, limit: int) -> list[ArticleSummary]:
    appeared = func.coalesce(Article.published_at, Article.ingested_at)
    rows = session.execute(
        select(Article, Source.name)
        .join(Source, Article.source_id == Source.id)
        .where(condition)  # type: ignore[arg-type]
        .order_by(appeared.desc(), Article.id.desc())
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
            article.text,
        )
        for article, name in rows
    ]


def articles_with_ids(session: Session, *, ids: Sequence[int]) -> list[ArticleSummary]:
    """These articles with their text (in no particular order)."""
    if not ids:
        return []
    return _articles(session, Article.id.in_(ids), limit=len(ids))


def last_digest_at(session: Session, *, chat_id: int) -> datetime | None:
    """When the chat's last digest was wholly sent."""
    return session.scalar(
        select(func.max(DigestBatch.finished_at)).where(
            DigestBatch.chat_id == chat_id, DigestBatch.status == SENT
        )
    )


def article_passages(session: Session, *, article_id: int) -> tuple[list[str], Matrix, int]:
    """An article's passage texts, their vectors (one row each) and the vectors' dimension."""
    rows = session.execute(
        select(Passage.text, PassageVector.vector, PassageVector.dimension)
        .join(PassageVector, PassageVector.passage_id == Passage.id)
        .where(Passage.article_id == article_id)
        .order_by(Passage.position)
    ).all()
    if not rows:
        return [], np.zeros((0, 0), dtype=np.float32), 0
    dimension = int(rows[0].dimension)
    vectors = np.stack([blob_to_vector(row.vector, dimension) for row in rows])
    return [row.text for row in rows], vectors.astype(np.float32), dimension
