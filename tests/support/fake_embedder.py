"""A deterministic stand-in for the embedding model: hashed bags of search terms."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np

from knowledge.terms import terms
from storage.vectors import Matrix


class FakeEmbedder:
    """Texts sharing terms get similar vectors; the same text always gets the same vector."""

    max_tokens = 128

    def __init__(self, model_id: str = "fake/hashed-terms", dimension: int = 64) -> None:
        self.model_id = model_id
        self.dimension = dimension
        self.calls: list[int] = []

    def embed(self, texts: Sequence[str]) -> Matrix:
        self.calls.append(len(texts))
        matrix = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in terms(text):
                matrix[row, self._bucket(word)] += 1.0
            norm = float(np.linalg.norm(matrix[row]))
            matrix[row] = matrix[row] / norm if norm else matrix[row]
        return matrix

    def embed_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        """The same vectors, and a one-hot token vector a term: equal terms match exactly."""
        tokens = []
        for text in texts:
            own = np.zeros((len(terms(text)), self.dimension), dtype=np.float32)
            for row, word in enumerate(terms(text)):
                own[row, self._bucket(word)] = 1.0
            tokens.append(own)
        return self.embed(texts), tokens

    def token_words(self, text: str) -> list[str]:
        return terms(text)

    def _bucket(self, word: str) -> int:
        digest = hashlib.blake2b(word.encode(), digest_size=4).digest()
        return int.from_bytes(digest, "big") % self.dimension

    def count_tokens(self, text: str) -> int:
        return len(text.split())
