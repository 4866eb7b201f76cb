"""Typed SQLAlchemy models: sources, articles, passages and their vectors."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import text as sa_text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    """Naive UTC now: SQLite has no time zones, so every stored time is UTC."""
    return datetime.now(UTC).replace(tzinfo=None)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment: naive UTC in Python on every engine, ``timestamp with time zone`` on
    PostgreSQL.

    PostgreSQL then holds instants, right whatever the server's or session's time zone,
    while the application keeps the one convention SQLite (no time zones) allows:
    naive means UTC. Handing it aware datetimes back on one engine only would make
    every comparison with ``utcnow()`` raise there.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        moment = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return moment if dialect.name == "postgresql" else moment.replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if not isinstance(value, datetime) or value.tzinfo is None:
            return value  # type: ignore[no-any-return]
        return value.astimezone(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    """Declarative base for every Parley table."""

    type_annotation_map = {datetime: UtcDateTime}  # noqa: RUF012 (SQLAlchemy reads it once)


class Source(Base):
    """Where articles come from: a news outlet, a feed, a page, or local files."""

    __tablename__ = "sources"
    # Outlets and local files are found by name; a source with a URL is found by its URL.
    __table_args__ = (
        Index(
            "uq_sources_name_kind_without_url",
            "name",
            "kind",
            unique=True,
            sqlite_where=sa_text("url IS NULL"),
            postgresql_where=sa_text("url IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20))
    url: Mapped[str | None] = mapped_column(String(2000), unique=True, default=None)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # Polling state of web sources: conditional GET validators and failure backoff.
    etag: Mapped[str | None] = mapped_column(String(500), default=None)
    last_modified: Mapped[str | None] = mapped_column(String(100), default=None)
    failures: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(500), default=None)
    last_polled_at: Mapped[datetime | None] = mapped_column(default=None)
    next_poll_at: Mapped[datetime | None] = mapped_column(default=None)

    articles: Mapped[list[Article]] = relationship(back_populates="source")


class Article(Base):
    """One news article: its cleaned body and where it came from."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(2000), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    published_at: Mapped[datetime | None] = mapped_column(default=None, index=True)
    text: Mapped[str] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    fingerprint: Mapped[int | None] = mapped_column(BigInteger, default=None)  # unused since 0012
    # MinHash signature (knowledge.fingerprints): NUM_PERM little-endian uint32; None when the
    # text is too short to fingerprint, so never a near-duplicate.
    minhash: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)
    ingested_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    source: Mapped[Source] = relationship(back_populates="articles")
    passages: Mapped[list[Passage]] = relationship(
        back_populates="article", cascade="all, delete-orphan", order_by="Passage.position"
    )


