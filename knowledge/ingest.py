"""Ingestion: documents become deduplicated articles with passages, vectors and terms."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.orm import Session, sessionmaker

from knowledge import topics
from knowledge.chunking import chunk_passages, passage_sentences
from knowledge.cleaning import bounded, comparable
from knowledge.documents import Document, DocumentError, find_files, read_document
from knowledge.embedding import Embedder
from knowledge.fingerprints import FingerprintIndex, minhash
from knowledge.terms import index_terms
from knowledge.token_vectors import TokenAxes, axes_for
from storage import archive, changes, sentence_vectors
from storage.fulltext import FullTextIndex
from storage.vectors import Matrix, VectorIndex

if TYPE_CHECKING:
    from knowledge.catch_up import ArchiveFollower

log = logging.getLogger(__name__)
EMBED_BATCH = 64


def content_hash(text: str) -> str:
    """SHA-256 of the text with case, punctuation and spacing folded away."""
    return hashlib.sha256(comparable(text).encode()).hexdigest()


def text_hash(text: str) -> str:
    """SHA-256 of the exact text, to tell whether a stored vector still matches it."""
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class ArticlePlan:
    """What ingesting one document would store."""

    document: Document
    passages: list[str]
    content_hash: str
    fingerprint: bytes | None  # MinHash signature, for near-duplicates

    def preview(self) -> dict[str, object]:
        """The article as `parley ingest --dry-run --json` shows it."""
        return {
            "url": self.document.url,
            "title": self.document.title,
            "date": published_label(self.document.published_at),
            "source": self.document.source,
            "text": self.document.text,
            "passages": len(self.passages),
        }


@dataclass
class IngestReport:
    """What one ingest run did, article by article."""

    stored: list[ArticlePlan] = field(default_factory=list)
    article_ids: list[int] = field(default_factory=list)  # of the stored articles, in order
    duplicates: list[ArticlePlan] = field(default_factory=list)


Progress = Callable[[int], None]
DigestRule = Callable[[ArticlePlan], bool]  # whether a newly stored article goes in digests


class Ingestor:
    """Plans and stores articles; one transaction per article, vectors kept in step."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        embedder: Embedder,
        fulltext: FullTextIndex,
        vectors: VectorIndex,
        fingerprints: FingerprintIndex,
        max_bytes: int,
        follower: ArchiveFollower | None = None,
        token_axes: TokenAxes | None = None,
    ) -> None:
        self._sessions = sessions
        self._token_axes = token_axes or axes_for(embedder.model_id, embedder.dimension)
        self._follower = follower
        self._fingerprints = fingerprints
        self._embedder = embedder
        self._fulltext = fulltext
        self._vectors = vectors
        self._max_bytes = max_bytes

    def plan(self, document: Document) -> ArticlePlan:
        """Cut a document into passages sized for the model; an article longer than the
        per-article bounds (cleaning.MAX_ARTICLE_CHARS, MAX_PARAGRAPHS) keeps its beginning."""
        paragraphs = bounded(document.paragraphs)
        if paragraphs != document.paragraphs:
            document = replace(document, paragraphs=paragraphs)
        budget = max(16, self._embedder.max_tokens - 16)
        passages = chunk_passages(
            document.paragraphs, max_tokens=budget, count_tokens=self._embedder.count_tokens
        )
        return ArticlePlan(document, passages, content_hash(document.text), minhash(document.text))

    def plan_files(self, paths: Iterable[str]) -> tuple[list[ArticlePlan], list[DocumentError]]:
        """Read and plan every file under the paths, collecting what cannot be read."""
        plans: list[ArticlePlan] = []
        problems: list[DocumentError] = []
        for found in find_files(paths):
            if isinstance(found, DocumentError):
                problems.append(found)
                continue
            try:
                plans.append(self.plan(read_document(found, max_bytes=self._max_bytes)))
            except DocumentError as error:
                problems.append(error)
            except OSError as error:
                problems.append(DocumentError(str(found), f"cannot be read ({error.strerror})"))
        return plans, problems

    def store(
        self,
        plans: Sequence[ArticlePlan],
        progress: Progress | None = None,
        *,
        digest: DigestRule | None = None,
    ) -> IngestReport:
        """Embed and store the plans that are new; duplicates are counted, not stored.
        Articles the digest rule accepts are queued for subscribers in the same transaction,
        so a crash can never store an article and lose its digest."""
        report = IngestReport()
        fresh = [plan for plan in plans if not self._is_stored(plan)]
        report.duplicates = [plan for plan in plans if plan not in fresh]
        for batch in _batches(fresh, EMBED_BATCH):
            embedded_batch = embed_plans(self._embedder, batch, self._token_axes)
            for plan, embedded in zip(batch, embedded_batch, strict=True):
                article_id = self._store_one(plan, embedded, digest)
                if article_id is not None:
                    report.stored.append(plan)
                    report.article_ids.append(article_id)
                else:
                    report.duplicates.append(plan)
                if progress:
                    progress(len(plan.passages))
        return report

    def _is_stored(self, plan: ArticlePlan, session: Session | None = None) -> bool:
        """Whether the archive has the article: same URL, same text, or nearly the same text."""
        if self._fingerprints.has_near_duplicate(plan.fingerprint):
            return True
        if session is None:
            with self._sessions() as own_session:
                return self._is_stored(plan, own_session)
        found = archive.find_duplicate(
            session, url=plan.document.url, content_hash=plan.content_hash
        )
        return found is not None

    def _store_one(
        self, plan: ArticlePlan, embedded: EmbeddedPlan, digest: DigestRule | None
    ) -> int | None:
        matrix = embedded.passages
        document = plan.document
        with self._sessions.begin() as session:
            # Checked again inside the transaction: the batch itself may repeat an article.
            if self._is_stored(plan, session):
                return None
            source = archive.article_source(
                session,
                source_id=document.source_id,
                name=document.source,
                kind=document.source_kind,
            )
            stored = archive.add_article(
                session,
                source=source,
                url=document.url,
                title=document.title,
                published_at=document.published_at,
                text=document.text,
                content_hash=plan.content_hash,
                minhash=plan.fingerprint,
                passages=[
                    archive.NewPassage(text, index_terms(text), text_hash(text), matrix[i])
                    for i, text in enumerate(plan.passages)
                ],
                model=self._embedder.model_id,
                fulltext=self._fulltext,
            )
            if stored is None:
                return None  # another writer stored it since the check above
            article, ids = stored
            for passage_id, (sentences, vectors, tokens) in zip(
                ids, embedded.sentences, strict=True
            ):
                sentence_vectors.write(
                    session,
                    passage_id=passage_id,
                    sentences=sentences,
                    vectors=vectors,
                    title=embedded.title,
                    model=self._embedder.model_id,
                    tokens=tokens,
                    token_axes=self._token_axes.identity,
                )
            if digest is not None and digest(plan):
                # Topic chats get it only when it is about one of their topics: matched now,
                # with its passage vectors in hand, in the transaction that stores it.
                topics.queue_article(
                    session,
                    article_id=article.id,
                    model=self._embedder.model_id,
                    title=document.title,
                    passages=plan.passages,
                    vectors=matrix,
                )
            # Last, so that on PostgreSQL other writers wait for its lock only until commit.
            change_id = changes.record_change(
                session, kind=changes.ChangeKind.ADDED, article_id=article.id
            )
        if self._follower is not None:
            self._follower.stored(change_id, ids, matrix, plan.fingerprint)
        else:
            self._vectors.add(ids, matrix)
            self._fingerprints.add(plan.fingerprint)
        log.info("Stored %r (%d passages)", document.title, len(ids))
        return article.id


