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
                bucket = int.from_bytes(
                    hashlib.blake2b(word.encode(), digest_size=4).digest(), "big"
                )
                matrix[row, bucket % self.dimension] += 1.0
            norm = float(np.linalg.norm(matrix[row]))
            matrix[row] = matrix[row] / norm if norm else matrix[row]
        return matrix

    def count_tokens(self, text: str) -> int:
        return len(text.split())
