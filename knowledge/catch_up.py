"""Keeping this process's in-memory indexes in step with what every process writes.

The vector index and the near-duplicate fingerprints are loaded once, at start (the
fingerprints on a thread of their own: only ingesting needs them); articles
another process stores afterwards (`parley ingest` beside the running bot, a second worker)
reach them through the archive's change log (storage.changes): each catch-up reads the
changes newer than the last one applied, adds those articles' passage vectors and
signatures, and reloads every vector after a re-index.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from knowledge.fingerprints import LOAD_BATCH, FingerprintIndex
from knowledge.retrieval import RetrievedPassage, Retriever
from storage import archive, changes
from storage.changes import Change, ChangeKind
from storage.fulltext import FullTextIndex
from storage.models import Article
from storage.vectors import Matrix, VectorIndex, load_vector_index, vectors_of_articles

log = logging.getLogger(__name__)


class ArchiveFollower:
    """This process's vector index and fingerprints, and the newest change they include.

    Changes this process made itself are applied when it makes them (`stored`) and skipped
    when catching up; one lock keeps the two from applying a change twice."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        vectors: VectorIndex,
        fingerprints: FingerprintIndex,
        model: str,
        seen: int,
    ) -> None:
        self.vectors = vectors
        self.fingerprints = fingerprints
        self._sessions = sessions
        self._model = model
        self._seen = seen
        self._own: set[int] = set()  # changes newer than _seen this process already applied
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        sessions: sessionmaker[Session],
        *,
        model: str,
        dimension: int,
        fingerprints_after: Callable[[], None] | None = None,
    ) -> ArchiveFollower:
        """Every stored vector and signature, and the change they are current with; the
        signatures are read once `fingerprints_after` returns (see LoadingFingerprints)."""
        with sessions() as session:
            # Read first: a change committed while loading is then applied again by the
            # next catch-up, which adds only what is missing, rather than never.
            seen = changes.latest_change_id(session)
            newest = int(session.scalar(select(func.max(Article.id))) or 0)
        fingerprints = LoadingFingerprints()
        fingerprints.start(sessions, up_to_article=newest, after=fingerprints_after)
        with sessions() as session:
            vectors = load_vector_index(session, model=model, dimension=dimension)
        return cls(
            sessions=sessions, vectors=vectors, fingerprints=fingerprints, model=model, seen=seen
        )

    @property
    def seen(self) -> int:
        """The newest change applied here."""
        return self._seen

    def stored(
        self, change_id: int, passage_ids: Sequence[int], vectors: Matrix, signature: bytes | None
    ) -> None:
        """Apply an article this process has just stored (and committed) as `change_id`."""
        with self._lock:
            if change_id <= self._seen:
                return  # a catch-up got there first
            self.vectors.add_missing(passage_ids, vectors)
            self.fingerprints.add(signature)
            self._own.add(change_id)

    def is_stale(self) -> bool:
        """Whether the archive has changed since the last change applied here (one query)."""
        with self._sessions() as session:
            return changes.latest_change_id(session) > self._seen

    def catch_up_if_stale(self) -> int:
        """`catch_up`, after a cheap check that there is anything to catch up with."""
        return self.catch_up() if self.is_stale() else 0

    def catch_up(self) -> int:
        """Apply every change committed since the last one applied; how many there were."""
        applied = 0
        with self._lock, self._sessions() as session:
            while pending := changes.changes_after(session, after_id=self._seen):
                self._apply(session, pending)
                applied += len(pending)
        return applied

    def _apply(self, session: Session, pending: list[Change]) -> None:
        others = [c for c in pending if c.id not in self._own and c.kind == ChangeKind.ADDED]
        article_ids = [c.article_id for c in others if c.article_id is not None]
        self.fingerprints.add_many(changes.article_minhashes(session, article_ids=article_ids))
        if any(change.kind != ChangeKind.ADDED for change in pending):
            self._reload_vectors(session)  # holds the added articles' vectors too
        elif article_ids:
            dimension = self.vectors.dimension
            self.vectors.add_missing(
                *vectors_of_articles(
                    session, model=self._model, dimension=dimension, article_ids=article_ids
                )
            )
        self._seen = pending[-1].id
        self._own = {change_id for change_id in self._own if change_id > self._seen}
        if article_ids:
            log.info("Caught up with %d article(s) stored elsewhere", len(article_ids))

    def _reload_vectors(self, session: Session) -> None:
        """Every stored vector again (after a re-index), swapped in whole."""
        fresh = load_vector_index(
            session,
            model=self._model,
            dimension=self.vectors.dimension,
            ivf_threshold=self.vectors.ivf_threshold,
            probes=self.vectors.probes,
        )
        self.vectors.replace_with(fresh)
        log.info("Reloaded %d passage vectors after a re-index", len(fresh))


