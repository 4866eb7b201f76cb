"""Answers: the sentence or two that answer a question, quoted verbatim and cited."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from knowledge.chunking import passage_sentences
from knowledge.embedding import Embedder
from knowledge.ingest import published_label
from knowledge.retrieval import RetrievedPassage, Retriever
from knowledge.sentences import is_full_sentence
from knowledge.terms import content_terms, name_terms, terms
from storage.vectors import Matrix

NOT_COVERED = "I couldn't find that in the articles I follow, so I can't answer it."
PASSAGES_TO_READ = 6
# Embedding sentences is most of an answer's cost: only the likeliest are embedded, picked
# by their words and their passage's standing, which cost nothing to compute.
SENTENCES_TO_EMBED = 12

# How much each kind of evidence counts when picking the sentence to quote. Lexical coverage
# is weighted by the terms' rarity; the passage around a sentence counts too, since a
# sentence often answers with a pronoun what its neighbours name.
SENTENCE_MEANING = 0.45
SENTENCE_TERMS = 0.35
PASSAGE_TERMS = 0.10
PASSAGE_MEANING = 0.10
# Below these the archive does not cover the question: quoting anyway would mislead.
MIN_MEANING = 0.30
MIN_TERMS = 0.34
CONFIDENT_MEANING = 0.45
# A neighbouring sentence joins the quote when it is nearly as good as the best one.
COMPANION_RATIO = 0.85


@dataclass(frozen=True)
class Citation:
    """Where a quote comes from."""

    title: str
    source: str
    date: str | None
    url: str
    passage: str
    score: float

    def as_json(self) -> dict[str, object]:
        """The citation as `parley ask --json` prints it."""
        return {
            "title": self.title,
            "source": self.source,
            "date": self.date,
            "url": self.url,
            "passage": self.passage,
            "score": round(self.score, 4),
        }


@dataclass(frozen=True)
class Answer:
    """A reply to a question: a verbatim quote and its source, or a plain "not covered"."""

    question: str
    quote: str | None = None
    sources: list[Citation] = field(default_factory=list)

    @property
    def covered(self) -> bool:
        """Whether the archive answers the question."""
        return self.quote is not None

    @property
    def text(self) -> str:
        """The reply as plain text."""
        if self.quote is None or not self.sources:
            return NOT_COVERED
        return f"“{self.quote}”\n— {citation_line(self.sources[0])}"


def citation_line(citation: Citation) -> str:
    """Title, source, date and link in one line."""
    parts = [citation.title, citation.source, citation.date, citation.url]
    return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class _Candidate:
    sentence: str
    passage: RetrievedPassage
    index: int  # position among the passage's sentences
    meaning: float
    terms: float
    score: float


@dataclass(frozen=True)
class _Reading:
    question: str
    vector: Matrix
    passages: list[RetrievedPassage]
    weights: dict[str, float]
    sentences: list[tuple[str, RetrievedPassage, int]]  # sentence, its passage, its position


class Answerer:
    """Answers questions from the archive."""

    def __init__(self, *, embedder: Embedder, retriever: Retriever, cache_size: int = 20_000):
        self._embedder = embedder
        self._retriever = retriever
        self._cache: OrderedDict[str, Matrix] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def ask(self, question: str) -> Answer:
        """Answer one question."""
        return self.ask_many([question])[0]

    def ask_many(self, questions: Sequence[str]) -> list[Answer]:
        """Answer several questions at once: the model embeds all the questions in one batch
        and all their candidate sentences in another, which is what makes a busy bot fast."""
        cleaned = [" ".join(question.split()) for question in questions]
        vectors = self._embedder.embed(cleaned)
        readings = [self._read(q, vector) for q, vector in zip(cleaned, vectors, strict=True)]
        sentences = [sentence for reading in readings for sentence, _, _ in reading.sentences]
        known = self._sentence_vectors(sentences) if sentences else {}
        return [self._answer(reading, known) for reading in readings]

    def _read(self, question: str, vector: Matrix) -> _Reading:
        """The passages retrieved for a question and the sentences worth scoring in them."""
        terms = content_terms(question)
        if not question:
            return _Reading(question, vector, [], {}, [])
        weights = self._retriever.term_weights(terms)
        passages = self._retriever.retrieve(vector=vector, weights=weights, limit=PASSAGES_TO_READ)
        seen: set[str] = set()
        sentences: list[tuple[str, RetrievedPassage, int]] = []
        for passage in passages:
            for index, sentence in enumerate(passage_sentences(passage.record.text)):
                if is_full_sentence(sentence) and sentence not in seen:
                    seen.add(sentence)
                    sentences.append((sentence, passage, index))
        return _Reading(question, vector, passages, weights, _likeliest(sentences, weights))

    def _answer(self, reading: _Reading, known: dict[str, Matrix]) -> Answer:
        candidates = _candidates(reading, known)
        if not candidates:
            return Answer(reading.question)
        best = max(candidates, key=lambda candidate: candidate.score)
        if not _covers(best) or not _names_found(reading.question, best, reading.passages):
            return Answer(reading.question)
        record = best.passage.record
        citation = Citation(
            title=record.title,
            source=record.source,
            date=published_label(record.published_at),
            url=record.url,
            passage=record.text,
            score=best.score,
        )
        return Answer(reading.question, quote=_with_companion(best, candidates), sources=[citation])

    def _sentence_vectors(self, sentences: Sequence[str]) -> dict[str, Matrix]:
        """Sentence embeddings, remembered: the same passages come back for related questions."""
        with self._lock:
            known = {
                sentence: self._cache[sentence] for sentence in sentences if sentence in self._cache
            }
        missing = [sentence for sentence in dict.fromkeys(sentences) if sentence not in known]
        if missing:
            computed = self._embedder.embed(missing)
            known.update(zip(missing, computed, strict=True))
            with self._lock:
                self._cache.update(zip(missing, computed, strict=True))
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return known


def _candidates(reading: _Reading, known: dict[str, Matrix]) -> list[_Candidate]:
    """Every candidate sentence scored on meaning and words, its own and its passage's."""
    if not reading.sentences:
        return []
    vectors = np.stack([known[sentence] for sentence, _, _ in reading.sentences])
    meanings = vectors @ reading.vector
    passage_coverage = {
        id(passage): coverage(reading.weights, passage.record.text) for passage in reading.passages
    }
    candidates = []
    for (sentence, passage, index), meaning in zip(reading.sentences, meanings, strict=True):
        term_share = coverage(reading.weights, sentence)
        score = (
            SENTENCE_MEANING * float(meaning)
            + SENTENCE_TERMS * term_share
            + PASSAGE_TERMS * passage_coverage[id(passage)]
            + PASSAGE_MEANING * passage.dense
        )
        candidates.append(_Candidate(sentence, passage, index, float(meaning), term_share, score))
    return candidates


