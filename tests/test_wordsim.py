"""Word similarity from the model's own word pieces: rewordings count, one tokenizer call."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from knowledge.embedding import load_embedder
from knowledge.wordsim import WordSimilarity, word_similarity_for


@pytest.fixture(scope="module")
def words() -> WordSimilarity:
    found = word_similarity_for(getattr(load_embedder(), "model", None))
    assert found is not None
    return found


@pytest.mark.model
def test_a_reworded_question_still_covers_the_sentence_that_answers(
    words: WordSimilarity,
) -> None:
    question = [("head", 1.0), ("team", 1.0)]
    answer = words.soft_coverage(question, "The delegation will be led by Vladimir Medinsky.")
    unrelated = words.soft_coverage(question, "Rain is expected in Istanbul on Thursday.")
    assert answer > unrelated


@pytest.mark.model
def test_words_tokenized_together_get_the_vectors_they_get_alone(words: WordSimilarity) -> None:
    given = ["delegation", "Medinsky", "ceasefire", "delegation", "xqzwv"]
    together = words.vectors(given)
    fresh = word_similarity_for(getattr(load_embedder(), "model", None))
    assert fresh is not None
    alone = np.stack([fresh.vector(word) for word in given])
    np.testing.assert_allclose(together, alone, atol=1e-6)
    np.testing.assert_allclose(np.linalg.norm(together, axis=1), 1.0, atol=1e-5)


def test_words_unseen_before_are_tokenized_in_one_call() -> None:
    calls: list[list[str]] = []

    def tokenize(given: Sequence[str]) -> list[list[int]]:
        batch = list(given)
        calls.append(batch)
        return [[len(word) % 3] for word in batch]

    table = np.eye(3, dtype=np.float32)
    similarity = WordSimilarity(table, tokenize)
    similarity.soft_coverage([("talks", 1.0)], "Envoys resumed nuclear talks in Muscat.")
    similarity.soft_coverage([("talks", 1.0)], "Envoys resumed talks.")
    similarity.soft_coverage([("negotiations", 1.0)], "Envoys resumed talks.")
    # The first sentence's words in one call; then only the new question word, once.
    assert calls == [["envoys", "resumed", "nuclear", "talks", "muscat"], ["negotiations"]]
