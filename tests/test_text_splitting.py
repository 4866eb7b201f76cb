"""Sentence splitting and chunking into passages."""

from __future__ import annotations

import itertools

from knowledge.chunking import chunk_passages, passage_sentences
from knowledge.sentences import is_full_sentence, split_sentences


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
