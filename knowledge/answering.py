"""Answers: the sentences that answer a question, quoted verbatim, each with its citation."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from knowledge.chunking import passage_sentences
from knowledge.embedding import Embedder
from knowledge.evidence import Candidate, coverage, feature_matrix
from knowledge.questions import QuestionFacts, analyse
from knowledge.quotes import Citation, Quote, as_of_label, newest_date, select_quotes
from knowledge.ranking import RankingModel
from knowledge.retrieval import RetrievedPassage, Retriever
from knowledge.sentences import is_full_sentence
from knowledge.synonyms import alike_terms, as_reported
from knowledge.terms import STOPWORDS, term, term_set, terms
from knowledge.timing import about_now, asks_ahead, says_no_date
from knowledge.token_vectors import TokenAxes, axes_for, maxsim
from knowledge.wordsim import WordSimilarity, content_words
from storage.sentence_vectors import PassageSentences
from storage.vectors import Matrix

NOT_COVERED = "I couldn't find that in the articles I follow, so I can't answer it."
PASSAGES_TO_READ = 8
# Questions about the present read further: the newest report may rank below older ones.
PRESENT_PASSAGES_TO_READ = 14
# Embedding sentences is most of an answer's cost: only the likeliest are embedded, picked
# by their words and their passage's standing, which cost nothing to compute.
SENTENCES_TO_EMBED = 24

# The sentences stored at ingest for some passages, by passage id (see storage.sentence_vectors).
SentenceLookup = Callable[[Sequence[int]], Mapping[int, PassageSentences]]

__all__ = ["NOT_COVERED", "Answer", "Answerer", "Citation", "Evidence", "citation_line"]


@dataclass(frozen=True)
class Answer:
    """A reply to a question: quotes, each with its citation, or a plain "not covered"."""

    question: str
    quotes: list[Quote] = field(default_factory=list)
    about_present: bool = False

    @property
    def covered(self) -> bool:
        """Whether the archive answers the question."""
        return bool(self.quotes)

    @property
    def quote(self) -> str | None:
        """The most likely quote."""
        return self.quotes[0].text if self.quotes else None

    @property
    def sources(self) -> list[Citation]:
        """The citation of every quote, in the order they are shown."""
        return [quote.citation for quote in self.quotes]

    @property
    def as_of(self) -> str | None:
        """For a question about the present, the date of the newest article quoted."""
        return as_of_label(self.quotes) if self.about_present else None

    @property
    def as_of_date(self) -> str | None:
        """The same date, ISO year-month-day, for machines."""
        return newest_date(self.quotes) if self.about_present else None

    @property
    def text(self) -> str:
        """The reply as plain text."""
        if not self.quotes:
            return NOT_COVERED
        lines = [f"As of {self.as_of}:"] if self.as_of else []
        for quote in self.quotes:
            lines += [f"“{quote.text}”", f"— {citation_line(quote.citation)}"]
        return "\n".join(lines)

    def as_json(self) -> dict[str, object]:
        """The answer as `parley ask --json` prints it."""
        return {
            "question": self.question,
            "answer": self.text,
            "as_of": self.as_of_date,
            "sources": [{**quote.citation.as_json(), "quote": quote.text} for quote in self.quotes],
        }


def citation_line(citation: Citation) -> str:
    """Title, source, date and link in one line."""
    parts = [citation.title, citation.source, citation.date, citation.url]
    return ", ".join(part for part in parts if part)


@dataclass(frozen=True)
class Evidence:
    """A question's candidates and their features: what the ranking model weighs."""

    facts: QuestionFacts
    weights: dict[str, float]  # the question's terms and their rarity in the archive
    candidates: list[Candidate]
    features: Matrix


@dataclass(frozen=True)
class _Reading:
    facts: QuestionFacts
    vector: Matrix
    tokens: Matrix  # the question's token vectors, on the stored tokens' axes
    # For each of them, its word's term and the terms reporters say it with (synonyms).
    token_synonyms: list[_Synonyms]
    weights: dict[str, float]
    sentences: list[tuple[str, RetrievedPassage, int, str | None]]
    known: dict[str, Matrix] = field(default_factory=dict)  # vectors stored at ingest
    known_tokens: dict[str, Matrix] = field(default_factory=dict)  # and sentences' tokens

    def missing(self) -> list[str]:
        """The candidate sentences and titles whose vectors (or tokens) were not stored."""
        titles = {passage.record.title for _, passage, _, _ in self.sentences}
        return [
            sentence
            for sentence, _, _, _ in self.sentences
            if sentence not in self.known or sentence not in self.known_tokens
        ] + sorted(title for title in titles if title not in self.known)


