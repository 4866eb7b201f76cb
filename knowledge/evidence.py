"""The evidence for each candidate sentence, as numbers a ranking model can weigh.

Every feature is relative to the question or to the other candidates, never to the size of
the archive, so that the same weights hold for twenty articles and for twenty thousand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence, Set
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import numpy as np

from knowledge.answer_types import QUOTATION, asked_terms, has_type, measure_match
from knowledge.owners import Owned, asked, conflict, us_terms
from knowledge.places import with_kin
from knowledge.questions import (
    MONTH_NUMBERS,
    MONTHS,
    ORDINALS,
    YEAR,
    AnswerType,
    Measure,
    QuestionFacts,
)
from knowledge.retrieval import RetrievedPassage
from knowledge.synonyms import SYNONYMS
from knowledge.terms import content_terms, term_set, terms, words
from storage.vectors import Matrix

FEATURES = (
    "meaning",
    "meaning_gap",
    "meaning_rank",
    "terms",
    "terms_gap",
    "terms_rank",
    "bm25",
    "soft_terms",
    "previous_terms",
    "previous_only",
    "previous_adds",
    "continues",
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
    "quotation",
    "anchors_sentence",
    "anchors_article",
    "recency",
    "present_recency",
    "lede",
    "first_in_passage",
    "length",
    "names_missing",
    "names_sentence",
    "names_nowhere",
    "anchor_published",
    "anchor_conflict",
    "measure_match",
    "measure_miss",
    "owner_conflict",
    "token_match",
    "token_match_gap",
    "token_match_rank",
)
RECENCY_DAYS = 365.0
# A sentence that opens with one of these goes on about what the one before named: "It is
# recommended by the World Health Organization" after "Solar water disinfection involves…".
CONTINUING = frozenset("it he she they this these his her its their".split())
BM25_K1 = 1.2
BM25_B = 0.75


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
    token_match: float  # each question token's best match among its tokens, averaged


def coverage(weights: dict[str, float], present: Set[str]) -> float:
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
    _bm25(rows, weights, candidates)
    matrix = np.asarray([[row.get(name, 0.0) for name in FEATURES] for row in rows])
    columns = {name: index for index, name in enumerate(FEATURES)}
    for source in ("meaning", "terms", "token_match"):
        values = matrix[:, columns[source]]
        matrix[:, columns[f"{source}_gap"]] = values - values.max()
        ranks = np.argsort(np.argsort(-values, kind="stable"), kind="stable")
        matrix[:, columns[f"{source}_rank"]] = 1.0 / (1.0 + ranks)
    return matrix.astype(np.float32)


def _bm25(
    rows: list[dict[str, float]], weights: dict[str, float], candidates: Sequence[Candidate]
) -> None:
    """Okapi BM25 of each sentence against the question, scaled by the best candidate's:
    it rewards the rare words as coverage does, but discounts long sentences."""
    bags = [terms(candidate.sentence) for candidate in candidates]
    average = sum(len(bag) for bag in bags) / max(1, len(bags)) or 1.0
    scores = []
    for bag in bags:
        score = 0.0
        for term, weight in weights.items():
            count = bag.count(term)
            if count:
                norm = BM25_K1 * (1 - BM25_B + BM25_B * len(bag) / average)
                score += weight * count * (BM25_K1 + 1) / (count + norm)
        scores.append(score)
    top = max(scores, default=0.0) or 1.0
    for row, score in zip(rows, scores, strict=True):
        row["bm25"] = score / top


@dataclass
class _Context:
    """What the features of one question's candidates share: article texts, dates, ranks."""

    question: QuestionFacts
    weights: dict[str, float]
    question_terms: frozenset[str]
    article_terms: dict[int, frozenset[str]]
    article_meaning: dict[int, float]
    passage_rank: dict[int, int]
    newest: datetime | None
    names_nowhere: float
    owned: list[Owned]  # the nouns the question gives a country ("the U.S. delegation")

    @classmethod
    def build(
        cls, question: QuestionFacts, weights: dict[str, float], candidates: Sequence[Candidate]
    ) -> _Context:
        found_terms: dict[int, set[str]] = {}
        article_meaning: dict[int, float] = {}
        passages = {id(c.passage): c.passage for c in candidates}.values()
        for passage in passages:
            record = passage.record
            found = found_terms.setdefault(record.article_id, set(_own_terms(record.title)))
            found.update(_own_terms(record.text))
            best = article_meaning.get(record.article_id, -1.0)
            article_meaning[record.article_id] = max(best, passage.dense)
        # "Russia's team" is the Russian delegation: a country stands for its adjective.
        article_terms = {key: with_kin(frozenset(found)) for key, found in found_terms.items()}
        ranked = sorted(passages, key=lambda passage: passage.fused, reverse=True)
        return cls(
            question=question,
            weights=weights,
            question_terms=asked_terms(question),
            article_terms=article_terms,
            article_meaning=article_meaning,
            passage_rank={passage.record.passage_id: rank for rank, passage in enumerate(ranked)},
            newest=newest_report(candidates),
            names_nowhere=_absent(question.names, article_terms.values()),
            owned=asked(question.text),
        )

    def row(self, candidate: Candidate) -> dict[str, float]:
        record = candidate.passage.record
        article = self.article_terms[record.article_id]
        typed = self.question.answer_type is not AnswerType.OTHER
        match = has_type(
            candidate.sentence, self.question.answer_type, self.question_terms, self.question.names
        )
        recency = self._recency(record.published_at)
        sentence = _said(candidate.sentence)
        own = coverage(self.weights, sentence)
        preceding = _said(candidate.previous or "")
        previous = coverage(self.weights, preceding)
        return {
            "meaning": candidate.meaning,
            "terms": own,
            "soft_terms": candidate.soft_terms,
            "token_match": candidate.token_match,
            "previous_terms": previous,
            # The sentence before says what the question asks; this one may give the answer.
            "previous_only": previous * (1.0 - own),
            # What the two say together that this one alone does not.
            "previous_adds": coverage(self.weights, sentence | preceding) - own,
            "continues": _continues(candidate.sentence),
            "passage_terms": coverage(self.weights, _said(record.text)),
            "passage_meaning": candidate.passage.dense,
            "passage_rank": 1.0 / (1.0 + self.passage_rank[record.passage_id]),
            "article_terms": coverage(self.weights, article),
            "title_meaning": candidate.title_meaning,
            "article_meaning": self.article_meaning[record.article_id],
            "typed": float(typed),
            "type_match": float(match),
            "typed_match": float(typed and match),
            "novelty": self._novelty(candidate.sentence),
            "quotation": float(bool(QUOTATION.search(candidate.sentence))),
            "anchors_sentence": _share(self.question.anchors, _raw_words(candidate.sentence)),
            "anchors_article": _share(self.question.anchors, article | _raw_words(record.text)),
            "recency": recency,
            "present_recency": recency if self.question.about_present else 0.0,
            "lede": float(record.position == 0 and candidate.index == 0),
            "first_in_passage": float(candidate.index == 0),
            "length": math.log1p(len(candidate.sentence)) / 6.0,
            "names_missing": self._names_missing(article),
            # Names no candidate article mentions: the archive may not cover the question.
            "names_nowhere": self.names_nowhere,
            # Names tie a question to one event among several alike ("the Geneva talks").
            "names_sentence": _share(self.question.names, sentence),
            "anchor_published": _published_anchor(self.question.anchors, record.published_at),
            "anchor_conflict": _anchor_conflict(self.question.anchors, candidate.sentence),
            **_measure(candidate.sentence, self.question),
            "owner_conflict": conflict(self.owned, candidate.sentence, SYNONYMS),
        }

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

    def _names_missing(self, article: Set[str]) -> float:
        names = self.question.names
        if not names:
            return 0.0
        return sum(1 for name in names if name not in article) / len(names)


