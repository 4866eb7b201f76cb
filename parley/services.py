"""The services Parley runs on, built once and handed to whatever needs them."""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from knowledge.answering import Answerer
from knowledge.catch_up import ArchiveFollower, FollowingRetriever
from knowledge.embedding import Embedder, load_embedder, wait_until_loaded
from knowledge.ingest import Ingestor, IngestReport
from knowledge.ranking import load_ranking_model
from knowledge.token_vectors import axes_for
from knowledge.wordsim import word_similarity_for
from parley.settings import Settings
from storage import archive, changes, sentence_vectors
from storage.db import create_database_engine, session_factory, upgrade_database
from storage.fulltext import FullTextIndex, fulltext_index_for
from storage.sentence_vectors import SentenceStore
from storage.vectors import VectorIndex
from web.fetching import Fetcher
from web.source_manager import SourceManager

log = logging.getLogger(__name__)


class ModelMismatchError(Exception):
    """Stored vectors were made by another model than the configured one."""


@dataclass
class Services:
    """Everything the command line and the bot work with."""

    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    embedder: Embedder
    fulltext: FullTextIndex
    vectors: VectorIndex
    follower: ArchiveFollower  # keeps `vectors` and the fingerprints in step with the archive
    ingestor: Ingestor
    answerer: Answerer
    fetcher: Fetcher
    source_manager: SourceManager
    _listener: changes.ChangeListener | None = field(default=None, init=False, repr=False)

    def seed_if_empty(self) -> IngestReport | None:
        """Ingest the seed articles when the archive holds none."""
        with self.sessions() as session:
            if archive.article_count(session):
                return None
        seeds = Path(self.settings.seeds_dir)
        if not seeds.is_dir():
            log.warning("No seeds folder at %s; starting with an empty archive", seeds)
            return None
        plans, problems = self.ingestor.plan_files([str(seeds)])
        for problem in problems:
            log.warning("Seed not ingested: %s", problem)
        report = self.ingestor.store(plans)
        log.info("Seeded the archive with %d articles from %s", len(report.stored), seeds)
        return report

    def follow_changes(self) -> None:
        """Catch up the moment another process commits a change (PostgreSQL's LISTEN), not
        only on the bot's interval; nothing to do on SQLite. For long-running processes."""
        if self._listener is None:
            self._listener = changes.listen_for_changes(self.engine, self.follower.catch_up)

    def close(self) -> None:
        """Release the database and HTTP connections."""
        if self._listener is not None:
            self._listener.stop()
            self._listener = None
        self.fetcher.close()
        self.engine.dispose()


def check_embedding_model(sessions: sessionmaker[Session], embedder: Embedder) -> None:
    """Refuse to mix vectors of two models."""
    with sessions() as session:
        stored = archive.embedding_models(session)
    others = [model for model in stored if model != embedder.model_id]
    if others:
        raise ModelMismatchError(
            f"The archive's passages were embedded with {', '.join(others)}, but the configured "
            f"model is {embedder.model_id}. Vectors of two models cannot be mixed: run "
            "`parley reindex` to re-embed every passage with the configured model, or set "
            "EMBEDDING_MODEL back."
        )


def _warn_without_token_vectors(sessions: sessionmaker[Session], identity: str) -> None:
    """Say so when the archive's sentences were stored without token vectors on these axes
    (before migration 0017, or with other axes): answers then compute them, ~0.3 s each."""
    with sessions() as session:
        stored, axes = sentence_vectors.oldest_token_axes(session)
    if stored and axes != identity:
        log.warning(
            "The archive's sentences were stored without the token vectors answers use, so "
            "each answer computes them (slower); run `parley reindex` once to store them."
        )


