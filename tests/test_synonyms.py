"""Synonyms reporters swap for one another count as the question's own words."""

from __future__ import annotations

import pytest

from knowledge.questions import analyse
from knowledge.synonyms import alike_terms, as_reported
from knowledge.wordsim import WordSimilarity, content_words


def _coverage(words: WordSimilarity, question: str, sentence: str) -> tuple[float, float]:
    """The sentence's soft coverage of the question with and without the synonyms."""
    said = as_reported(content_words(question))
    alike = alike_terms(said, analyse(question))
    own = content_words(sentence)
    with_synonyms = words.soft_coverage([(word, 1.0) for word in said], own, alike)
    plain = [(word, 1.0) for word in content_words(question)]
    return with_synonyms, words.soft_coverage(plain, own)


@pytest.mark.model
def test_head_and_team_are_said_as_led_and_delegation(words: WordSimilarity) -> None:
    found, plain = _coverage(
        words, "Who heads the team?", "The delegation would be led by Vladimir Medinsky."
    )
    assert found == pytest.approx(1.0)
    assert plain < 0.6  # the word-piece vectors alone hold these words apart


@pytest.mark.model
def test_a_question_about_someones_job_is_covered_by_any_word_of_a_role(
    words: WordSimilarity,
) -> None:
    sentence = "The talks include Deputy Defense Minister Alexander Fomin."
    found, plain = _coverage(words, "What job does Fomin hold?", sentence)
    assert found == pytest.approx(1.0)
    assert plain < found
    # Outside a question about a role, "job" is just a word the sentence does not say.
    other, _ = _coverage(words, "How many jobs did the deal create?", sentence)
    assert other < 0.6


def test_a_phrase_is_read_as_reports_put_it() -> None:
    assert as_reported(["Ukraine", "top", "diplomat"]) == ["Ukraine", "foreign", "minister"]
    assert as_reported(["top", "official"]) == ["top", "official"]


@pytest.mark.model
def test_asking_for_someones_words_any_verb_of_describing_says_it(
    words: WordSimilarity,
) -> None:
    sentence = 'China described the talks as "in-depth, candid and constructive".'
    found, plain = _coverage(words, "How did China characterise the talks?", sentence)
    assert found == pytest.approx(1.0)
    assert plain < found
    # Elsewhere "call" is a phone call, not a way of describing.
    other, _ = _coverage(words, "Who did Trump call?", "Trump described the talks as good.")
    assert other < 0.6


def test_words_with_no_synonyms_have_no_alike_terms() -> None:
    facts = analyse("Where were the talks held?")
    assert alike_terms(["talks", "held"], facts) == {}


@pytest.mark.model
def test_a_chief_negotiator_is_the_top_negotiator(words: WordSimilarity) -> None:
    # "Who is China's chief trade negotiator?" quoted the EU's "foreign policy chief" over
    # "Li Chenggang, China's top trade negotiator" (dev articles, `parley ask`).
    found, plain = _coverage(
        words,
        "Who is China's chief trade negotiator?",
        "Li Chenggang, China's top trade negotiator, told reporters.",
    )
    assert found == pytest.approx(1.0)
    assert plain < found


@pytest.mark.model
@pytest.mark.parametrize(
    ("question", "sentence"),
    [
        (
            "How did the foreign ministry spokesman describe the round?",
            "A spokesperson for the foreign ministry described the round as difficult.",
        ),
        (
            "When did the tariff cuts start?",
            "The US will cut its duties on goods from China, starting on May 14.",
        ),
    ],
)
def test_a_spokesman_is_a_spokesperson_and_tariffs_are_duties(
    words: WordSimilarity, question: str, sentence: str
) -> None:
    found, plain = _coverage(words, question, sentence)
    assert found == pytest.approx(1.0)
    assert plain < found