def newest_report(candidates: Sequence[Candidate]) -> datetime | None:
    """The publication date of the newest article among the candidates."""
    dates = [c.passage.record.published_at for c in candidates if c.passage.record.published_at]
    return max(dates) if dates else None


def _continues(sentence: str) -> float:
    """1 when the sentence opens with a word that points back to the sentence before."""
    first = words(sentence)[:1]
    return float(bool(first) and first[0] in CONTINUING)


def _measure(sentence: str, question: QuestionFacts) -> dict[str, float]:
    """Whether the sentence gives what the question measures, and whether it fails to: two
    features, so that questions that measure nothing weigh on neither."""
    if question.measure is Measure.NONE:
        return {"measure_match": 0.0, "measure_miss": 0.0}
    found = float(measure_match(sentence, question))
    return {"measure_match": found, "measure_miss": 1.0 - found}


def _published_anchor(anchors: frozenset[str], published_at: datetime | None) -> float:
    """Whether the article appeared in the month or year the question names ("the June
    call"): reports follow their event within days, so early the next month counts too.
    One half when the question names no month or year, or the article has no date."""
    months = [MONTH_NUMBERS[a] for a in anchors if a in MONTH_NUMBERS]
    years = [int(a) for a in anchors if YEAR.match(a)]
    if published_at is None or not (months or years):
        return 0.5
    if years and published_at.year not in years:
        return 0.0
    if not months:
        return 1.0
    previous = 12 if published_at.month == 1 else published_at.month - 1
    fresh = published_at.month in months or (previous in months and published_at.day <= 10)
    return 1.0 if fresh else 0.0


def _anchor_conflict(anchors: frozenset[str], sentence: str) -> float:
    """Whether the sentence names another round or month than the question's ("the fourth
    round" for a question about the fifth): the wrong instance of a repeated event."""
    said = _raw_words(sentence)
    conflict = 0.0
    for kind in (ORDINALS, MONTHS):
        wanted = anchors & kind
        if wanted and (said & kind) and not (said & wanted):
            conflict = 1.0
    return conflict


def _own_terms(text: str) -> frozenset[str]:
    """The text's terms, with "usa" for "US" (whose term is the pronoun's)."""
    return term_set(text) | us_terms(text)


@lru_cache(maxsize=32_768)
def _said(text: str) -> frozenset[str]:
    """The text's terms with a country's adjective for its name, remembered: a passage is
    weighed once for each of its candidate sentences."""
    return with_kin(_own_terms(text))


def _absent(names: frozenset[str], articles: Iterable[Set[str]]) -> float:
    """The share of the names that no article mentions."""
    if not names:
        return 0.0
    seen = set().union(*articles)
    return sum(1 for name in names if name not in seen) / len(names)


def _share(wanted: frozenset[str], present: Set[str]) -> float:
    """The share of the wanted words present; 1 when nothing is wanted."""
    if not wanted:
        return 1.0
    return sum(1 for word in wanted if word in present) / len(wanted)


def _raw_words(text: str) -> set[str]:
    return {word.strip(".,;:!?\"'()“”’%").lower() for word in text.split()}
