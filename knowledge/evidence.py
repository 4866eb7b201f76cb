"""The evidence for each candidate sentence, as numbers a ranking model can weigh.

Every feature is relative to the question or to the other candidates, never to the size of
the archive, so that the same weights hold for twenty articles and for twenty thousand.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np

from knowledge.answer_types import has_type
from knowledge.questions import AnswerType, QuestionFacts
from knowledge.retrieval import RetrievedPassage
from knowledge.terms import content_terms, terms
from storage.vectors import Matrix

FEATURES = (
    "meaning",
    "meaning_gap",
    "meaning_rank",
    "terms",
    "terms_gap",
    "terms_rank",
    "soft_terms",
    "previous_terms",
    "passage_terms",
    "passage_meaning",
    "passage_rank",
    "article_terms",
    "title_meaning",
    "article_meaning",
    "typed",
    "type_match",
    "typed_match",
    "novelty",
    "anchors_sentence",
    "anchors_article",
    "recency",
    "present_recency",
    "lede",
    "length",
    "names_missing",
)
RECENCY_DAYS = 365.0  # an article this far behind the newest candidate counts as old


@dataclass(frozen=True)
class Candidate:
    """A sentence that may answer the question, where it stands and what it means."""

    sentence: str
    passage: RetrievedPassage
    index: int  # position among the passage's sentences
    previous: str | None  # the sentence before it in the passage
    meaning: float  # cosine to the question
    title_meaning: float  # cosine of its article's title to the question
    soft_terms: float  # the question's words it says, in the same words or close ones


def coverage(weights: dict[str, float], present: set[str]) -> float:
    """The share of the question's term weight found among the present terms."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    return sum(weight for term, weight in weights.items() if term in present) / total


def feature_matrix(
    question: QuestionFacts, weights: dict[str, float], candidates: Sequence[Candidate]
) -> Matrix:
    """One row of FEATURES per candidate."""
    if not candidates:
        return np.zeros((0, len(FEATURES)), dtype=np.float32)
    context = _Context.build(question, weights, candidates)
    rows = [context.row(candidate) for candidate in candidates]
    matrix = np.asarray(rows, dtype=np.float32)
    columns = {name: index for index, name in enumerate(FEATURES)}
    for source in ("meaning", "terms"):
        values = matrix[:, columns[source]]
        matrix[:, columns[f"{source}_gap"]] = values - values.max()
        ranks = np.argsort(np.argsort(-values, kind="stable"), kind="stable")
        matrix[:, columns[f"{source}_rank"]] = 1.0 / (1.0 + ranks)
    return matrix


@dataclass
class _Context:
    """What the features of one question's candidates share: article texts, dates, ranks."""

    question: QuestionFacts
    weights: dict[str, float]
    question_terms: frozenset[str]
    article_terms: dict[int, set[str]]
    article_meaning: dict[int, float]
    passage_rank: dict[int, int]
    newest: datetime | None

    @classmethod
    def build(
        cls, question: QuestionFacts, weights: dict[str, float], candidates: Sequence[Candidate]
    ) -> _Context:
        article_terms: dict[int, set[str]] = {}
        article_meaning: dict[int, float] = {}
        passages = {id(c.passage): c.passage for c in candidates}.values()
        for passage in passages:
            record = passage.record
            found = article_terms.setdefault(record.article_id, set(terms(record.title)))
            found.update(terms(record.text))
            best = article_meaning.get(record.article_id, -1.0)
            article_meaning[record.article_id] = max(best, passage.dense)
        ranked = sorted(passages, key=lambda passage: passage.fused, reverse=True)
        dates = [c.passage.record.published_at for c in candidates if c.passage.record.published_at]
        return cls(
            question=question,
            weights=weights,
            question_terms=frozenset(question.terms) | question.names,
            article_terms=article_terms,
            article_meaning=article_meaning,
            passage_rank={passage.record.passage_id: rank for rank, passage in enumerate(ranked)},
            newest=max(dates) if dates else None,
        )

    def row(self, candidate: Candidate) -> list[float]:
        record = candidate.passage.record
        sentence_terms = set(terms(candidate.sentence))
        article = self.article_terms[record.article_id]
        typed = self.question.answer_type is not AnswerType.OTHER
        match = has_type(candidate.sentence, self.question.answer_type, self.question_terms)
        recency = self._recency(record.published_at)
        return [
            candidate.meaning,
            0.0,  # meaning_gap, filled in over all candidates
            0.0,  # meaning_rank, likewise
            coverage(self.weights, sentence_terms),
            0.0,  # terms_gap
            0.0,  # terms_rank
            candidate.soft_terms,
            coverage(self.weights, set(terms(candidate.previous))) if candidate.previous else 0.0,
            coverage(self.weights, set(terms(record.text))),
            candidate.passage.dense,
            1.0 / (1.0 + self.passage_rank[record.passage_id]),
            coverage(self.weights, article),
            candidate.title_meaning,
            self.article_meaning[record.article_id],
            float(typed),
            float(match),
            float(typed and match),
            self._novelty(candidate.sentence),
            _share(self.question.anchors, _raw_words(candidate.sentence)),
            _share(self.question.anchors, article | _raw_words(record.text)),
            recency,
            recency if self.question.about_present else 0.0,
            float(record.position == 0 and candidate.index == 0),
            math.log1p(len(candidate.sentence)) / 6.0,
            self._names_missing(article),
        ]

    def _novelty(self, sentence: str) -> float:
        """The share of the sentence's content words the question does not hold: a sentence
        that only restates the question does not answer it."""
        own = content_terms(sentence)
        if not own:
            return 0.0
        return sum(1 for term in own if term not in self.question_terms) / len(own)

    def _recency(self, published_at: datetime | None) -> float:
        if self.newest is None or published_at is None:
            return 0.5
        behind = (self.newest - published_at).total_seconds() / 86_400
        return max(0.0, 1.0 - behind / RECENCY_DAYS)

    def _names_missing(self, article: set[str]) -> float:
        names = self.question.names
        if not names:
            return 0.0
        return sum(1 for name in names if name not in article) / len(names)


def _share(wanted: frozenset[str], present: set[str]) -> float:
    """The share of the wanted words present; 1 when nothing is wanted."""
    if not wanted:
        return 1.0
    return sum(1 for word in wanted if word in present) / len(wanted)


def _raw_words(text: str) -> set[str]:
    return {word.strip(".,;:!?\"'()“”’%").lower() for word in text.split()}
