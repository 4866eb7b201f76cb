"""What a question asks for: the kind of answer, whether it is about the present, and the
dates and ordinals that tie it to one event among several alike."""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass
from enum import Enum

from knowledge.places import is_country
from knowledge.terms import STOPWORDS, content_terms, lemma, name_terms, names, term, words


class Measure(Enum):
    """How the thing asked for is told apart in a sentence: "how many centrifuges" wants a
    count of centrifuges, not any number. ("Which city" wants a name, but answers rarely say
    "city", so names are left to the answer type.)"""

    NONE = "none"
    COUNT = "count"  # how many X: a number before X
    AMOUNT = "amount"  # how much X, what dollar amount: a figure near X
    DURATION = "duration"  # how long: a number of hours, days, weeks…
    SHARE = "share"  # what percentage: a per cent figure


class AnswerType(Enum):
    """The kind of thing that answers a question."""

    PERSON = "person"
    PLACE = "place"
    DATE = "date"
    NUMBER = "number"
    ROLE = "role"  # what someone the question names does: "What is Fomin's job?"
    WORDS = "words"  # the words someone used: "How did Beijing characterise the talks?"
    OTHER = "other"


# Nouns that, after "which" or "what", ask for a person or a place ("which Omani official").
PERSON_NOUNS = frozenset(
    "official officials minister ministers diplomat diplomats envoy envoys negotiator "
    "negotiators spokesman spokeswoman spokesperson leader leaders president chief head "
    "ambassador representative person people man woman secretary deputy adviser advisor "
    "mediator premier chancellor king queen prince general commander author player singer "
    "actor actress director member members founder composer artist".split()
)
PLACE_NOUNS = frozenset(
    "city cities country countries place venue building hotel capital site sites town "
    "region state province location embassy palace island port airport facility "
    "facilities district county continent nation street".split()
)
# Nouns that, after "which" or "what", ask for what a named person does ("what role does
# Medinsky hold"). Not "title" (of a book as often as of a person) nor "position" alone
# when the question names no person ("what position did China take" asks for a stance).
ROLE_NOUNS = frozenset(
    "role roles job jobs post posts position office rank occupation profession portfolio".split()
)
# After "how", these verbs ask for the words someone put on something, which reports quote:
# "How did the spokesman sum up the round?" / called it "difficult but useful".
DESCRIBING_VERBS = frozenset(
    "describe characterise characterize sum summarise summarize call term label dub brand "
    "portray labelled labeled".split()  # the dictionary has no lemma for "labelled"
)
SHARE_WORDS = frozenset("percent percentage share proportion".split())
DATE_NOUNS = frozenset("date day month year time decade century weekday".split())
QUANTITY_WORDS = frozenset(
    "many much long often far large big old percent percentage rate share amount number "
    "cost price size population total value worth tariff tariffs deficit surplus revenue "
    "revenues budget fee fees fine tax taxes duty duties levy levies salary wage debt gdp "
    "inflation".split()
)
# Words between "what" and the noun it asks about: "what was the US tariff…?" asks for a
# figure as "what tariff…?" does.
LEADING_WORDS = frozenset("is was are were the a an".split())
# Words that make a question about the state of things now, where the newest report wins.
PRESENT_MARKERS = (
    "now",
    "currently",
    "current",
    "latest",
    "these days",
    "most recent",
    "recently",
    "at the moment",
    "at present",
    "presently",
    "today",
    "still",
    "next",
    "so far",
    "to date",
    "yet",
    "anymore",
    "any more",
    "as of",
    "upcoming",
)
ORDINALS = frozenset(
    "first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth "
    "1st 2nd 3rd 4th 5th 6th 7th 8th 9th 10th".split()
)
MONTH_NUMBERS = {
    name: number
    for number, name in enumerate(
        "january february march april may june july august september october november "
        "december".split(),
        start=1,
    )
}
MONTHS = frozenset(MONTH_NUMBERS)
CALENDAR_WORDS = MONTHS | frozenset(
    "monday tuesday wednesday thursday friday saturday sunday".split()
)
CALENDAR_TERMS = frozenset(term(word) for word in CALENDAR_WORDS)
YEAR = re.compile(r"^(1[5-9]|20)\d\d$")
# "round two" is the second round: a count after the name of a stage is its ordinal.
STAGES = frozenset("round rounds session sessions phase stage meeting leg day week".split())
CARDINAL_ORDINALS = dict(
    zip(
        "one two three four five six seven eight nine ten".split(),
        "first second third fourth fifth sixth seventh eighth ninth tenth".split(),
        strict=True,
    )
)
CARDINAL_ORDINALS.update(
    {str(number): ordinal for number, ordinal in enumerate(CARDINAL_ORDINALS.values(), 1)}
)


@dataclass(frozen=True)
class QuestionFacts:
    """What the answerer needs to know about a question before reading any article."""

    text: str
    answer_type: AnswerType
    about_present: bool
    terms: tuple[str, ...]  # content terms, for coverage
    names: frozenset[str]  # terms of the names the question itself mentions
    anchors: frozenset[str]  # ordinals, months, years and numbers that pin down one event
    measure: Measure = Measure.NONE
    focus: frozenset[str] = frozenset()  # terms of the noun asked about ("centrifuges")


