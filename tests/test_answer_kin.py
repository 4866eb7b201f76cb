"""A country and its people's adjective are one name: "Russia's team" is the Russian
delegation, and "the Chinese delegation" is not the Russian one."""

from __future__ import annotations

from knowledge.evidence import feature_matrix
from knowledge.places import with_kin
from knowledge.questions import analyse
from knowledge.terms import term_set
from tests.support.candidates import candidate, column


def test_countries_and_their_adjectives_find_each_other() -> None:
    for country, adjective in [
        ("Russia", "Russian"),
        ("China", "Chinese"),
        ("Iran", "Iranian"),
        ("Oman", "Omani"),
        ("Ukraine", "Ukrainian"),
        ("Italy", "Italian"),
        ("France", "French"),
    ]:
        assert term_set(adjective) <= with_kin(term_set(country)), (country, adjective)
        assert term_set(country) <= with_kin(term_set(adjective)), (country, adjective)


def test_common_words_gain_no_kin() -> None:
    assert with_kin(term_set("the team met on Monday")) == term_set("the team met on Monday")
    # "US" is the pronoun "us" once lower-cased: it must not make every "we" American.
    assert "we" not in with_kin(term_set("American"))


def test_a_question_naming_a_country_is_matched_by_its_adjective() -> None:
    question = analyse("Who will head Russia's team at the Istanbul talks?")
    candidates = [
        candidate("The Russian delegation will be led by Vladimir Medinsky.", article=1),
        candidate("The Ukrainian delegation will be led by Rustem Umerov.", article=2),
    ]
    matrix = feature_matrix(question, {"russia": 1.0, "team": 1.0}, candidates)
    assert column(matrix, "names_sentence") == [0.5, 0.0]  # Russia yes, Istanbul no
    assert column(matrix, "names_missing")[0] < column(matrix, "names_missing")[1]
    assert column(matrix, "terms")[0] > column(matrix, "terms")[1]
