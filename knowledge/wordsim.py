"""How close two words are in meaning, by the embedding model's own word-piece vectors, so
that "head" finds "led" and "team" finds "delegation" without a hand-made synonym list."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache

import numpy as np

from knowledge.terms import STOPWORDS, term, words
from storage.vectors import Matrix

Tokenize = Callable[[str], list[int]]


class WordSimilarity:
    """Cosine similarity of words, each the mean of its word pieces' input vectors."""

    def __init__(self, table: Matrix, tokenize: Tokenize) -> None:
        self._table = table
        self._tokenize = tokenize
        self.vector = lru_cache(maxsize=65_536)(self._vector)

    def _vector(self, word: str) -> Matrix:
        pieces = self._tokenize(word) or [0]
        vector = self._table[pieces].mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return np.asarray(vector / norm if norm else vector, dtype=np.float32)

    def soft_coverage(self, question: Sequence[tuple[str, float]], sentence: str) -> float:
        """The weighted share of the question's words the sentence says, in the same words
        or in close ones: an exact term counts 1, another word its similarity."""
        total = sum(weight for _, weight in question)
        own = content_words(sentence)
        if total <= 0 or not own:
            return 0.0
        own_terms = {term(word) for word in own}
        matrix = np.stack([self.vector(word) for word in own])
        found = 0.0
        for word, weight in question:
            if term(word) in own_terms:
                found += weight
            else:
                found += weight * max(0.0, float((matrix @ self.vector(word)).max()))
        return found / total


def content_words(text: str) -> list[str]:
    """The words of a text that carry meaning."""
    return [word for word in words(text) if word not in STOPWORDS and len(word) > 1]


def word_similarity_for(model: object) -> WordSimilarity | None:
    """The word similarity of a sentence-transformers model, or None for another embedder."""
    try:
        transformer = model[0].auto_model  # type: ignore[index]
        table = transformer.embeddings.word_embeddings.weight.detach().cpu().numpy()
        tokenizer = model.tokenizer  # type: ignore[attr-defined]
    except (AttributeError, IndexError, KeyError, TypeError):
        return None

    def tokenize(word: str) -> list[int]:
        return list(tokenizer(word, add_special_tokens=False)["input_ids"])

    return WordSimilarity(np.asarray(table, dtype=np.float32), tokenize)
