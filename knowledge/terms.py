"""Words as search terms: tokens, lemmas ("led" and "leads" are both "lead") and stopwords."""

from __future__ import annotations

import re
from functools import lru_cache

import simplemma

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Dotted initialisms ("U.S.") become one word ("US") before tokenising.
INITIALISM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
POSSESSIVE = re.compile(r"['’]s$")

# Function words and question words: they carry no topic, so they neither find nor rank passages.
STOPWORDS = frozenset(
    """
    a about above after again against all am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further
    had has have having he her here hers herself him himself his how i if in into is it its itself
    just me might more most must my myself no nor not now of off on once only or other ought our
    ours ourselves out over own same shall she should so some such than that the their theirs them
    themselves then there these they this those through to too under until up very was we were
    what when where which while who whom whose why will with would you your yours yourself
    yourselves also did say tell know think anything something someone anyone
    """.split()
)


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The dictionary form of one lower-case word."""
    return str(simplemma.lemmatize(word, lang="en")).lower()


def words(text: str) -> list[str]:
    """Lower-case word tokens, initialisms joined and possessives dropped."""
    text = INITIALISM.sub(lambda match: match.group().replace(".", ""), text)
    return [POSSESSIVE.sub("", token.lower()) for token in WORD.findall(text)]


def lemmas(text: str) -> list[str]:
    """The lemma of every word in the text, in order."""
    return [lemma(word) for word in words(text)]


def content_lemmas(text: str) -> list[str]:
    """Lemmas of the words that carry meaning: no stopwords, no single letters."""
    return [
        term
        for word in words(text)
        if word not in STOPWORDS and (term := lemma(word)) not in STOPWORDS and len(term) > 1
    ]


def index_terms(text: str) -> str:
    """The space-separated lemmas a passage is indexed under."""
    return " ".join(lemmas(text))