def analyse(question: str) -> QuestionFacts:
    """The facts of a question, from its wording alone."""
    tokens = words(question)
    kind = answer_type(tokens)
    if kind is AnswerType.ROLE and not names_someone(question):
        kind = AnswerType.OTHER
    return QuestionFacts(
        text=question,
        answer_type=kind,
        about_present=about_present(question),
        terms=tuple(content_terms(question)),
        # Months and weekdays are capitalised but name no one ("the June and July rounds").
        names=frozenset(name_terms(question)) - CALENDAR_TERMS,
        anchors=frozenset(
            token
            for token in tokens
            if token in ORDINALS or token in MONTHS or YEAR.match(token) or token.isdigit()
        )
        | stage_ordinals(tokens),
        measure=(focus := question_focus(tokens))[0],
        focus=focus[1],
    )


def question_focus(tokens: list[str]) -> tuple[Measure, frozenset[str]]:
    """What the question counts or names, and the words of the thing it asks about."""
    for index, token in enumerate(tokens):
        following = tokens[index + 1 : index + 5]
        if token == "how" and following:
            return _how_focus(following[0], following[1:])
        if token in ("which", "what"):
            return _which_focus(following)
        if token in ("who", "whom", "whose", "where", "when", "why"):
            break
    return Measure.NONE, frozenset()


def _how_focus(word: str, rest: list[str]) -> tuple[Measure, frozenset[str]]:
    if word == "many":
        return Measure.COUNT, _noun_words(rest)
    if word == "much":
        return Measure.AMOUNT, _noun_words(rest)
    if word in ("long", "old"):
        return Measure.DURATION, frozenset()
    return Measure.NONE, frozenset()


def _which_focus(following: list[str]) -> tuple[Measure, frozenset[str]]:
    for index, word in enumerate(following[:3]):
        if word in SHARE_WORDS:
            return Measure.SHARE, frozenset()
        if word in ("amount", "sum", "cost", "price", "value"):
            return Measure.AMOUNT, _noun_words(following[:index])
    return Measure.NONE, frozenset()


def _noun_words(following: list[str]) -> frozenset[str]:
    """The terms of the words up to the first function word: "centrifuges were destroyed"
    gives "centrifuges", "Israeli fighter jets took part" the first three."""
    found = []
    for word in following[:3]:
        if word in STOPWORDS:
            break
        found.append(term(word))
    return frozenset(found)


def stage_ordinals(tokens: list[str]) -> frozenset[str]:
    """The ordinals a question names by count: "round two" is the "second" round."""
    return frozenset(
        CARDINAL_ORDINALS[token]
        for before, token in itertools.pairwise(tokens)
        if before in STAGES and token in CARDINAL_ORDINALS
    )


def about_present(question: str) -> bool:
    """Whether the question asks how things stand now rather than at some past moment."""
    lowered = " " + " ".join(words(question)) + " "
    return any(f" {marker} " in lowered for marker in PRESENT_MARKERS)


def answer_type(tokens: list[str]) -> AnswerType:
    """The kind of answer the question's wording asks for, from its first question word:
    in "what kind of deal did they seek when talks began" the "when" asks nothing."""
    for index, token in enumerate(tokens):
        following = tokens[index + 1 : index + 4]
        if token in ("who", "whom", "whose"):
            return AnswerType.PERSON
        if token == "where":
            return AnswerType.PLACE
        if token == "when":
            return AnswerType.DATE
        if token == "how":
            return _how_type(following, tokens[index + 1 :])
        if token in ("which", "what"):
            rest = tokens[index + 1 :]
            skipped = next((i for i, word in enumerate(rest) if word not in LEADING_WORDS), 0)
            return _noun_type(rest[skipped : skipped + 3])
    return AnswerType.OTHER


def names_someone(question: str) -> bool:
    """Whether the question names someone: a capitalised word past the first that is no
    country ("Medinsky", not "China")."""
    return any(
        not is_country(name) and name.lower() not in CALENDAR_WORDS for name in names(question)
    )


def _how_type(following: list[str], rest: list[str]) -> AnswerType:
    """ "How many…" asks for a number, "how did they describe…" for someone's words."""
    if following and following[0] in QUANTITY_WORDS:
        return AnswerType.NUMBER
    if any(lemma(word) in DESCRIBING_VERBS for word in rest):
        return AnswerType.WORDS
    return AnswerType.OTHER


def _noun_type(following: list[str]) -> AnswerType:
    """The type asked for by the noun after "which"/"what" ("which city", "what date")."""
    for word in following[:3]:
        if word in ROLE_NOUNS:
            return AnswerType.ROLE
        if word in PERSON_NOUNS:
            return AnswerType.PERSON
        if word in PLACE_NOUNS:
            return AnswerType.PLACE
        if word in DATE_NOUNS:
            return AnswerType.DATE
        if word in QUANTITY_WORDS:
            return AnswerType.NUMBER
    return AnswerType.OTHER
