"""Building the services pauses the cyclic garbage collector (start-up is faster without its
passes over the model's import) and always leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from parley.services import ModelMismatchError, build_services
from parley.settings import Settings
from storage.db import upgrade_database
from tests.support.fake_embedder import FakeEmbedder


@pytest.fixture
def collector_on() -> Iterator[None]:
    was = gc.isenabled()
    gc.enable()
    yield
    if not was:
        gc.disable()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_off_while_the_services_are_built_and_back_on_after(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    during: list[bool] = []

    def recording(engine: Engine) -> None:
        during.append(gc.isenabled())
        upgrade_database(engine)

    monkeypatch.setattr("parley.services.upgrade_database", recording)
    build_services(settings, embedder=FakeEmbedder()).close()
    assert during == [False]
    assert gc.isenabled()


@pytest.mark.usefixtures("collector_on")
def test_the_collector_is_back_on_when_building_fails(settings: Settings) -> None:
    first = build_services(settings, embedder=FakeEmbedder("fake/first"))
    first.seed_if_empty()
    first.close()
    with pytest.raises(ModelMismatchError):  # the archive holds another model's vectors
        build_services(settings, embedder=FakeEmbedder("fake/second"))
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off(settings: Settings) -> None:
    was = gc.isenabled()
    gc.disable()
    try:
        build_services(settings, embedder=FakeEmbedder()).close()
        assert not gc.isenabled()
    finally:
        if was:
            gc.enable()
