"""Tying a question to one event among several alike: the round it names, the month it names,
and the decision to decline when the best candidates do not hold what it asks for."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import numpy as np
import pytest

from knowledge.confidence import CONFIDENCE_FEATURES, ConfidenceModel, question_features
from knowledge.evidence import FEATURES, Candidate, feature_matrix
from knowledge.questions import analyse
from knowledge.quotes import select_quotes
from knowledge.ranking import (
    RankingModelError,
    load_ranking_model,
    ranking_model_from,
    untrained_model,
)
from knowledge.retrieval import RetrievedPassage
from storage.archive import PassageRecord


def candidate(sentence: str, *, article: int, published: str = "2025-05-01") -> Candidate:
    record = PassageRecord(
        passage_id=article * 10,
        article_id=article,
        position=0,
        text=sentence,
        title=f"Article {article}",
        source="Agency",
        url=f"https://news.example/{article}",
        published_at=datetime.fromisoformat(published),
    )
    return Candidate(sentence, RetrievedPassage(record, 0.1, 0.5), 0, None, 0.5, 0.3, 0.5)


def column(matrix: np.ndarray, name: str) -> list[float]:
    return [float(value) for value in matrix[:, FEATURES.index(name)]]


def test_a_round_named_by_its_count_is_the_same_round_as_its_ordinal() -> None:
    assert "second" in analyse("What building hosted round two of the talks?").anchors
    assert "fifth" in analyse("How long was the fifth-round session?").anchors
    assert "second" not in analyse("Did two rounds take place?").anchors


def test_a_sentence_about_another_round_conflicts_with_the_question() -> None:
    question = analyse("How long was the fifth round in Rome?")
    candidates = [
        candidate("The fourth round in Muscat lasted three hours.", article=1),
        candidate("The fifth round in Rome lasted two hours.", article=2),
        candidate("The session in Rome lasted two hours.", article=3),
    ]
    matrix = feature_matrix(question, {"round": 1.0, "rome": 1.0}, candidates)
    assert column(matrix, "anchor_conflict") == [1.0, 0.0, 0.0]


def test_articles_from_the_month_the_question_names_are_marked() -> None:
    question = analyse("How long was the June phone call between Trump and Xi?")
    candidates = [
        candidate("The call lasted about 90 minutes.", article=1, published="2025-06-05"),
        candidate("The call was friendly.", article=2, published="2025-07-03"),
        candidate("Another call was made.", article=3, published="2025-09-20"),
    ]
    matrix = feature_matrix(question, {"call": 1.0}, candidates)
    # Early July still reports on June; September does not.
    assert column(matrix, "anchor_published") == [1.0, 1.0, 0.0]
    undated = feature_matrix(analyse("How long was the call?"), {"call": 1.0}, candidates)
    assert set(column(undated, "anchor_published")) == {0.5}


def confidence_model(threshold: float) -> ConfidenceModel:
    size = len(CONFIDENCE_FEATURES)
    coefficients = np.zeros(size)
    coefficients[CONFIDENCE_FEATURES.index("typed_missing")] = -4.0
    return ConfidenceModel(np.zeros(size), np.ones(size), coefficients, 2.0, threshold)


def test_a_typed_question_whose_best_candidates_hold_no_such_thing_is_declined() -> None:
    question = analyse("Which hotel did the delegation stay at during the Geneva talks?")
    unnamed = [candidate("The delegation left the lakeside hotel.", article=1)]
    named = [candidate("The delegation stayed at the Beau-Rivage in Geneva.", article=1)]
    weights = {"hotel": 1.0, "deleg": 1.0, "geneva": 1.0}
    judge = confidence_model(threshold=0.5)
    model = replace(untrained_model(), confidence=judge)

    replies = []
    for found in (unnamed, named):
        matrix = feature_matrix(question, weights, found)
        probabilities = model.probabilities(matrix)
        confidence = judge.confidence(matrix, probabilities)
        replies.append(select_quotes(question, found, probabilities, model, confidence))

    assert replies[0] == []
    assert [quote.text for quote in replies[1]] == [named[0].sentence]


def test_question_features_weigh_the_best_candidates_only() -> None:
    matrix = np.zeros((4, len(FEATURES)), dtype=np.float32)
    matrix[:, FEATURES.index("typed")] = 1.0
    matrix[3, FEATURES.index("type_match")] = 1.0  # only the least likely holds the type
    row = question_features(matrix, np.array([0.9, 0.5, 0.4, 0.1]))
    assert row[CONFIDENCE_FEATURES.index("typed_missing")] == 1.0
    assert row[CONFIDENCE_FEATURES.index("best_gap")] > 0


def test_the_shipped_weights_carry_a_fitted_refusal_decision_that_survives_json() -> None:
    shipped = load_ranking_model()
    assert shipped.confidence is not None
    assert 0 < shipped.confidence.threshold < 1
    again = ranking_model_from(shipped.as_json())
    assert again.confidence is not None
    assert again.confidence.threshold == shipped.confidence.threshold


def test_refusal_weights_for_other_features_are_refused_with_the_fix() -> None:
    data = load_ranking_model().as_json()
    broken = {**data, "confidence": {**data["confidence"], "features": ["best_logit"]}}  # type: ignore[dict-item]
    with pytest.raises(RankingModelError, match="make train"):
        ranking_model_from(broken)
