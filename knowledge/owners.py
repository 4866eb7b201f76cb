"""Which country a thing belongs to: "the U.S. delegation" is not "the Russian delegation".

Reports of one negotiation name each side's delegation, minister and tariff in the same
words; only the country before the noun tells them apart. A question that names its country
("Who leads the U.S. delegation?") is not answered by a sentence that gives the same noun to
another country, however many words they share.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from knowledge.places import (
    ASKING_FOR_COUNTRY,
    SEATS_OF_GOVERNMENT,
    country_family,
    government_family,
    is_country,
)
from knowledge.terms import POSSESSIVE, STOPWORDS, US_TERM, lemma, term

TOKEN = re.compile(r"[^\W_]+(?:['’.][^\W_]+)*\.?")
# Lower-cased, "us" is the pronoun: only these spellings are the country.
UNITED_STATES = frozenset({"US", "USA"})  # dots dropped: "U.S." is "US"
ASKS_FOR_COUNTRY = re.compile(rf"\b(?:{'|'.join(sorted(ASKING_FOR_COUNTRY))})\b", re.I)
US_NAMED = re.compile(r"(?<![\w.])(?:U\.S\.(?:A\.)?|USA?|United States)(?!\w)")


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


def owned(text: str) -> list[Owned]:
    """The nouns a country owns in the text: the word right after a name of it that qualifies
    what follows ("Russia's", "Russian", "U.S."), not one that acts ("Russia launched", "the
    Russians said"). Countries named together own it together: "US-Iran nuclear talks",
    "the Russian and Ukrainian delegations"."""
    raw = TOKEN.findall(text)
    words = [POSSESSIVE.sub("", token).rstrip(".") or token for token in raw]
    mentions = _mentions(raw)
    pairs: list[Owned] = []
    position = 0
    while position < len(words):
        if position not in mentions:
            position += 1
            continue
        group, owns, after = set(), False, position
        while after < len(words):
            if after in mentions:  # "US-Iran": hyphenated names are adjacent words
                group.add(mentions[after][0])
                owns = owns or mentions[after][1]
            elif not (words[after].lower() == "and" and mentions.get(after + 1, ("", False))[1]):
                break
            after += 1
        noun = words[after].lower() if after < len(words) else ""
        if owns and noun and noun not in STOPWORDS and lemma(noun) not in STOPWORDS:
            pairs.extend(Owned(member, term(noun)) for member in sorted(group))
        position = after
    return pairs


def _mentions(raw: Sequence[str]) -> dict[int, tuple[str, bool]]:
    """Each name of a country among the tokens, by position: the country's key, and whether
    it may own the next noun ("U.S.", "United States" and "American" are one country)."""
    found: dict[int, tuple[str, bool]] = {}
    for position, token in enumerate(raw):
        word = POSSESSIVE.sub("", token)
        possessive = word != token
        if names_united_states(raw, position):
            if word != "United":  # "United States" is one mention, at "States"
                found[position] = (country_family(US_TERM), True)
            continue
        if not word[:1].isupper():
            continue
        lowered = word.lower()
        # The capital first: "Washington" in a report is the U.S. government, not the state.
        if capital := government_family(term(lowered)):
            found[position] = (capital, possessive or lowered in SEATS_OF_GOVERNMENT)
        elif family := country_family(term(lowered)):
            # A people's adjective qualifies ("Russian officials"); a plural acts.
            adjective = not is_country(word) and not lowered.endswith("s")
            found[position] = (family, possessive or adjective)
    return found


def asked(question: str) -> list[Owned]:
    """The nouns the question's countries own, unless it asks for a country itself: "Along
    with German immigrants, immigrants of what nationality…" wants another country's."""
    if ASKS_FOR_COUNTRY.search(question):
        return []
    return owned(question)


def conflict(
    question: Sequence[Owned],
    sentence: str,
    alike: Mapping[str, frozenset[str]] | None = None,
) -> float:
    """1 when the sentence gives a noun the question owns to another country only, and
    never to the question's country ("the Russian delegation" for "the U.S. delegation").
    `alike`: the other terms of each noun (synonyms): "Russia's delegation" is the question's
    "Russia's team", whatever the sentence gives the word "team" to."""
    if not question:
        return 0.0
    said = owned(sentence)
    clash = False
    for wanted in question:
        nouns = {wanted.noun} | (alike or {}).get(wanted.noun, frozenset())
        owners = {pair.country for pair in said if pair.noun in nouns}
        if wanted.country in owners:
            return 0.0
        clash = clash or bool(owners)
    return float(clash)
