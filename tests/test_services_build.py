"""Building the services pauses the cyclic garbage collector (start-up is faster without its
passes over the model's import) and always leaves it as it found it."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest
from sqlalchemy import Engine

from parley.services import ModelMismatchError, build_services, built_to_last
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


def _in_a_generation(thing: object) -> bool:
    """Whether the collector's passes would scan it (frozen objects are in none)."""
    return any(any(item is thing for item in gc.get_objects(g)) for g in range(3))


@pytest.mark.usefixtures("collector_on")
def test_what_a_long_running_start_builds_is_never_scanned_by_the_collector_again(
    settings: Settings,
) -> None:
    try:
        with built_to_last():
            services = build_services(settings, embedder=FakeEmbedder())
            assert not gc.isenabled()
        made_after = [services.settings]  # a tracked object made once the start is over

        assert gc.isenabled()
        assert gc.is_tracked(services) and not _in_a_generation(services)
        assert _in_a_generation(made_after)
        services.close()
    finally:
        gc.unfreeze()


@pytest.mark.usefixtures("collector_on")
def test_a_start_that_fails_still_gets_the_collector_back(settings: Settings) -> None:
    try:
        with pytest.raises(ModelMismatchError), built_to_last():
            first = build_services(settings, embedder=FakeEmbedder("fake/first"))
            first.seed_if_empty()
            first.close()
            build_services(settings, embedder=FakeEmbedder("fake/second"))
        assert gc.isenabled()
    finally:
        gc.unfreeze()