def _likeliest(
    sentences: list[tuple[str, RetrievedPassage, int]], weights: dict[str, float]
) -> list[tuple[str, RetrievedPassage, int]]:
    """The sentences most likely to answer, judged without the model."""
    if len(sentences) <= SENTENCES_TO_EMBED:
        return sentences
    passage_coverage: dict[int, float] = {}

    def promise(item: tuple[str, RetrievedPassage, int]) -> float:
        sentence, passage, _ = item
        if id(passage) not in passage_coverage:
            passage_coverage[id(passage)] = coverage(weights, passage.record.text)
        return (
            SENTENCE_TERMS * coverage(weights, sentence)
            + PASSAGE_TERMS * passage_coverage[id(passage)]
            + PASSAGE_MEANING * passage.dense
        )

    return sorted(sentences, key=promise, reverse=True)[:SENTENCES_TO_EMBED]


def coverage(weights: dict[str, float], text: str) -> float:
    """The share of the question's term weight that the text contains."""
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    present = set(terms(text))
    return sum(weight for term, weight in weights.items() if term in present) / total


def _covers(best: _Candidate) -> bool:
    """Whether the best sentence is evidence enough to answer at all."""
    if best.meaning >= CONFIDENT_MEANING:
        return True
    return best.meaning >= MIN_MEANING and best.terms >= MIN_TERMS


def _names_found(question: str, best: _Candidate, passages: Sequence[RetrievedPassage]) -> bool:
    """Whether the article quoted mentions every name the question asks about: a question
    about the Pope is not answered from an article that never mentions him."""
    names = set(name_terms(question))
    if not names:
        return True
    article = best.passage.record.article_id
    seen = {
        found
        for passage in passages
        if passage.record.article_id == article
        for found in terms(passage.record.text)
    }
    return names <= seen


def _with_companion(best: _Candidate, candidates: Sequence[_Candidate]) -> str:
    """The best sentence, joined by an adjacent one of the same passage when nearly as good."""
    neighbours = [
        candidate
        for candidate in candidates
        if candidate.passage is best.passage
        and abs(candidate.index - best.index) == 1
        and candidate.score >= COMPANION_RATIO * best.score
    ]
    if not neighbours:
        return best.sentence
    companion = max(neighbours, key=lambda candidate: candidate.score)
    pair = sorted([best, companion], key=lambda candidate: candidate.index)
    return " ".join(candidate.sentence for candidate in pair)
