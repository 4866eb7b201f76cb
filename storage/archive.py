"""Reading and writing the archive: keyword-only functions, one unit of work each."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from storage.conflicts import insert_ignoring_conflicts
from storage.fulltext import FullTextIndex
from storage.limits import checked_url, fitted_name, fitted_title
from storage.models import Article, Passage, PassageVector, Source
from storage.vectors import Matrix, vector_to_blob


@dataclass(frozen=True)
class PassageRecord:
    """A passage with what a citation needs to know about its article."""

    passage_id: int
    article_id: int
    position: int
    text: str
    title: str
    source: str
    url: str
    published_at: datetime | None


@dataclass(frozen=True)
class NewPassage:
    """A passage ready to store: its text, its search terms, its vector and that text's hash."""

    text: str
    terms: str
    text_hash: str
    vector: Matrix


def find_duplicate(session: Session, *, url: str, content_hash: str) -> Article | None:
    """An article already stored under the same URL or with the same content."""
    return session.scalars(
        select(Article).where(or_(Article.url == url, Article.content_hash == content_hash))
    ).first()


def has_article_at(session: Session, *, url: str) -> bool:
    """Whether an article is stored under this URL."""
    return session.scalar(select(Article.id).where(Article.url == url)) is not None


def source_named(session: Session, *, name: str, kind: str) -> Source:
    """The source with this name and kind, created if it is new."""
    name = fitted_name(name)
    # A unique key covers (name, kind) of sources without a URL, so two ingests racing to
    # add the same outlet both succeed and share one row: the second insert is skipped.
    named = select(Source).where(Source.name == name, Source.kind == kind, Source.url.is_(None))
    source = session.scalars(named).first()
    if source is None:
        session.execute(insert_ignoring_conflicts(session, Source).values(name=name, kind=kind))
        source = session.scalars(named).one()
    return source


def article_source(session: Session, *, source_id: int | None, name: str, kind: str) -> Source:
    """The source an article is filed under: the given one, or one named after its outlet."""
    if source_id is not None:
        source = session.get(Source, source_id)
        if source is None:
            raise LookupError(f"source #{source_id} does not exist")
        return source
    return source_named(session, name=name, kind=kind)


def add_article(
    session: Session,
    *,
    source: Source,
    url: str,
    title: str,
    published_at: datetime | None,
    text: str,
    content_hash: str,
    minhash: bytes | None,
    passages: Sequence[NewPassage],
    model: str,
    fulltext: FullTextIndex,
) -> tuple[Article, list[int]] | None:
    """Store an article with its passages, vectors and search terms; returns it and the
    passage ids, or None when its URL or text is already stored (by another writer since
    the caller looked, say: that is "already there", not an error)."""
    article_id = session.scalar(
        insert_ignoring_conflicts(session, Article)
        .values(
            source_id=source.id,
            url=checked_url(url),
            title=fitted_title(title),
            published_at=published_at,
            text=text,
            content_hash=content_hash,
            minhash=minhash,
        )
        .returning(Article.id)
    )
    if article_id is None:
        return None
    stored = [
        Passage(
            article_id=article_id,
            position=position,
            text=passage.text,
            vector=PassageVector(
                model=model,
                dimension=int(passage.vector.shape[-1]),
                text_hash=passage.text_hash,
                vector=vector_to_blob(passage.vector),
            ),
        )
        for position, passage in enumerate(passages)
    ]
    session.add_all(stored)
    session.flush()
    ids = [passage.id for passage in stored]
    fulltext.add(session, zip(ids, (passage.terms for passage in passages), strict=True))
    return session.get_one(Article, article_id), ids


def passages_by_id(session: Session, *, ids: Sequence[int]) -> dict[int, PassageRecord]:
    """Passages with their article's citation details, keyed by passage id."""
    if not ids:
        return {}
    # The columns a citation needs, not whole rows: an article's body comes after them in
    # its row and spans overflow pages that SQLite would read for every passage, and no ORM
    # objects are built for rows only read.
    rows = session.execute(
        select(
            Passage.id,
            Passage.article_id,
            Passage.position,
            Passage.text,
            Article.title,
            Source.name,
            Article.url,
            Article.published_at,
        )
        .join(Article, Passage.article_id == Article.id)
        .join(Source, Article.source_id == Source.id)
        .where(Passage.id.in_(ids))
    ).all()
    return {
        row.id: PassageRecord(
            passage_id=row.id,
            article_id=row.article_id,
            position=row.position,
            text=row.text,
            title=row.title,
            source=row.name,
            url=row.url,
            published_at=row.published_at,
        )
        for row in rows
    }


def embedding_models(session: Session) -> list[str]:
    """The models that stored vectors were made with."""
    # The model alone is read from its index; with the dimension too, every row of the table
    # is read (seconds of every start at a million passages).
    return [str(model) for model in session.scalars(select(PassageVector.model).distinct())]


def article_count(session: Session) -> int:
    """How many articles the archive holds."""
    return int(session.scalar(select(func.count(Article.id))) or 0)


def passages_after(session: Session, *, after_id: int, limit: int) -> list[tuple[int, str]]:
    """The next `limit` passages (id and text) with ids above after_id, in id order."""
    rows = session.execute(
        select(Passage.id, Passage.text)
        .where(Passage.id > after_id)
        .order_by(Passage.id)
        .limit(limit)
    ).all()
    return [(int(row.id), str(row.text)) for row in rows]


def replace_vectors(session: Session, *, ids: Sequence[int], vectors: Matrix, model: str) -> None:
    """Overwrite the vectors of these passages with ones made by another model."""
    dimension = int(vectors.shape[-1])
    session.execute(
        update(PassageVector),
        [
            {
                "passage_id": passage_id,
                "model": model,
                "dimension": dimension,
                "vector": vector_to_blob(np.asarray(vector)),
            }
            for passage_id, vector in zip(ids, vectors, strict=True)
        ],
    )


def passage_count(session: Session) -> int:
    """How many passages the archive holds."""
    return int(session.scalar(select(func.count(Passage.id))) or 0)


def article_minhashes(session: Session) -> Iterator[bytes]:
    """The MinHash signature of every article that has one, streamed: at a million articles
    they take 512 MB, which a list of them would hold twice while the index is built."""
    found = session.scalars(
        select(Article.minhash)
        .where(Article.minhash.is_not(None))
        .execution_options(yield_per=10_000)
    )
    return (value for value in found if value is not None)
