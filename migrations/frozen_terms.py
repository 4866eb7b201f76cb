"""Search terms as revisions 0002 and 0008 index them, frozen here.

Revisions never import the application: what a revision writes must not change when
``knowledge.terms`` does later. This is ``knowledge.terms.index_terms`` as it was when 0008
shipped (the lemma's stem of every word, accents folded), and the tsvector spelling of those
terms for PostgreSQL. Never edit it; a later change to the terms gets its own revision.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from functools import lru_cache

import simplemma
import snowballstemmer

WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
INITIALISM = re.compile(r"\b(?:[^\W\d_]\.){2,}")
POSSESSIVE = re.compile(r"['’]s$")
# PostgreSQL's limits: a lexeme's length in bytes, its positions, the largest position.
MAX_LEXEME_BYTES = 2046
MAX_POSITIONS = 256
MAX_POSITION = 16383

_stemmer = snowballstemmer.stemmer("english")


@lru_cache(maxsize=65536)
def _term(word: str) -> str:
    lemma = str(simplemma.lemmatize(word, lang="en")).lower()
    folded = "".join(
        char for char in unicodedata.normalize("NFKD", lemma) if not unicodedata.combining(char)
    )
    return str(_stemmer.stemWord(folded))


def index_terms(text: str) -> str:
    """The space-separated terms a passage is indexed under."""
    text = INITIALISM.sub(lambda match: match.group().replace(".", ""), text)
    words = [POSSESSIVE.sub("", token.lower()) for token in WORD.findall(text)]
    return " ".join(_term(word) for word in words)


def tsvector_literal(terms: str) -> str:
    """The terms as PostgreSQL tsvector input, each with its positions, taken as they are
    (no parser or dictionary of PostgreSQL's touches them)."""
    positions: defaultdict[str, list[int]] = defaultdict(list)
    for position, term in enumerate(terms.split(), start=1):
        if len(term.encode()) <= MAX_LEXEME_BYTES:
            positions[term].append(min(position, MAX_POSITION))
    return " ".join(
        f"{quoted_lexeme(term)}:{','.join(map(str, sorted(set(places))[:MAX_POSITIONS]))}"
        for term, places in positions.items()
    )


def quoted_lexeme(term: str) -> str:
    """One lexeme quoted for tsvector or tsquery input."""
    return "'" + term.replace("\\", "\\\\").replace("'", "''") + "'"
