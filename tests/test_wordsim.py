"""Word similarity from the model's own word pieces: rewordings count, one tokenizer call."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pytest

from knowledge.answering import Answerer
from knowledge.embedding import load_embedder
from knowledge.ranking import load_ranking_model
from knowledge.retrieval import Retriever
from knowledge.wordsim import WordSimilarity, content_words, word_similarity_for
from parley.services import Services
from tests.conftest import SEED_ARTICLE
from tests.support.fake_embedder import FakeEmbedder


@pytest.mark.model
def test_a_reworded_question_still_covers_the_sentence_that_answers(
    words: WordSimilarity,
) -> None:
    question = [("head", 1.0), ("team", 1.0)]
    answer = words.soft_coverage(
        question, content_words("The delegation will be led by Vladimir Medinsky.")
    )
    unrelated = words.soft_coverage(
        question, content_words("Rain is expected in Istanbul on Thursday.")
    )
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
    similarity.soft_coverage(
        [("talks", 1.0)], content_words("Envoys resumed nuclear talks in Muscat.")
    )
    similarity.soft_coverage([("talks", 1.0)], content_words("Envoys resumed talks."))
    similarity.soft_coverage([("negotiations", 1.0)], content_words("Envoys resumed talks."))
    # The first sentence's words in one call; then only the new question word, once.
    assert calls == [["envoys", "resumed", "nuclear", "talks", "muscat"], ["negotiations"]]


def test_an_answer_tokenizes_the_words_of_all_its_candidates_in_one_call(
    services: Services, fake_embedder: FakeEmbedder
) -> None:
    plans, problems = services.ingestor.plan_files([str(SEED_ARTICLE)])
    assert problems == []
    services.ingestor.store(plans)
    calls: list[list[str]] = []

    def tokenize(given: Sequence[str]) -> list[list[int]]:
        calls.append(list(given))
        return [[len(word) % 3] for word in given]

    answerer = Answerer(
        embedder=fake_embedder,
        retriever=Retriever(
            sessions=services.sessions, fulltext=services.fulltext, vectors=services.vectors
        ),
        model=load_ranking_model(None),
        words=WordSimilarity(np.eye(3, dtype=np.float32), tokenize),
    )

    evidence = answerer.gather(["Who will head Russia's team at the Istanbul talks?"])[0]

    assert len(evidence.candidates) > 1
    assert len(calls) == 1  # not one call a candidate sentence
    said = {word for candidate in evidence.candidates for word in content_words(candidate.sentence)}
    assert said <= set(calls[0])
