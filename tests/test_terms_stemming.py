"""Search terms stay the same whichever Snowball build makes them: stored passages were
indexed under them."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from snowballstemmer.english_stemmer import EnglishStemmer

from knowledge.terms import fold_accents, lemma, term, terms, words

WORDS = (
    "negotiations negotiating negotiated delegates delegation travelling traveled "
    "ceasefire agreements agreeing sanctions presidential generously happiness "
    "relational conditional hopping hoping skies dying lying news arguing "
    "zorrarcoukmeos kremlins istanbul grongrous erdoğan beyoncé"
).split()


def snowball_term(word: str) -> str:
    """The term as Snowball's reference (pure Python) English stemmer makes it."""
    return str(EnglishStemmer().stemWord(lemma(fold_accents(word))))


def test_terms_are_snowballs_english_stems_of_lemmas() -> None:
    assert [term(word) for word in WORDS] == [snowball_term(word) for word in WORDS]


def test_threads_stemming_at_once_get_the_same_terms() -> None:
    batches = [[f"{word}{suffix}ings" for word in WORDS] for suffix in "abcdefghijklmnop"]

    with ThreadPoolExecutor(max_workers=4) as pool:
        found = list(pool.map(lambda batch: [term(word) for word in batch], batches))

    assert found == [[snowball_term(word) for word in batch] for batch in batches]


def test_words_drop_possessives_and_join_initialisms() -> None:
    assert words("The U.S. envoy’s talks and Putin's aides; O'Brien") == [
        "the", "us", "envoy", "talks", "and", "putin", "aides", "o'brien",
    ]  # fmt: skip


def test_a_texts_terms_are_the_callers_own_though_they_are_remembered() -> None:
    first = terms("Delegates led the talks")
    first.append("changed")

    assert terms("Delegates led the talks") == ["deleg", "lead", "the", "talk"]
