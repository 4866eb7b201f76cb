"""Words that say the same thing in reports on negotiations, which the model's word-piece
vectors hold apart ("team" and "delegation" at a cosine of 0.18, "heading" and "led" 0.15), so
"Who is heading Russia's team?" found a quarter of itself in "the Russian delegation would be
led by …" and was declined. A question word counts as said when the sentence says one of its
synonyms; a phrase of the question is read as the words reports use for it ("top diplomat":
"foreign minister").

The table is short on purpose: the pairs reporters swap for one another in this beat,
measured held out together (README, Quality). Words with a second everyday sense ("title" of
a book, "office" the building, "exchange" of views) stay out.
"""

from __future__ import annotations

from collections.abc import Sequence

from knowledge.answer_types import ROLE_WORDS
from knowledge.questions import DESCRIBING_VERBS, ROLE_NOUNS, AnswerType, QuestionFacts
from knowledge.terms import term

GROUPS = (
    # "China's chief trade negotiator" is its "top trade negotiator"; "Russia's chief
    # negotiator" is who leads its delegation.
    ("lead", "head", "chief", "top"),
    ("team", "delegation", "delegates"),
    ("job", "role", "post", "position"),
    ("spokesman", "spokeswoman", "spokesperson"),
    ("tariff", "duties", "levies"),  # "the tariff cuts" are "lower its duties"
)
PHRASES = {
    ("top", "diplomat"): ("foreign", "minister"),
    ("chief", "diplomat"): ("foreign", "minister"),
}
# "What role does Medinsky hold / play?": with the role noun, these verbs only ask for the
# role, and a sentence that names it rarely repeats them.
ROLE_VERBS = frozenset("hold holds held play plays played serve serves served".split())


def _synonyms() -> dict[str, frozenset[str]]:
    table: dict[str, frozenset[str]] = {}
    for group in GROUPS:
        terms = frozenset(term(word) for word in group)
        for one in terms:
            table[one] = table.get(one, frozenset()) | (terms - {one})
    return table


SYNONYMS = _synonyms()
ROLE_TERMS = frozenset(term(word) for word in ROLE_WORDS)
ROLE_QUESTION_TERMS = frozenset(term(word) for word in ROLE_NOUNS | ROLE_VERBS)
# "How did Beijing characterise the talks?" / "China described the talks as…": asking for
# someone's words, any verb of describing says the question's ("call" only then: not a
# phone call).
DESCRIBING_TERMS = frozenset(term(word) for word in DESCRIBING_VERBS)


def as_reported(words: Sequence[str]) -> list[str]:
    """The question's content words with its phrases put as reports put them."""
    said: list[str] = []
    position = 0
    while position < len(words):
        pair = tuple(word.lower() for word in words[position : position + 2])
        if pair in PHRASES:
            said.extend(PHRASES[pair])
            position += 2
        else:
            said.append(words[position])
            position += 1
    return said


def alike_terms(words: Sequence[str], facts: QuestionFacts) -> dict[str, frozenset[str]]:
    """For each question word, the other terms a sentence may say it with: its synonyms,
    for a question asking someone's role any word of a role, and for one asking someone's
    words any verb of describing."""
    alike: dict[str, frozenset[str]] = {}
    for word in words:
        own = term(word)
        found = SYNONYMS.get(own, frozenset())
        if facts.answer_type is AnswerType.ROLE and own in ROLE_QUESTION_TERMS:
            found |= ROLE_TERMS
        if facts.answer_type is AnswerType.WORDS and own in DESCRIBING_TERMS:
            found |= DESCRIBING_TERMS - {own}
        if found:
            alike[word] = found
    return alike