def reindex(
    *,
    sessions: sessionmaker[Session],
    embedder: Embedder,
    progress: Progress | None = None,
    token_axes: TokenAxes | None = None,
) -> int:
    """Re-embed every passage with the embedder's model in one transaction; returns the count."""
    axes = token_axes or axes_for(embedder.model_id, embedder.dimension)
    done = 0
    with sessions.begin() as session:
        last_id = 0
        while batch := archive.passages_after(session, after_id=last_id, limit=EMBED_BATCH * 4):
            ids = [passage_id for passage_id, _ in batch]
            vectors = embedder.embed([text for _, text in batch])
            archive.replace_vectors(session, ids=ids, vectors=vectors, model=embedder.model_id)
            _store_sentences(session, embedder, axes, batch)
            last_id = ids[-1]
            done += len(ids)
            if progress:
                progress(len(ids))
        changes.record_change(session, kind=changes.ChangeKind.REINDEXED)
    return done


@dataclass(frozen=True)
class EmbeddedPlan:
    """An article's vectors: its passages', each passage's sentences' (with their tokens'),
    its title's."""

    passages: Matrix
    sentences: list[tuple[tuple[str, ...], Matrix, list[Matrix]]]
    title: Matrix


def embed_plans(
    embedder: Embedder, plans: Sequence[ArticlePlan], axes: TokenAxes
) -> list[EmbeddedPlan]:
    """Every text the plans need embedded, in one batch: passages for retrieval, sentences
    and titles for answering (stored now, so that answering embeds only the question), and
    from the same pass the sentences' token vectors, projected on the axes."""
    embedded = _TextVectors(
        embedder,
        [
            text
            for plan in plans
            for text in (
                *plan.passages,
                *(sentence for passage in plan.passages for sentence in passage_sentences(passage)),
                plan.document.title,
            )
        ],
        axes,
    )
    return [
        EmbeddedPlan(
            passages=embedded.rows(plan.passages),
            sentences=[
                (sentences, embedded.rows(sentences), embedded.tokens(sentences))
                for sentences in (passage_sentences(passage) for passage in plan.passages)
            ],
            title=embedded.rows([plan.document.title]),
        )
        for plan in plans
    ]


