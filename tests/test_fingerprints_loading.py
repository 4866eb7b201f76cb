"""The near-duplicate fingerprints are read on a thread while a process starts: a check
made at once still sees every article stored before, and none is held twice."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from knowledge.catch_up import LoadingFingerprints
from knowledge.fingerprints import minhash
from parley.services import build_services
from parley.settings import Settings
from storage.models import Article
from tests.support.fake_embedder import FakeEmbedder
from tests.test_concurrent_ingest import write_articles


def test_a_process_started_on_an_archive_holds_each_stored_signature_once(
    settings: Settings, tmp_path: Path
) -> None:
    writer = build_services(settings, embedder=FakeEmbedder())
    plans, problems = writer.ingestor.plan_files(str(p) for p in write_articles(tmp_path, 4))
    assert not problems and len(writer.ingestor.store(plans).stored) == 4
    writer.close()

    reader = build_services(settings, embedder=FakeEmbedder())
    with reader.sessions() as session:
        signed = session.scalar(select(func.count()).where(Article.minhash.is_not(None)))
        first = session.scalars(select(Article.text).order_by(Article.id)).first()
    assert first is not None

    assert len(reader.follower.fingerprints) == signed == 4
    assert reader.follower.fingerprints.has_near_duplicate(minhash(first))
    reader.follower.catch_up()
    assert len(reader.follower.fingerprints) == 4
    reader.close()


def test_a_check_waits_for_the_signatures_being_read() -> None:
    release = threading.Event()

    @contextmanager
    def slow_sessions() -> Iterator[Session]:
        release.wait()
        raise ConnectionError("the archive went away")
        yield  # never reached: a generator for contextmanager

    fingerprints = LoadingFingerprints()
    fingerprints.start(slow_sessions, up_to_article=10)  # type: ignore[arg-type]
    fingerprints.add(None)  # adding never waits
    outcome: list[BaseException] = []

    def check() -> None:
        try:
            fingerprints.has_near_duplicate(b"\0" * 512)
        except RuntimeError as error:
            outcome.append(error)

    checking = threading.Thread(target=check)
    checking.start()
    checking.join(timeout=0.2)
    assert checking.is_alive()  # still waiting: nothing has been read

    release.set()
    checking.join(timeout=10)
    assert len(outcome) == 1 and isinstance(outcome[0].__cause__, ConnectionError)
    with pytest.raises(RuntimeError, match="could not be read"):
        len(fingerprints)


def test_the_signatures_are_read_only_once_the_gate_opens(settings: Settings) -> None:
    services = build_services(settings, embedder=FakeEmbedder())
    happened: list[str] = []

    @contextmanager
    def recorded_sessions() -> Iterator[Session]:
        happened.append("read")
        with services.sessions() as session:
            yield session

    fingerprints = LoadingFingerprints()
    fingerprints.start(
        recorded_sessions,  # type: ignore[arg-type]
        up_to_article=10,
        after=lambda: happened.append("gate opened"),
    )

    assert len(fingerprints) == 0  # waits until read
    assert happened == ["gate opened", "read"]
    services.close()


def test_a_start_reads_the_signatures_after_the_model_has_loaded(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    waited: list[object] = []
    monkeypatch.setattr("parley.services.wait_until_loaded", waited.append)
    embedder = FakeEmbedder()

    services = build_services(settings, embedder=embedder)
    len(services.follower.fingerprints)  # waits until read

    # Once by build_services itself, once by the fingerprints' thread before it read.
    assert waited == [embedder, embedder]
    services.close()
