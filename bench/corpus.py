"""Synthetic but realistic text and vectors for archives larger than the real articles.

Text: words drawn from a Zipf distribution (exponent 1.05) over a vocabulary whose most
frequent words are the seed article's words in their order of frequency there (so "the",
"russian", "delegation" are common), followed by 40,000 made-up words of two to four
syllables (the long tail of names and rare words). Sentences of 9–21 words, 6–9 sentences
a passage, about 120 words: the size the chunker gives real articles.

Vectors: a two-level Gaussian mixture in 384 dimensions, L2-normalised float32 — 2,000
topic centroids, 25 sub-topics around each, a shared direction (sentence embeddings are
anisotropic: unrelated texts still have a cosine around 0.1) and per-passage noise.
Unrelated passages have cosine ≈ 0.1, same topic ≈ 0.35, same sub-topic ≈ 0.55.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import numpy.typing as npt

from knowledge.terms import STOPWORDS, term, words

GENERATOR_VERSION = 3  # 3: sentences' token vectors
DIMENSION = 384
TOPICS = 2_000
SUBTOPICS = 25
MADE_UP_WORDS = 40_000
ZIPF_EXPONENT = 1.05
SHARED_WEIGHT = 0.35
SUBTOPIC_SPREAD = 0.75
NOISE_NORM = 0.95
QUERY_NOISE_NORM = 0.75
SEEDS = Path(__file__).resolve().parent.parent / "seeds"

Vectors = npt.NDArray[np.float32]
Rng = np.random.Generator


def _normalised(matrix: npt.NDArray[np.floating]) -> Vectors:
    norms = np.linalg.norm(matrix, axis=-1, keepdims=True)
    normalised: Vectors = (matrix / np.maximum(norms, 1e-12)).astype(np.float32)
    return normalised


def _made_up_words(count: int, rng: Rng, known: set[str]) -> list[str]:
    onsets = "b c d f g h k l m n p r s t v z br kr st tr pl sh ch dr gr".split()
    vowels = "a e i o u ia eo ou".split()
    codas = ["", "", "", "n", "r", "s", "l", "k"]
    syllables = [o + v + c for o, v, c in itertools.product(onsets, vowels, codas)]
    found: dict[str, None] = {}
    while len(found) < count:
        length = int(rng.integers(2, 5))
        word = "".join(syllables[i] for i in rng.integers(0, len(syllables), size=length))
        if word not in known:
            found[word] = None
    return list(found)


class Vocabulary:
    """Words with Zipf probabilities; each word's search term computed once."""

    def __init__(self, seed: int = 7) -> None:
        counts: Counter[str] = Counter()
        for path in sorted(SEEDS.glob("*.txt")):
            counts.update(w for w in words(path.read_text(encoding="utf-8")) if w.isalpha())
        real = sorted(counts, key=lambda word: (-counts[word], word))
        made_up = _made_up_words(MADE_UP_WORDS, np.random.default_rng(seed), set(real))
        self.words = np.array(real + made_up, dtype=object)
        self.terms = np.array([term(word) for word in self.words], dtype=object)
        ranks = np.arange(1, len(self.words) + 1, dtype=np.float64)
        weights = ranks**-ZIPF_EXPONENT
        self.cumulative = np.cumsum(weights / weights.sum())

    def __len__(self) -> int:
        return len(self.words)

    def sample(self, rng: Rng, count: int) -> npt.NDArray[np.int64]:
        """Word indices drawn from the Zipf distribution."""
        found = np.searchsorted(self.cumulative, rng.random(count), side="right")
        return np.minimum(found, len(self.words) - 1).astype(np.int64)


@dataclass(frozen=True)
class Passage:
    """A generated passage: its text and the search terms it is indexed under."""

    text: str
    terms: str