_Synonyms = tuple[str, frozenset[str]] | None
# A sentence's vector and its token vectors (float16 while cached: they are most of its size).
_Embedded = tuple[Matrix, npt.NDArray[np.float16]]


class Answerer:
    """Answers questions from the archive."""

    def __init__(
        self,
        *,
        embedder: Embedder,
        retriever: Retriever,
        model: RankingModel,
        words: WordSimilarity | None = None,
        stored: SentenceLookup | None = None,
        token_axes: TokenAxes | None = None,
        cache_size: int = 20_000,
    ):
        self._embedder = embedder
        self._axes = token_axes or axes_for(embedder.model_id, embedder.dimension)
        self._stored = stored
        self._words = words
        self._retriever = retriever
        self._model = model
        self._cache: OrderedDict[str, _Embedded] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def ask(self, question: str) -> Answer:
        """Answer one question."""
        return self.ask_many([question])[0]

    def ask_many(self, questions: Sequence[str]) -> list[Answer]:
        """Answer several questions at once: the model embeds all the questions in one batch
        and all their candidate sentences in another, which is what makes a busy bot fast."""
        return [self._answer(evidence) for evidence in self.gather(questions)]

    def gather(self, questions: Sequence[str]) -> list[Evidence]:
        """The candidates of each question and their evidence features."""
        cleaned = [" ".join(question.split()) for question in questions]
        vectors, tokens = self._embedder.embed_with_tokens(cleaned)
        readings = [
            self._read(q, vector, self._axes.project(own))
            for q, vector, own in zip(cleaned, vectors, tokens, strict=True)
        ]
        texts = [text for reading in readings for text in reading.missing()]
        computed = self._sentence_vectors(texts) if texts else {}
        return [self._evidence(reading, computed) for reading in readings]

    def _read(self, question: str, vector: Matrix, tokens: Matrix) -> _Reading:
        """The passages retrieved for a question and the sentences worth scoring in them."""
        facts = analyse(question)
        synonyms = self._token_synonyms(question, facts, len(tokens))
        if not question or not facts.terms:
            return _Reading(facts, vector, tokens, synonyms, {}, [])
        weights = self._retriever.term_weights(facts.terms)
        limit = PRESENT_PASSAGES_TO_READ if facts.about_present else PASSAGES_TO_READ
        passages = self._retriever.retrieve(vector=vector, weights=weights, limit=limit)
        stored = self._stored([p.record.passage_id for p in passages]) if self._stored else {}
        seen: set[str] = set()
        known: dict[str, Matrix] = {}
        known_tokens: dict[str, Matrix] = {}
        sentences: list[tuple[str, RetrievedPassage, int, str | None]] = []
        for passage in passages:
            previous = None
            for index, sentence in enumerate(_sentences_of(passage, stored, known, known_tokens)):
                if is_full_sentence(sentence) and sentence not in seen:
                    seen.add(sentence)
                    sentences.append((sentence, passage, index, previous))
                previous = sentence
        likeliest = _likeliest(sentences, weights, facts)
        return _Reading(facts, vector, tokens, synonyms, weights, likeliest, known, known_tokens)

    def _token_synonyms(self, question: str, facts: QuestionFacts, count: int) -> list[_Synonyms]:
        """Each question token's word's term and its synonyms (knowledge.synonyms), for the
        content words that have some: the model's token vectors do not know that reports say
        "team" for "delegation", or name a role ("presidential aide") for "role"."""
        words = self._embedder.token_words(question)[:count]
        content = [word if _is_content(word) else "" for word in words]
        alike = alike_terms([word for word in dict.fromkeys(content) if word], facts)
        found = [(term(word), alike[word]) if word in alike else None for word in content]
        return found + [None] * (count - len(found))

    def _answer(self, evidence: Evidence) -> Answer:
        facts = evidence.facts
        probabilities = self._model.probabilities(evidence.features)
        quotes = select_quotes(facts, evidence.candidates, probabilities, self._model)
        return Answer(facts.text, quotes=quotes, about_present=about_now(facts))

    def _evidence(self, reading: _Reading, computed: dict[str, _Embedded]) -> Evidence:
        """Every candidate sentence with its meaning and its features."""
        soft_terms = self._soft_terms(reading)

        def vector(text: str) -> Matrix:
            return reading.known[text] if text in reading.known else computed[text][0]

        def tokens(text: str) -> Matrix:
            if text in reading.known_tokens:
                return reading.known_tokens[text]
            return computed[text][1].astype(np.float32)

        candidates = [
            Candidate(
                sentence=sentence,
                passage=passage,
                index=index,
                previous=previous,
                meaning=float(vector(sentence) @ reading.vector),
                title_meaning=float(vector(passage.record.title) @ reading.vector),
                soft_terms=soft,
                token_match=maxsim(
                    reading.tokens, tokens(sentence), _said_otherwise(reading, sentence)
                ),
            )
            for (sentence, passage, index, previous), soft in zip(
                reading.sentences, soft_terms, strict=True
            )
        ]
        features = feature_matrix(reading.facts, reading.weights, candidates)
        return Evidence(reading.facts, reading.weights, candidates, features)

    @staticmethod
    def _weighted_words(reading: _Reading, words: list[str]) -> list[tuple[str, float]]:
        """The question's words with their terms' rarity; unseen terms weigh the most."""
        heaviest = max(reading.weights.values(), default=1.0)
        return [(word, reading.weights.get(term(word), heaviest)) for word in words]

    def _soft_terms(self, reading: _Reading) -> list[float]:
        """Each candidate's share of the question's words, said in close words too."""
        if self._words is None:
            return [coverage(reading.weights, term_set(item[0])) for item in reading.sentences]
        words = as_reported(content_words(reading.facts.text))
        question = self._weighted_words(reading, words)
        alike = alike_terms(words, reading.facts)
        said = [content_words(item[0]) for item in reading.sentences]
        # The words of every candidate tokenized in one call, not one call a sentence: the
        # tokenizer's cost is mostly per call.
        self._words.learn(words + [word for own in said for word in own])
        return [self._words.soft_coverage(question, own, alike) for own in said]

    def _sentence_vectors(self, sentences: Sequence[str]) -> dict[str, _Embedded]:
        """Sentence embeddings and token vectors, remembered: the same passages come back for
        related questions."""
        with self._lock:
            known = {
                sentence: self._cache[sentence] for sentence in sentences if sentence in self._cache
            }
        missing = [sentence for sentence in dict.fromkeys(sentences) if sentence not in known]
        if missing:
            vectors, tokens = self._embedder.embed_with_tokens(missing)
            computed = [
                (vector, self._axes.project(own).astype(np.float16))
                for vector, own in zip(vectors, tokens, strict=True)
            ]
            known.update(zip(missing, computed, strict=True))
            with self._lock:
                self._cache.update(zip(missing, computed, strict=True))
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        return known


