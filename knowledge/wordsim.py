"""How close two words are in meaning, by the embedding model's own word-piece vectors, so
that a question's words find their near-synonyms in a sentence ("talks" and "negotiations");
the pairs these vectors hold apart are listed in knowledge.synonyms."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence

import numpy as np

from knowledge.terms import STOPWORDS, term, words
from storage.vectors import Matrix

# Word pieces of many words in one call: the tokenizer's cost is mostly per call (~0.3 ms),
# and a sentence of an archive's long tail brings several words never seen before.
Tokenize = Callable[[Sequence[str]], list[list[int]]]
REMEMBERED_WORDS = 65_536


class WordSimilarity:
    """Cosine similarity of words, each the mean of its word pieces' input vectors."""

    def __init__(self, table: Matrix, tokenize: Tokenize) -> None:
        self._table = table
        self._tokenize = tokenize
        self._known: OrderedDict[str, Matrix] = OrderedDict()
        self._lock = threading.Lock()

    def vectors(self, given: Sequence[str]) -> Matrix:
        """One unit row per word, the words not seen before tokenized together."""
        found = self._lookup(given)
        return np.stack([found[word] for word in given])

    def learn(self, given: Sequence[str]) -> None:
        """Remember the vectors of words soon asked about, the unseen ones tokenized together."""
        self._lookup(given)

    def _lookup(self, given: Sequence[str]) -> dict[str, Matrix]:
        with self._lock:
            found = {word: self._known[word] for word in given if word in self._known}
        missing = [word for word in dict.fromkeys(given) if word not in found]
        if missing:
            made = [self._mean(pieces) for pieces in self._tokenize(missing)]
            found.update(zip(missing, made, strict=True))
            with self._lock:
                self._known.update(zip(missing, made, strict=True))
                while len(self._known) > REMEMBERED_WORDS:
                    self._known.popitem(last=False)
        return found

    def vector(self, word: str) -> Matrix:
        """The unit vector of one word."""
        vector: Matrix = self.vectors([word])[0]
        return vector

    def _mean(self, pieces: list[int]) -> Matrix:
        vector = self._table[pieces or [0]].mean(axis=0)
        norm = float(np.linalg.norm(vector))
        return np.asarray(vector / norm if norm else vector, dtype=np.float32)

    def soft_coverage(
        self,
        question: Sequence[tuple[str, float]],
        own: Sequence[str],
        alike: Mapping[str, frozenset[str]] | None = None,
    ) -> float:
        """The weighted share of the question's words a sentence says (`own`: its content
        words), in the same words or in close ones: an exact term counts 1, and so does one of
        the word's `alike` terms (its synonyms, knowledge.synonyms); another word counts its
        similarity."""
        total = sum(weight for _, weight in question)
        if total <= 0 or not own:
            return 0.0
        own_terms = {term(word) for word in own}
        matrix = self.vectors(own)
        alike = alike or {}
        found = 0.0
        for word, weight in question:
            if term(word) in own_terms or not own_terms.isdisjoint(alike.get(word, ())):
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

    def tokenize(given: Sequence[str]) -> list[list[int]]:
        return [list(ids) for ids in tokenizer(list(given), add_special_tokens=False)["input_ids"]]

    return WordSimilarity(np.asarray(table, dtype=np.float32), tokenize)