def build_services(
    settings: Settings, *, embedder: Embedder | None = None, check_model: bool = True
) -> Services:
    """Open the database (migrating it), load the model and the vector index.

    The bundled model loads on a thread of its own (knowledge.embedding.BundledEmbedder)
    while the archive is migrated and its vector index and fingerprints are read; this
    returns once it has loaded, so a broken model fails the start, not the first question."""
    with _collector_paused():
        return _build(settings, embedder=embedder, check_model=check_model)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """The cyclic garbage collector off meanwhile, back as it was after. Importing the model
    (on its thread) and reading the archive make hundreds of thousands of lasting objects and
    next to no cyclic garbage, so the collector's passes over them, more as the heap grows,
    are wasted: `import sentence_transformers` took 0.8-2.1 s less with it off (README
    Performance). Reference counting still frees everything that is not in a cycle."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def built_to_last() -> Iterator[None]:
    """For a process that runs until it is stopped (the bot, the playground), around building
    its services and application: the cyclic collector stays off meanwhile, and what was built
    is then frozen (`gc.freeze`), never scanned by the collector again. Turned back on over it,
    the collector's first passes went over every object the model's import made, all still in
    the youngest generation: 0.6-0.9 s between the model's load and the first answer at 1M
    (README Performance). Those objects live as long as the process; a cycle among them that
    became garbage would stay: importing the model and the bot leaves ~12,000 such objects of
    the ~890,000 it makes, kept rather than scanned again and again. The command
    line unfreezes them when its command returns (`parley.cli.main`), for a caller that lives
    on."""
    with _collector_paused():
        try:
            yield
        finally:
            gc.freeze()  # before the collector is back


def _settled(embedder: Embedder) -> Callable[[], None]:
    """Waits until the model has loaded or failed to (a failure fails the start itself)."""

    def wait() -> None:
        with suppress(Exception):
            wait_until_loaded(embedder)

    return wait


def _build(settings: Settings, *, embedder: Embedder | None, check_model: bool) -> Services:
    embedder = embedder or load_embedder(settings.embedding_model)
    engine = create_database_engine(settings.database_url)
    upgrade_database(engine)
    sessions = session_factory(engine)
    if check_model:
        check_embedding_model(sessions, embedder)
    follower = ArchiveFollower.load(
        sessions,
        model=embedder.model_id,
        dimension=embedder.dimension,
        fingerprints_after=_settled(embedder),
    )
    vectors = follower.vectors
    fulltext = fulltext_index_for(engine)
    wait_until_loaded(embedder)
    token_axes = axes_for(embedder.model_id, embedder.dimension)
    _warn_without_token_vectors(sessions, token_axes.identity)
    ingestor = Ingestor(
        sessions=sessions,
        embedder=embedder,
        fulltext=fulltext,
        vectors=vectors,
        fingerprints=follower.fingerprints,
        max_bytes=settings.max_article_bytes,
        follower=follower,
        token_axes=token_axes,
    )
    retriever = FollowingRetriever(sessions=sessions, fulltext=fulltext, follower=follower)
    fetcher = Fetcher(
        timeout=settings.fetch_timeout_seconds,
        max_bytes=settings.max_article_bytes,
        allow_private=settings.allow_private_sources,
    )
    return Services(
        settings=settings,
        engine=engine,
        sessions=sessions,
        embedder=embedder,
        fulltext=fulltext,
        vectors=vectors,
        follower=follower,
        ingestor=ingestor,
        answerer=Answerer(
            embedder=embedder,
            retriever=retriever,
            words=word_similarity_for(getattr(embedder, "model", None)),
            stored=SentenceStore(sessions, model=embedder.model_id, token_axes=token_axes.identity),
            token_axes=token_axes,
            model=load_ranking_model(
                Path(settings.answer_weights) if settings.answer_weights else None
            ),
        ),
        fetcher=fetcher,
        source_manager=SourceManager(
            sessions=sessions,
            fetcher=fetcher,
            ingestor=ingestor,
            poll_seconds=settings.source_poll_seconds,
            backfill_hours=settings.digest_backfill_hours,
            max_failures=settings.max_source_failures,
        ),
    )
