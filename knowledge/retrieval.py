"""Hybrid retrieval: BM25 over lemmas and dense cosine similarity, fused by rank."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker

from storage import archive
from storage.archive import PassageRecord
from storage.fulltext import FullTextIndex
from storage.vectors import Matrix, VectorIndex

RRF_K = 60  # the constant from Cormack et al.; it damps the weight of the very first ranks
# A term in more than a fifth of all passages barely ranks them, yet makes the full-text
# search score every one of them (60 ms at 100k passages): such terms are left out of it.
SELECTIVE_IDF = math.log(1.0 + 4.0)
MAX_SEARCH_TERMS = 8


@dataclass(frozen=True)
class RetrievedPassage:
    """A passage found for a question, with the evidence that found it."""

    record: PassageRecord
    fused: float
    dense: float


def selective_terms(weights: dict[str, float]) -> list[str]:
    """The rarest terms worth a full-text search, rarest first."""
    rare = [term for term, weight in weights.items() if weight >= SELECTIVE_IDF]
    return sorted(rare, key=weights.__getitem__, reverse=True)[:MAX_SEARCH_TERMS]


def reciprocal_rank_fusion(*rankings: Sequence[int], k: int = RRF_K) -> dict[int, float]:
    """Each id's summed 1 / (k + rank) over the rankings it appears in."""
    fused: dict[int, float] = {}
    for ranking in rankings:
        for rank, passage_id in enumerate(ranking, start=1):
            fused[passage_id] = fused.get(passage_id, 0.0) + 1.0 / (k + rank)
    return fused


class Retriever:
    """Finds the passages most likely to answer a question."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        fulltext: FullTextIndex,
        vectors: VectorIndex,
        candidates: int = 50,
    ) -> None:
        self._sessions = sessions
        self._fulltext = fulltext
        self._vectors = vectors
        self._candidates = candidates

    def retrieve(
        self, *, vector: Matrix, weights: dict[str, float], limit: int
    ) -> list[RetrievedPassage]:
        """The best `limit` passages for a question's vector and its terms' weights."""
        dense = self._vectors.search(vector, self._candidates)
        terms = selective_terms(weights)
        with self._sessions() as session:
            lexical = self._fulltext.search(session, terms, self._candidates) if terms else []
            fused = reciprocal_rank_fusion(
                [passage_id for passage_id, _ in dense], [passage_id for passage_id, _ in lexical]
            )
            best = sorted(fused, key=fused.__getitem__, reverse=True)[:limit]
            records = archive.passages_by_id(session, ids=best)
        similarity = dict(dense)
        missing = [passage_id for passage_id in best if passage_id not in similarity]
        similarity.update(self._vectors.similarities(vector, missing))
        return [
            RetrievedPassage(
                record=records[passage_id],
                fused=fused[passage_id],
                dense=similarity.get(passage_id, 0.0),
            )
            for passage_id in best
            if passage_id in records
        ]

    def term_weights(self, terms: Sequence[str]) -> dict[str, float]:
        """BM25's inverse document frequency of each term; unseen terms weigh the most."""
        with self._sessions() as session:
            total = self._fulltext.passage_count(session)
            frequencies = self._fulltext.document_frequencies(session, terms)
        return {
            term: math.log(1.0 + (total - frequency + 0.5) / (frequency + 0.5))
            for term, frequency in frequencies.items()
        }