class Passage(Base):
    """A few consecutive sentences of an article: the unit of retrieval."""

    __tablename__ = "passages"
    __table_args__ = (
        UniqueConstraint("article_id", "position", name="uq_passages_article_position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    article: Mapped[Article] = relationship(back_populates="passages")
    vector: Mapped[PassageVector | None] = relationship(
        back_populates="passage", cascade="all, delete-orphan"
    )


class PassageVector(Base):
    """A passage's embedding: little-endian float32 bytes, with the model that made them."""

    __tablename__ = "passage_vectors"

    passage_id: Mapped[int] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(500), index=True)
    dimension: Mapped[int] = mapped_column(Integer)
    text_hash: Mapped[str] = mapped_column(String(64))
    vector: Mapped[bytes] = mapped_column(LargeBinary)

    passage: Mapped[Passage] = relationship(back_populates="vector")


class SentenceVectors(Base):
    """A passage's sentences (JSON) and their vectors, its article's title's first, as
    8-bit codes with per-row scales (see storage.sentence_vectors); and the sentences' token
    vectors alike, projected on the axes `token_axes` names, `token_counts` (JSON) a sentence."""

    __tablename__ = "sentence_vectors"

    passage_id: Mapped[int] = mapped_column(
        ForeignKey("passages.id", ondelete="CASCADE"), primary_key=True
    )
    model: Mapped[str] = mapped_column(String(500))
    dimension: Mapped[int] = mapped_column(Integer)
    sentences: Mapped[str] = mapped_column(Text)
    vectors: Mapped[bytes] = mapped_column(LargeBinary)
    token_axes: Mapped[str | None] = mapped_column(String(200), default=None)
    token_counts: Mapped[str | None] = mapped_column(Text, default=None)
    tokens: Mapped[bytes | None] = mapped_column(LargeBinary, default=None)


class Subscription(Base):
    """A chat that receives digests; kept when it unsubscribes or blocks the bot."""

    __tablename__ = "subscriptions"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    chat_type: Mapped[str] = mapped_column(String(20))
    title: Mapped[str | None] = mapped_column(String(300), default=None)
    active: Mapped[bool] = mapped_column(default=True, index=True)
    subscribed_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(default=None)
    end_reason: Mapped[str | None] = mapped_column(String(20), default=None)


class Delivery(Base):
    """One article's place in one subscriber's digest: pending until the digest is sent."""

    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("chat_id", "article_id", name="uq_deliveries_chat_article"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("subscriptions.chat_id", ondelete="CASCADE")
    )
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(default=None)
    # The digest that carries it, once one has been rendered for it.
    batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("digest_batches.id", ondelete="SET NULL"), default=None, index=True
    )


class DigestBatch(Base):
    """One digest on its way to one chat: its rendered parts, and how many Telegram accepted,
    so that a digest interrupted after some parts resumes with the next part."""

    __tablename__ = "digest_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("subscriptions.chat_id", ondelete="CASCADE"), index=True
    )
    # JSON list of {"text": ..., "html": bool}: exactly what is sent, so a resumed digest
    # continues with the same parts however the articles or the rendering change meanwhile.
    parts: Mapped[str] = mapped_column(Text)
    parts_sent: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(10), default="sending", index=True)
    # The last error Telegram gave for it, so the admins hear of each problem once.
    problem: Mapped[str | None] = mapped_column(String(500), default=None)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(default=None)


class Topic(Base):
    """A thread a chat follows: its digests carry only articles about one of its topics.

    The topic's embedding is stored with it (as passage vectors are), so that ingest can
    match every new article against every topic without running the model again.
    """

    __tablename__ = "topics"
    __table_args__ = (UniqueConstraint("chat_id", "normalised", name="uq_topics_chat_text"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    chat_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("subscriptions.chat_id", ondelete="CASCADE"), index=True
    )
    text: Mapped[str] = mapped_column(String(200))
    # Case, spacing and punctuation folded: "Prisoner  exchange!" is "prisoner exchange".
    normalised: Mapped[str] = mapped_column(String(200))
    model: Mapped[str] = mapped_column(String(500))
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DigestPace(Base):
    """A chat that takes its digests as a daily or weekly summary; immediate chats have none.

    `next_due_at` is the next summary's moment in UTC, worked out from the chat's local hour
    and time zone, so the schedule survives restarts and needs one minute-tick to serve it.
    """

    __tablename__ = "digest_paces"

    chat_id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    every: Mapped[str] = mapped_column(String(10))  # "daily" or "weekly"
    weekday: Mapped[int | None] = mapped_column(Integer, default=None)  # 0 is Monday
    minute_of_day: Mapped[int] = mapped_column(Integer)  # local time, minutes after midnight
    time_zone: Mapped[str] = mapped_column(String(64))
    next_due_at: Mapped[datetime] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class Leader(Base):
    """Who leads a kind of work shared by several workers, and until when (a lease).

    The time is the database's clock in Unix seconds, so workers on machines whose clocks
    disagree still agree on when a lease has run out."""

    __tablename__ = "leaders"

    name: Mapped[str] = mapped_column(String(50), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[float] = mapped_column(Float)
