"""Words as search terms: "led", "leads" and "leading" are all "lead".

A word is lemmatised first (irregular forms: "led" is "lead") and then stemmed (families
the dictionary misses: "delegates" and "delegation", "travelling" and "travel").
"""

from __future__ import annotations

import re
import threading
import unicodedata
from functools import lru_cache

import simplemma
import snowballstemmer

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
# Dotted initialisms ("U.S.") become one word ("US") before tokenising.
INITIALISM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
POSSESSIVE = re.compile(r"['’]s$")
# The term of "USA", which the United States goes by: the terms of "US" and "U.S." are the
# pronoun's ("we"), a stopword.
US_TERM = "usa"

# Function words and question words: they carry no topic, so they neither find nor rank passages.
STOPWORDS = frozenset(
    (
        "a about above after again against all am an and any are as at be because been before "
        "being below between both but by can could did do does doing down during each few for "
        "from further had has have having he her here hers herself him himself his how i if in "
        "into is it its itself just me might more most must my myself no nor not now of off on "
        "once only or other ought our ours ourselves out over own same shall she should so some "
        "such than that the their theirs them themselves then there these they this those through "
        "to too under until up very was we were what when where which while who whom whose why "
        "will with would you your yours yourself yourselves also did say tell know think anything "
        "something someone anyone "
    ).split()
)


# One stemmer a thread: a stemmer keeps the word it is working on in itself (PyStemmer's C
# one, which snowballstemmer hands out when installed, says it must not be shared), and
# passages are turned into terms on ingest threads while questions are answered.
_stemmers = threading.local()


def _stem(word: str) -> str:
    stemmer = getattr(_stemmers, "english", None)
    if stemmer is None:
        stemmer = _stemmers.english = snowballstemmer.stemmer("english")
    return str(stemmer.stemWord(word))


@lru_cache(maxsize=65536)
def lemma(word: str) -> str:
    """The dictionary form of one lower-case word."""
    return str(simplemma.lemmatize(word, lang="en")).lower()


@lru_cache(maxsize=65536)
def term(word: str) -> str:
    """The search term of one lower-case word: its lemma's stem, accents folded, since
    people type "Beyonce" and "Erdogan" for "Beyoncé" and "Erdoğan"."""
    return _stem(lemma(fold_accents(word)))


def fold_accents(word: str) -> str:
    """The word without diacritics: "é" is "e"."""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def words(text: str) -> list[str]:
    """Lower-case word tokens, initialisms joined and possessives dropped."""
    text = INITIALISM.sub(lambda match: match.group().replace(".", ""), text)
    # Only a token with an apostrophe can end in a possessive: the others skip the regex.
    return [
        POSSESSIVE.sub("", token.lower()) if "'" in token or "’" in token else token.lower()
        for token in WORD.findall(text)
    ]


def terms(text: str) -> list[str]:
    """The search term of every word in the text, in order."""
    return list(_terms(text))


@lru_cache(maxsize=4096)
def _terms(text: str) -> tuple[str, ...]:
    # Remembered: an answer reads the same sentence's terms several times (to pick the
    # sentences worth embedding, as the next one's predecessor, to weigh it), each ~70 us.
    return tuple(term(word) for word in words(text))


@lru_cache(maxsize=32_768)
def term_set(text: str) -> frozenset[str]:
    """The distinct terms of a text; remembered, since the same sentences and passages are
    weighed again for every related question."""
    return frozenset(_terms(text))


def content_terms(text: str) -> list[str]:
    """Terms of the words that carry meaning: no stopwords, no single letters."""
    return [
        term(word)
        for word in words(text)
        if word not in STOPWORDS and lemma(word) not in STOPWORDS and len(word) > 1
    ]


def names(text: str) -> list[str]:
    """The names in a question as written, possessives dropped: capitalised words past the
    first, and acronyms."""
    text = INITIALISM.sub(lambda match: match.group().replace(".", ""), text)
    found = []
    for position, token in enumerate(WORD.findall(text)):
        word = POSSESSIVE.sub("", token)
        is_acronym = len(word) > 1 and word.isupper()
        if (is_acronym or (position > 0 and word[:1].isupper())) and word.lower() not in STOPWORDS:
            found.append(word)
    return found


def name_terms(text: str) -> list[str]:
    """Terms of the names in a question (see `names`); "US" is the country, not the pronoun."""
    return [US_TERM if name == "US" else term(name.lower()) for name in names(text)]


def index_terms(text: str) -> str:
    """The space-separated terms a passage is indexed under."""
    return " ".join(terms(text))
