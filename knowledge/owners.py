"""Which country a thing belongs to: "the U.S. delegation" is not "the Russian delegation".

Reports of one negotiation name each side's delegation, minister and tariff in the same
words; only the country before the noun tells them apart. A question that names its country
("Who leads the U.S. delegation?") is not answered by a sentence that gives the same noun to
another country, however many words they share.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from knowledge.places import SEATS_OF_GOVERNMENT, country_family, government_family, is_country
from knowledge.terms import STOPWORDS, US_TERM, term

TOKEN = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*\.?")
POSSESSIVE = re.compile(r"['’]s$")
# Lower-cased, "us" is the pronoun: only these spellings are the country.
UNITED_STATES = frozenset({"US", "USA"})  # dots dropped: "U.S." is "US"
US_NAMED = re.compile(r"(?<![\w.])(?:U\.S\.(?:A\.)?|USA?|United States)(?!\w)")
# A country owns a noun this many words on: "Russia's deputy defence minister".
REACH = 3


@dataclass(frozen=True)
class Owned:
    """A noun and the country named just before it."""

    country: str
    noun: str


def us_terms(text: str) -> frozenset[str]:
    """The term the United States goes by when the text names it: the terms of "US" and
    "U.S." are the pronoun's, which no question can ask for."""
    return frozenset({US_TERM}) if US_NAMED.search(text) else frozenset()


def names_united_states(words: Sequence[str], position: int) -> bool:
    """Whether the word at `position` is (part of) a name of the United States."""
    word = words[position]
    if word.replace(".", "") in UNITED_STATES:
        return True
    after = words[position + 1] if position + 1 < len(words) else ""
    before = words[position - 1] if position > 0 else ""
    return (word, after) == ("United", "States") or (before, word) == ("United", "States")


def united_states() -> str:
    """The key of the United States among the countries."""
    return country_family(US_TERM)


def _words(text: str) -> list[str]:
    return [POSSESSIVE.sub("", token).rstrip(".") or token for token in TOKEN.findall(text)]


def countries(text: str) -> list[tuple[int, str]]:
    """Each word that names a country or its people, with its position, as the country's
    key: "U.S.", "United States" and "American" are all one country."""
    return [(position, country) for position, country, _ in _mentions(text)]


def owned(text: str) -> list[Owned]:
    """The nouns a country owns in the text: the first content word after a name of it that
    qualifies what follows ("Russia's", "Russian", "U.S."), not one that acts ("Russia
    launched", "the Russians said")."""
    words = _words(text)
    pairs = []
    for position, country, owns in _mentions(text):
        if not owns:
            continue
        for word in words[position + 1 : position + 1 + REACH]:
            lowered = word.lower()
            if lowered in STOPWORDS or _family(term(lowered)) or word == "States":
                continue
            pairs.append(Owned(country, term(lowered)))
            break
    return pairs


def _mentions(text: str) -> list[tuple[int, str, bool]]:
    """Each name of a country: position, country key, and whether it may own the next noun."""
    raw = TOKEN.findall(text)
    found = []
    for position, token in enumerate(raw):
        word = POSSESSIVE.sub("", token)
        possessive = word != token
        if names_united_states(raw, position):
            if word != "United":  # "United States" is one mention, at "States"
                found.append((position, united_states(), True))
            continue
        if not word[:1].isupper():
            continue
        lowered = word.lower()
        if capital := government_family(term(lowered)):
            found.append((position, capital, possessive or lowered in SEATS_OF_GOVERNMENT))
        elif family := country_family(term(lowered)):
            # A people's adjective qualifies ("Russian officials"); a plural acts.
            adjective = not is_country(word) and not lowered.endswith("s")
            found.append((position, family, possessive or adjective))
    return found


def _family(word_term: str) -> str:
    # The capital first: "Washington" in a report is the U.S. government, not the state.
    return government_family(word_term) or country_family(word_term)


def conflict(question: Sequence[Owned], sentence: str) -> float:
    """1 when the sentence gives a noun the question owns to another country only, and
    never to the question's country ("the Russian delegation" for "the U.S. delegation")."""
    if not question:
        return 0.0
    said = owned(sentence)
    clash = False
    for wanted in question:
        owners = {pair.country for pair in said if pair.noun == wanted.noun}
        if wanted.country in owners:
            return 0.0
        clash = clash or bool(owners)
    return float(clash)