class LoadingFingerprints(FingerprintIndex):
    """The stored articles' fingerprints, read on a thread of their own while the process
    starts: at 250,000 articles they took 2.5–4.5 s of the start, and only ingesting needs
    them. Checking for a near-duplicate, or counting, waits until they are all read;
    adding does not (the index takes adds from any thread)."""

    def __init__(self) -> None:
        super().__init__()
        self._ready = threading.Event()
        self._failure: BaseException | None = None

    def start(
        self,
        sessions: sessionmaker[Session],
        *,
        up_to_article: int,
        after: Callable[[], None] | None = None,
    ) -> None:
        """Read the signatures of articles up to this id (those stored later reach the
        index by catching up, so none is held twice) on a daemon thread, once `after`
        returns: the bot waits for the model's import, which holds the GIL, and reading a
        million signatures beside it (~2 s of Python) only delays the first answer."""
        threading.Thread(
            target=self._fill,
            args=(sessions, up_to_article, after),
            name="fingerprints",
            daemon=True,
        ).start()

    def _fill(
        self,
        sessions: sessionmaker[Session],
        up_to_article: int,
        after: Callable[[], None] | None,
    ) -> None:
        try:
            if after is not None:
                after()
            with sessions() as session:
                # Articles stored later than `up_to_article` are few: at most a little room over.
                self.reserve(archive.article_count(session))
                for signatures in _signatures_up_to(session, up_to_article):
                    self.add_many(signatures)
        except Exception as error:  # kept for whoever needs the fingerprints next
            self._failure = error
            log.exception("Could not read the articles' near-duplicate fingerprints")
        finally:
            self._ready.set()

    def wait_until_read(self) -> None:
        """Return once every signature is read; raise if reading them failed."""
        self._ready.wait()
        if self._failure is not None:
            raise RuntimeError("the near-duplicate fingerprints could not be read") from (
                self._failure
            )

    def __len__(self) -> int:
        self.wait_until_read()
        return super().__len__()

    def has_near_duplicate(self, signature: bytes | None) -> bool:
        self.wait_until_read()
        return super().has_near_duplicate(signature)


def _signatures_up_to(session: Session, article_id: int) -> Iterator[Sequence[bytes | None]]:
    """The MinHash signatures of every article up to this id that has one, a batch at a time.
    Read through SQLAlchemy Core: at 250,000 articles ORM rows took 2.6–3.4 s of CPU, Core's
    2.0 (load ~5), Python time the model loading beside it waits for."""
    found = (
        session.connection()
        .execution_options(yield_per=LOAD_BATCH)
        .execute(
            select(Article.minhash).where(Article.id <= article_id, Article.minhash.is_not(None))
        )
    )
    return found.scalars().partitions()


class FollowingRetriever(Retriever):
    """A retriever that catches up first when the archive has changed since the last
    catch-up, so an answer never misses an article already committed when it was asked."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        fulltext: FullTextIndex,
        follower: ArchiveFollower,
    ) -> None:
        super().__init__(sessions=sessions, fulltext=fulltext, vectors=follower.vectors)
        self._follower = follower

    def retrieve(
        self, *, vector: Matrix, weights: dict[str, float], limit: int
    ) -> list[RetrievedPassage]:
        self._follower.catch_up_if_stale()
        return super().retrieve(vector=vector, weights=weights, limit=limit)