def _store_sentences(
    session: Session, embedder: Embedder, axes: TokenAxes, passages: Sequence[tuple[int, str]]
) -> None:
    """Re-embed and store the sentences of the passages and their tokens (for a re-index)."""
    titles = sentence_vectors.titles_of(session, passage_ids=[pid for pid, _ in passages])
    split = [(pid, passage_sentences(text)) for pid, text in passages]
    embedded = _TextVectors(
        embedder, [t for _, s in split for t in s] + list(titles.values()), axes
    )
    for passage_id, sentences in split:
        sentence_vectors.write(
            session,
            passage_id=passage_id,
            sentences=sentences,
            vectors=embedded.rows(sentences),
            title=embedded.rows([titles[passage_id]]),
            model=embedder.model_id,
            tokens=embedded.tokens(sentences),
            token_axes=axes.identity,
        )


class _TextVectors:
    """Texts embedded in one pass (each once), looked up by text: their vectors, and their
    token vectors projected on the axes."""

    def __init__(self, embedder: Embedder, texts: Sequence[str], axes: TokenAxes) -> None:
        ordered = list(dict.fromkeys(texts))
        vectors, self._tokens = embedder.embed_with_tokens(ordered)
        self._vectors = np.asarray(vectors, dtype=np.float32)
        self._row = {text: index for index, text in enumerate(ordered)}
        self._axes = axes

    def rows(self, items: Sequence[str]) -> Matrix:
        """The items' vectors, a row each."""
        return self._vectors[[self._row[item] for item in items]].reshape(
            len(items), self._vectors.shape[1]
        )

    def tokens(self, items: Sequence[str]) -> list[Matrix]:
        """Each item's token vectors on the axes."""
        return [self._axes.project(self._tokens[self._row[item]]) for item in items]


def _batches(plans: Sequence[ArticlePlan], passages_per_batch: int) -> Iterable[list[ArticlePlan]]:
    """Consecutive plans grouped so each group holds about passages_per_batch passages."""
    batch: list[ArticlePlan] = []
    size = 0
    for plan in plans:
        batch.append(plan)
        size += len(plan.passages)
        if size >= passages_per_batch:
            yield batch
            batch, size = [], 0
    if batch:
        yield batch


def published_label(published_at: datetime | None) -> str | None:
    """A date as articles are cited: ISO year-month-day."""
    return published_at.date().isoformat() if published_at else None
