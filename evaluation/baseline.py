"""The baseline Parley must beat: quote the archive's single best Okapi BM25 sentence.

It sees the same archive as Parley (every stored passage, split into sentences) and the same
search terms (knowledge.terms), so the difference in the figures is the answering itself.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence

from rank_bm25 import BM25Okapi
from sqlalchemy import select

from knowledge.sentences import split_sentences
from knowledge.terms import content_terms
from storage.db import create_database_engine, session_factory
from storage.models import Passage

K1 = 1.2
B = 0.75


class TopSentenceBaseline:
    """BM25 over the archive's sentences; the answer is the top-scoring one, quoted whole."""

    def __init__(self, passages: Iterable[str]) -> None:
        self.sentences = archive_sentences(passages)
        tokenised = [content_terms(sentence) for sentence in self.sentences]
        # Which sentences hold each term: only those can answer, the rest score zero anyway.
        self.holders: dict[str, list[int]] = {}
        for index, terms in enumerate(tokenised):
            for term in set(terms):
                self.holders.setdefault(term, []).append(index)
        # rank_bm25 divides by the mean sentence length, so an empty archive needs no index.
        self.index = BM25Okapi(tokenised, k1=K1, b=B) if self.sentences else None

    def answer(self, question: str) -> tuple[str, float]:
        """The top sentence (empty when no sentence shares a term) and the time taken in ms."""
        started = time.perf_counter()
        sentence = self._top_sentence(content_terms(question))
        return sentence, (time.perf_counter() - started) * 1000

    def _top_sentence(self, terms: Sequence[str]) -> str:
        candidates = sorted({index for term in terms for index in self.holders.get(term, ())})
        if not candidates or self.index is None:
            return ""
        scores = self.index.get_batch_scores(list(terms), candidates)
        # max() keeps the first of equal scores: the earliest sentence in the archive.
        best = max(range(len(candidates)), key=lambda position: scores[position])
        return self.sentences[candidates[best]]


def archive_sentences(passages: Iterable[str]) -> list[str]:
    """Every distinct sentence of the passages, in order; overlapping passages repeat some."""
    seen: dict[str, None] = {}
    for passage in passages:
        for line in passage.splitlines():
            for sentence in split_sentences(line):
                seen.setdefault(sentence, None)
    return list(seen)


def stored_passages(database_url: str) -> list[str]:
    """The text of every passage in the archive, in the order they were stored."""
    engine = create_database_engine(database_url)
    try:
        with session_factory(engine)() as session:
            return list(session.scalars(select(Passage.text).order_by(Passage.id)))
    finally:
        engine.dispose()
