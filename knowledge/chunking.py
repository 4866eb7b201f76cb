"""Cutting an article's body into passages sized for the embedding model."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from knowledge.sentences import split_sentences


def count_words(text: str) -> int:
    """A stand-in token counter: the number of words."""
    return len(text.split())


@dataclass(frozen=True)
class _Sentence:
    text: str
    paragraph: int
    tokens: int


def chunk_passages(
    paragraphs: Sequence[str],
    *,
    max_tokens: int = 200,
    overlap: int = 1,
    count_tokens: Callable[[str], int] = count_words,
) -> list[str]:
    """Group sentences into passages of at most max_tokens, each starting with the last
    `overlap` sentences of the one before; sentences of one paragraph share a line."""
    sentences = [
        _Sentence(piece, number, count_tokens(piece))
        for number, paragraph in enumerate(paragraphs)
        for sentence in split_sentences(paragraph)
        for piece in _fit(sentence, max_tokens, count_tokens)
    ]
    passages: list[list[_Sentence]] = []
    current: list[_Sentence] = []
    fresh = 0  # sentences in `current` that no earlier passage holds
    for sentence in sentences:
        if current and fresh and _tokens(current) + sentence.tokens > max_tokens:
            passages.append(current)
            current = _tail(current, overlap, max_tokens - sentence.tokens)
            fresh = 0
        current.append(sentence)
        fresh += 1
    if fresh:
        passages.append(current)
    return [_render(passage) for passage in passages]


def _tokens(sentences: Sequence[_Sentence]) -> int:
    return sum(sentence.tokens for sentence in sentences)


def _tail(sentences: list[_Sentence], overlap: int, budget: int) -> list[_Sentence]:
    """The last `overlap` sentences that still leave room for the next one."""
    tail = sentences[len(sentences) - overlap :] if overlap > 0 else []
    while tail and _tokens(tail) > budget:
        tail = tail[1:]
    return tail


def _fit(sentence: str, max_tokens: int, count_tokens: Callable[[str], int]) -> list[str]:
    """The sentence, cut into word runs when it alone is over the limit."""
    if count_tokens(sentence) <= max_tokens:
        return [sentence]
    pieces: list[str] = []
    run: list[str] = []
    used = 0
    for word in sentence.split():
        cost = count_tokens(word)
        if run and used + cost > max_tokens:
            pieces.append(" ".join(run))
            run, used = [], 0
        run.append(word)
        used += cost
    if run:
        pieces.append(" ".join(run))
    return pieces


def _render(sentences: Sequence[_Sentence]) -> str:
    lines: list[list[str]] = []
    last_paragraph = -1
    for sentence in sentences:
        if sentence.paragraph != last_paragraph:
            lines.append([])
            last_paragraph = sentence.paragraph
        lines[-1].append(sentence.text)
    return "\n".join(" ".join(line) for line in lines)


@lru_cache(maxsize=8192)
def passage_sentences(passage: str) -> tuple[str, ...]:
    """The sentences of a stored passage, in order; remembered, since the same passages come
    back for related questions and splitting them costs more than retrieving them."""
    return tuple(sentence for line in passage.splitlines() for sentence in split_sentences(line))
