"""Tying a question to one event among several alike: the round it names, the month it names."""

from __future__ import annotations

import numpy as np

from knowledge.evidence import FEATURES, feature_matrix
from knowledge.questions import analyse
from tests.support.candidates import candidate


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
        candidate("The call lasted about 90 minutes.", article=1, date="2025-06-05"),
        candidate("The call was friendly.", article=2, date="2025-07-03"),
        candidate("Another call was made.", article=3, date="2025-09-20"),
    ]
    matrix = feature_matrix(question, {"call": 1.0}, candidates)
    # Early July still reports on June; September does not.
    assert column(matrix, "anchor_published") == [1.0, 1.0, 0.0]
    undated = feature_matrix(analyse("How long was the call?"), {"call": 1.0}, candidates)
    assert set(column(undated, "anchor_published")) == {0.5}
