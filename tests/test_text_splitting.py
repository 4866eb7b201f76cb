"""Sentence splitting and chunking into passages."""

from __future__ import annotations

import itertools
import random

import pysbd
import pytest

from knowledge.chunking import chunk_passages, passage_sentences
from knowledge.sentences import WINDOW_CHARS, is_full_sentence, split_sentences


def test_abbreviations_and_quotes_do_not_end_sentences() -> None:
    text = (
        "U.S. President Donald Trump will not attend, according to Reuters. "
        "Putin proposed talks “without preconditions.” However, the Kremlin said Mr. Medinsky "
        "would lead the delegation."
    )

    assert split_sentences(text) == [
        "U.S. President Donald Trump will not attend, according to Reuters.",
        "Putin proposed talks “without preconditions.”",
        "However, the Kremlin said Mr. Medinsky would lead the delegation.",
    ]


def test_headings_and_fragments_are_not_full_sentences() -> None:
    assert not is_full_sentence("U.S. and Russian Delegations")
    assert not is_full_sentence("Yes.")
    assert is_full_sentence("The U.S. delegation includes Marco Rubio.")


def test_passages_stay_within_the_token_budget_and_overlap_by_one_sentence() -> None:
    paragraphs = [
        " ".join(f"Sentence {p}-{s} has exactly seven words." for s in range(6)) for p in range(5)
    ]

    passages = chunk_passages(paragraphs, max_tokens=30, overlap=1)

    assert len(passages) > 1
    assert all(len(passage.split()) <= 30 for passage in passages)
    for previous, current in itertools.pairwise(passages):
        assert passage_sentences(current)[0] == passage_sentences(previous)[-1]
    every_sentence = {s for passage in passages for s in passage_sentences(passage)}
    assert every_sentence == {s for paragraph in paragraphs for s in split_sentences(paragraph)}


def test_sentences_of_different_paragraphs_stay_on_separate_lines() -> None:
    passages = chunk_passages(["First paragraph here.", "Second paragraph here."], max_tokens=100)

    assert passages == ["First paragraph here.\nSecond paragraph here."]


def test_a_sentence_longer_than_the_budget_is_cut_into_runs_of_words() -> None:
    long_sentence = " ".join(["word"] * 95) + "."

    passages = chunk_passages([long_sentence], max_tokens=40, overlap=0)

    assert [len(passage.split()) for passage in passages] == [40, 40, 15]


def test_no_text_means_no_passages() -> None:
    assert chunk_passages([], max_tokens=50) == []


def _long_paragraph(characters: int, *, stops: bool) -> str:
    words = "negotiators met in Geneva on Monday to discuss a prisoner exchange".split()
    rng = random.Random(characters)
    sentences, size = [], 0
    while size < characters:
        sentence = " ".join(rng.choice(words) for _ in range(rng.randint(6, 30)))
        sentence = sentence.capitalize() + ("." if stops else "")
        sentences.append(sentence)
        size += len(sentence) + 1
    return " ".join(sentences)


@pytest.mark.parametrize("stops", [True, False], ids=["sentences", "no-full-stops"])
def test_a_200000_character_paragraph_is_split_a_window_at_a_time(
    stops: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    # pysbd's work grows with the square of what it is given (200,000 characters took over a
    # minute), so what it is given is bounded; stop at the first oversized call, not after.
    segment = pysbd.Segmenter.segment
    given: list[int] = []

    def bounded_segment(self: pysbd.Segmenter, text: str) -> list[str]:
        given.append(len(text))
        assert len(text) <= WINDOW_CHARS, f"pysbd was given {len(text):,} characters"
        return list(segment(self, text))

    monkeypatch.setattr(pysbd.Segmenter, "segment", bounded_segment)
    paragraph = _long_paragraph(200_000, stops=stops)

    sentences = split_sentences(paragraph)

    assert " ".join(sentences) == paragraph  # nothing lost, nothing added
    assert all(len(sentence) <= WINDOW_CHARS for sentence in sentences)
    assert sum(given) <= 3 * len(paragraph)  # each character segmented about once
    if stops:
        assert all(sentence.endswith(".") for sentence in sentences)


def test_windowed_splitting_agrees_with_whole_paragraph_splitting() -> None:
    paragraph = _long_paragraph(6_000, stops=True) + " Mr. Medinsky said the U.S. team left."

    windowed = split_sentences(paragraph)

    assert len(paragraph) > WINDOW_CHARS
    assert windowed == [s.strip() for s in pysbd.Segmenter(clean=False).segment(paragraph)]


def test_a_huge_paragraph_becomes_passages_within_the_budget() -> None:
    paragraph = _long_paragraph(200_000, stops=False)

    passages = chunk_passages([paragraph], max_tokens=200, overlap=1)

    assert all(len(passage.split()) <= 200 for passage in passages)
    assert " ".join(passages).split() == paragraph.split()  # no overlap without sentence ends


def test_no_character_is_lost_where_pysbd_drops_some() -> None:
    # pysbd returns "St." for "St.?!": sentences are cut from the text itself, not taken
    # from pysbd's copy of it.
    text = "They met at St.?! The talks went on."

    assert "".join("".join(split_sentences(text)).split()) == "".join(text.split())
