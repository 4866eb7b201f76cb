"""Properties of the text paths, over generated input: cleaning, sentence splitting, passages
and the length caps lose no words, respect their caps and never crash."""

from __future__ import annotations

from collections.abc import Iterable

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from knowledge.chunking import chunk_passages, count_words
from knowledge.cleaning import (
    BOILERPLATE,
    MAX_ARTICLE_CHARS,
    MAX_PARAGRAPHS,
    bounded,
    comparable,
    remove_noise,
)
from knowledge.sentences import WINDOW_CHARS, split_sentences
from storage.limits import MAX_TITLE_CHARS, fitted_title

CHECKS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# For the inputs of thousands of characters: pysbd takes some 20 ms a thousand.
HEAVY = settings(CHECKS, max_examples=15)
WORDS = [
    "talks", "Geneva", "U.S.", "Mr.", "Kyiv's", "ceasefire", "a", "the", "1,000", "No.", "e.g.",
    "(AP)", "“quoted”", "—", "Dr.", "St.", "3.5", "envoy", "said", "again", "Ave.", "i.e.",
]  # fmt: skip
ENDS = ["", ".", "!", "?", "…", '."', ".”", "?!", ";", ":"]

word = st.sampled_from(WORDS) | st.text(
    st.characters(categories=["L", "N", "P"], exclude_characters="\x00"), min_size=1, max_size=12
)
sentence = st.builds(
    lambda words, end: " ".join(words) + end,
    st.lists(word, min_size=1, max_size=30),
    st.sampled_from(ENDS),
)
paragraph = st.lists(sentence, min_size=1, max_size=8).map(" ".join)


def letters(texts: Iterable[str]) -> str:
    """Every character but spaces: sentence ends may fall inside a "word" ("talks." + '"')."""
    return "".join("".join(text.split()) for text in texts)


def is_subsequence(needle: Iterable[str], haystack: Iterable[str]) -> bool:
    remaining = iter(haystack)
    return all(any(item == candidate for candidate in remaining) for item in needle)


@CHECKS
@given(paragraph)
def test_splitting_keeps_every_word_in_order(text: str) -> None:
    sentences = split_sentences(text)

    assert letters(sentences) == letters([text])
    assert all(sentence and sentence == sentence.strip() for sentence in sentences)


@HEAVY
@given(st.lists(sentence, min_size=20, max_size=40).map(" ".join))
def test_long_paragraphs_split_into_pieces_under_the_window(text: str) -> None:
    sentences = split_sentences(text)

    assert letters(sentences) == letters([text])
    assert all(len(sentence) <= WINDOW_CHARS for sentence in sentences)


@CHECKS
@given(st.text(max_size=3_000))
def test_splitting_any_text_does_not_crash(text: str) -> None:
    assert letters(split_sentences(text)) == letters([text])


@HEAVY
@given(
    st.lists(paragraph, max_size=5),
    st.integers(min_value=8, max_value=120),
    st.integers(min_value=0, max_value=2),
)
def test_passages_hold_every_word_within_the_budget(
    paragraphs: list[str], budget: int, overlap: int
) -> None:
    passages = chunk_passages(paragraphs, max_tokens=budget, overlap=overlap)
    without_overlap = chunk_passages(paragraphs, max_tokens=budget, overlap=0)

    assert all(0 < count_words(passage) <= budget for passage in passages)
    assert letters(without_overlap) == letters(paragraphs)
    assert is_subsequence(letters(paragraphs), letters(passages))


@CHECKS
@given(st.lists(paragraph | st.sampled_from(["Advertisement", "Read more", "PostImage"])))
def test_cleaning_drops_only_noise_and_what_another_kept_paragraph_repeats(
    paragraphs: list[str],
) -> None:
    kept = remove_noise(paragraphs, title=None)

    assert is_subsequence(kept, paragraphs)
    kept_keys = [comparable(p) for p in kept]
    for dropped in paragraphs:
        key = comparable(dropped)
        if dropped in kept or BOILERPLATE.match(dropped) or " " not in dropped:
            continue
        assert any(key in other for other in kept_keys), dropped


@CHECKS
@given(st.lists(st.text(max_size=40_000), max_size=1_200))
def test_bounds_keep_the_beginning_and_stay_under_the_caps(paragraphs: list[str]) -> None:
    kept = bounded(paragraphs)

    assert len(kept) <= MAX_PARAGRAPHS and sum(map(len, kept)) <= MAX_ARTICLE_CHARS
    originals = [p for p in paragraphs if p][: len(kept)]
    assert kept[:-1] == originals[:-1]
    assert all(original.startswith(k) for k, original in zip(kept, originals, strict=True))


@CHECKS
@given(st.text(max_size=2_000))
def test_titles_are_capped_and_start_as_they_did(title: str) -> None:
    fitted = fitted_title(title)

    assert len(fitted) <= MAX_TITLE_CHARS
    if fitted != title:
        assert fitted.endswith("…") and title.startswith(fitted[:-1])
