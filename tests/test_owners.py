"""Which country a noun belongs to, and the sentences that give it to another."""

from __future__ import annotations

import numpy as np
import pytest

from knowledge.answer_types import new_names
from knowledge.evidence import FEATURES
from knowledge.owners import asked, conflict, owned, us_terms
from knowledge.ranking import RankingModel
from knowledge.synonyms import SYNONYMS
from knowledge.terms import name_terms

RUSSIAN = "The Kremlin said the Russian delegation would be led by Vladimir Medinsky."
AMERICAN = "The U.S. delegation includes Secretary of State Marco Rubio."


@pytest.mark.parametrize(
    "text",
    [
        "the U.S. delegation",
        "the US delegation",
        "the United States delegation",
        "the American delegation",
        "America's delegation",
        "the USA's delegation",
    ],
)
def test_every_name_of_the_united_states_owns_the_delegation_alike(text: str) -> None:
    assert owned(text) == owned("the U.S. delegation")
    assert [pair.noun for pair in owned(text)] == ["deleg"]


def test_a_possessive_country_owns_the_noun_after_it() -> None:
    [pair] = owned("Who is Russia's deputy defence minister?")

    assert pair == owned("the Russian deputy minister")[0]
    assert pair.noun == "deputi"


def test_the_pronoun_us_and_lower_case_words_are_no_country() -> None:
    # Were case ignored, "us" would own "officials" and "turkey's" would own "price".
    assert owned("They told us officials would pay the turkey's price.") == []
    assert owned("They told US officials would pay Turkey's price.") == [
        *owned("US officials"),
        *owned("Turkey's price"),
    ]
    assert owned("US officials")
    assert us_terms("Tell us more.") == frozenset()
    assert us_terms("U.S. officials said") == {"usa"}


def test_a_sentence_giving_the_noun_to_another_country_conflicts() -> None:
    question = owned("Who leads the U.S. delegation?")

    assert conflict(question, RUSSIAN) == 1.0
    assert conflict(question, AMERICAN) == 0.0
    # Both delegations named: the sentence may well answer.
    assert conflict(question, "The U.S. delegation met the Russian delegation.") == 0.0
    # The noun unowned, or a question that names no country: nothing to conflict with.
    assert conflict(question, "The delegation arrived on Thursday.") == 0.0
    assert conflict(owned("Who leads the delegation?"), RUSSIAN) == 0.0


def test_a_noun_said_with_a_synonym_belongs_to_its_country_alike() -> None:
    question = asked("Who led Russia's team in Istanbul?")
    sentence = (
        "Russia's delegation was led by presidential aide Vladimir Medinsky, while Defence "
        "Minister Rustem Umerov headed Ukraine's team."
    )
    # "Russia's delegation" is the question's "Russia's team": the word "team" going to
    # Ukraine later in the sentence is no conflict (it vetoed the answer before).
    assert conflict(question, sentence, SYNONYMS) == 0.0
    assert conflict(question, sentence) == 1.0
    assert conflict(question, "Ukraine's delegation was led by Umerov.", SYNONYMS) == 1.0


def test_a_question_naming_the_us_keeps_its_country() -> None:
    assert "usa" in name_terms("Who leads the US delegation?")
    # With the country known, its names in a sentence are not new to the question.
    asked = [name for _, name in new_names(AMERICAN, frozenset({"usa"}))]
    unasked = [name for _, name in new_names(AMERICAN, frozenset())]

    assert "U.S" in unasked
    assert "U.S" not in asked
    assert "Rubio" in asked


def test_a_conflicting_candidate_is_never_likely() -> None:
    # The regression may weigh it at next to nothing (too rare to fit): the veto holds anyway.
    size = len(FEATURES)
    model = RankingModel(
        features=FEATURES,
        means=np.zeros(size),
        scales=np.ones(size),
        coefficients=np.ones(size),
        intercept=0.0,
        min_probability=0.1,
        companion_ratio=0.5,
        present_ratio=0.5,
    )
    matrix = np.ones((2, size), dtype=np.float32)
    matrix[1, FEATURES.index("owner_conflict")] = 0.0

    probabilities = model.probabilities(matrix)

    assert probabilities[0] == 0.0
    assert probabilities[1] > 0.99


def test_a_capital_speaks_for_its_country() -> None:
    question = owned("Who leads Kyiv's delegation?")

    assert question == owned("the Ukrainian delegation")
    assert conflict(question, RUSSIAN) == 1.0
    assert owned("Washington's tariffs") == owned("U.S. tariffs")
    assert owned("Kremlin aide Yuri Ushakov") == owned("Russian aide Yuri Ushakov")


def test_a_country_that_acts_owns_nothing() -> None:
    # Only a name that qualifies the next word owns it: "Russia launched" is no "Russian
    # launch", and "talks in Moscow ended" no Moscow's ending.
    assert owned("Russia launched the invasion.") == []
    assert owned("The Russians said the talks would go on.") == []
    assert owned("The talks in Moscow ended.") == []
    question = owned("When did Russia's invasion begin?")
    assert conflict(question, "Ukraine launched a counter-offensive.") == 0.0


def test_countries_named_together_own_the_noun_together() -> None:
    question = owned("Which city hosted the latest round of US-Iran nuclear negotiations?")

    # The Iranian programme is the talks' subject: no conflict with the U.S. in the question.
    assert conflict(question, "Talks over Iran's nuclear programme ended in Rome.") == 0.0
    assert conflict(question, "Oman's nuclear plans were not discussed.") == 1.0
    assert owned("the Russian and Ukrainian delegations") == [
        *owned("the Russian delegations"),
        *owned("the Ukrainian delegations"),
    ]


def test_a_question_asking_for_a_country_accepts_another() -> None:
    question = "Along with German immigrants, immigrants of what nationality came?"

    assert asked(question) == []
    assert conflict(asked(question), "A large influx of Irish immigrants came.") == 0.0
    assert asked("Who leads the U.S. delegation?") == owned("Who leads the U.S. delegation?")