def passages(vocabulary: Vocabulary, rng: Rng, count: int) -> list[Passage]:
    """Passages of sentences: capitalised first word, a full stop at the end."""
    sentence_counts = rng.integers(6, 10, size=count)
    lengths = rng.integers(9, 22, size=int(sentence_counts.sum()))
    ids = vocabulary.sample(rng, int(lengths.sum()))
    words_of, terms_of = vocabulary.words, vocabulary.terms
    made: list[Passage] = []
    word_at, sentence_at = 0, 0
    for sentences in sentence_counts:
        start = word_at
        parts = []
        for length in lengths[sentence_at : sentence_at + sentences]:
            sentence = " ".join(words_of[ids[word_at : word_at + length]])
            parts.append(sentence[:1].upper() + sentence[1:] + ".")
            word_at += int(length)
        sentence_at += int(sentences)
        chosen = ids[start:word_at]
        made.append(Passage(" ".join(parts), " ".join(terms_of[chosen])))
    return made


def question_words(text: str, rng: Rng, count: int = 3) -> str:
    """A question made of a few distinct content words of a passage ("What about …?")."""
    content = sorted({word for word in words(text) if word not in STOPWORDS and len(word) > 1})
    chosen = rng.choice(len(content), size=min(count, len(content)), replace=False)
    return "What about " + " ".join(content[i] for i in chosen) + "?"


class VectorModel:
    """The topic mixture that passage and query vectors are drawn from."""

    def __init__(self, seed: int = 11, dimension: int = DIMENSION) -> None:
        self.dimension = dimension
        self._rng = np.random.default_rng(seed)

    @cached_property
    def _shared(self) -> Vectors:
        return _normalised(self._rng.standard_normal(self.dimension))

    @cached_property
    def _subtopics(self) -> Vectors:
        topics = _normalised(self._rng.standard_normal((TOPICS, self.dimension)))
        spread = _normalised(self._rng.standard_normal((TOPICS, SUBTOPICS, self.dimension)))
        return _normalised(topics[:, None, :] + SUBTOPIC_SPREAD * spread).reshape(
            TOPICS * SUBTOPICS, self.dimension
        )

    def passages(self, rng: Rng, count: int) -> Vectors:
        """Unit vectors of `count` passages, each of a random topic and sub-topic."""
        chosen = self._subtopics[rng.integers(0, TOPICS * SUBTOPICS, size=count)]
        noise = rng.standard_normal((count, self.dimension), dtype=np.float32)
        noise *= NOISE_NORM / np.sqrt(self.dimension)
        return _normalised(SHARED_WEIGHT * self._shared + chosen + noise)

    @staticmethod
    def queries(rng: Rng, sources: Vectors) -> Vectors:
        """Questions near stored passages: each source vector plus noise, renormalised."""
        noise = rng.standard_normal(sources.shape, dtype=np.float32)
        noise *= QUERY_NOISE_NORM / np.sqrt(sources.shape[-1])
        return _normalised(sources + noise)


PLACES = ["Istanbul", "Kyiv", "Moscow", "Geneva", "Riyadh", "Ankara", "Brussels", "Washington"]
AGENCIES = ["Reuters", "Associated Press", "AFP", "Bloomberg", "Kyiv Independent", "TASS"]
MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August"]


def article_files(
    vocabulary: Vocabulary, rng: Rng, count: int, folder: Path, *, paragraphs: Sequence[int]
) -> list[Path]:
    """Write `count` .txt articles as news files look: a headline, a dateline with place,
    date and agency, then paragraphs of two to four generated sentences."""
    written = []
    for number in range(count):
        title = " ".join(vocabulary.words[vocabulary.sample(rng, 7)]).title()
        month, day = MONTHS[number % len(MONTHS)], 1 + number % 28
        place, agency = PLACES[number % len(PLACES)], AGENCIES[number % len(AGENCIES)]
        body = []
        for _ in range(int(rng.integers(paragraphs[0], paragraphs[1] + 1))):
            generated = passages(vocabulary, rng, 1)[0].text.split(". ")
            body.append(". ".join(generated[: int(rng.integers(2, 5))]).rstrip(".") + ".")
        path = folder / f"article_{number:04d}.txt"
        path.write_text(
            f"{title}\n\n{place}, {month} {day}, 2025 – {agency}\n\n" + "\n\n".join(body) + "\n",
            encoding="utf-8",
        )
        written.append(path)
    return written
