"""Answer candidates made by hand: one sentence of one article, for tests of ranking and quoting."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from knowledge.evidence import FEATURES, Candidate
from knowledge.retrieval import RetrievedPassage
from storage.archive import PassageRecord


def candidate(
    sentence: str, *, article: int, index: int = 0, date: str = "2025-05-01", passage: int = 0
) -> Candidate:
    record = PassageRecord(
        passage_id=passage or article * 10,
        article_id=article,
        position=0,
        text=sentence,
        title=f"Article {article}",
        source="Agency",
        url=f"https://news.example/{article}",
        published_at=datetime.fromisoformat(date),
    )
    passage_found = RetrievedPassage(record=record, fused=0.1, dense=0.5)
    return Candidate(sentence, passage_found, index, None, 0.5, 0.3, 0.5, 0.5)


def column(matrix: np.ndarray, name: str) -> list[float]:
    """One feature's values, a candidate each."""
    return [float(value) for value in matrix[:, FEATURES.index(name)]]