def _is_content(word: str) -> bool:
    """A word that carries meaning: not a stopword, a letter, a number or punctuation."""
    return word.isalnum() and len(word) > 1 and word.lower() not in STOPWORDS


def _said_otherwise(reading: _Reading, sentence: str) -> npt.NDArray[np.bool_] | None:
    """Which question tokens the sentence says with a synonym rather than the word itself."""
    if not any(reading.token_synonyms):
        return None
    said = term_set(sentence)
    return np.array(
        [
            found is not None and found[0] not in said and not said.isdisjoint(found[1])
            for found in reading.token_synonyms
        ]
    )


def _sentences_of(
    passage: RetrievedPassage,
    stored: Mapping[int, PassageSentences],
    known: dict[str, Matrix],
    known_tokens: dict[str, Matrix],
) -> Sequence[str]:
    """The passage's sentences; their vectors (and tokens) and its title's go into `known`
    (and `known_tokens`) when stored."""
    found = stored.get(passage.record.passage_id)
    if found is None:
        return passage_sentences(passage.record.text)
    known.update(zip(found.sentences, found.vectors, strict=True))
    known[passage.record.title] = found.title[0]
    if found.tokens is not None:
        known_tokens.update(zip(found.sentences, found.tokens, strict=True))
    return found.sentences


def _likeliest(
    sentences: list[tuple[str, RetrievedPassage, int, str | None]],
    weights: dict[str, float],
    facts: QuestionFacts,
) -> list[tuple[str, RetrievedPassage, int, str | None]]:
    """The sentences most likely to answer, judged without the model: their own words and
    their neighbour's (the answer often follows the sentence that restates the question).
    To a question about what is still to happen, a report that no date is set answers
    without the question's words ("no time set" for "when is the next round scheduled?")."""
    if len(sentences) <= SENTENCES_TO_EMBED:
        return sentences
    total = sum(weights.values()) or 1.0

    def share(text: str | None) -> float:
        present = set(terms(text)) if text else set()
        return sum(weight for term, weight in weights.items() if term in present) / total

    def promise(item: tuple[str, RetrievedPassage, int, str | None]) -> float:
        sentence, passage, _, previous = item
        return share(sentence) + 0.5 * share(previous) + 0.3 * passage.dense

    likeliest = sorted(sentences, key=promise, reverse=True)[:SENTENCES_TO_EMBED]
    if asks_ahead(facts):
        kept = {item[0] for item in likeliest}  # the sentences are distinct (see _read)
        likeliest += [item for item in sentences if item[0] not in kept and says_no_date(item[0])]
    return likeliest
