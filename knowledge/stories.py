"""Stories: articles from several outlets about the same event, told once.

Two articles report the same event when they mean nearly the same (their vectors are
close), name the same people or places, and appeared within a couple of days of each
other. Any one of these alone misleads: every round of the Iran talks reads alike, and
"Araghchi" appears in months of articles. The thresholds were calibrated on the development
articles (negotiations-dev): of the 37 pairs published within three days of each other, all
13 same-event pairs pass (similarity 0.64–0.83, 4–15 shared names) and one different-event
pair does (a Bessent–He meeting and a Chinese envoy's removal two days apart, 0.73); pairs
on the same talks a few days apart (opening and outcome of one round) may join, by design.

Grouping is greedy in date order: an article joins the story it is most similar to when it
passes the test against that story's centre, its names and its newest date, so a story
cannot drift from event to event the way single-link chains do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

import numpy as np

from knowledge.answer_types import TITLES, new_names
from knowledge.places import is_country
from knowledge.sentences import split_sentences
from knowledge.terms import term
from storage.articles import ArticleSummary
from storage.vectors import Matrix

# Calibrated on the development articles: same-event pairs sit at 0.62–0.93, different
# events on the same thread (two rounds of the same talks) at 0.45–0.75.
SAME_EVENT_SIMILARITY = 0.62
MIN_SHARED_NAMES = 2  # names both articles mention (countries aside: they are every day's)
MAX_DAYS_APART = 2
NAME_SENTENCES = 12  # the opening sentences, where news names who, where and what
MAX_NAME_CHARS = 20_000  # bounds the work per article, whatever its length
LOWER_WORD = re.compile(r"\b[a-z][a-z'’-]+\b")


@dataclass(frozen=True)
class Story:
    """One event: its articles, the most representative first, the rest newest first."""

    articles: tuple[ArticleSummary, ...]

    @property
    def lead(self) -> ArticleSummary:
        """The article that tells the story best: the one nearest the others in meaning."""
        return self.articles[0]

    @property
    def newest(self) -> datetime:
        """When the story was last reported."""
        return max(moment(article) for article in self.articles)

    @property
    def oldest(self) -> datetime:
        """When the story was first reported."""
        return min(moment(article) for article in self.articles)


@dataclass
class _Forming:
    """A story being grouped: its members, the sum of their vectors, their names."""

    members: list[ArticleSummary]
    vectors: list[Matrix | None]
    total: Matrix | None
    names: set[str] = field(default_factory=set)
    newest: date = date.min


def moment(article: ArticleSummary) -> datetime:
    """When the article appeared: its publication date, else when it arrived."""
    return article.published_at or article.ingested_at


def article_names(text: str) -> frozenset[str]:
    """The search terms of the people, places and bodies an article names: capitalised
    words it never writes in lower case ("State" in "Secretary of State" is no name when
    "state" appears too), read from its opening sentences."""
    lower_case = set(LOWER_WORD.findall(text[:MAX_NAME_CHARS]))
    found: set[str] = set()
    sentences = (s for paragraph in text.split("\n") for s in split_sentences(paragraph))
    for number, sentence in enumerate(sentences):
        if number == NAME_SENTENCES:
            break
        found.update(
            term(name.lower())
            for _, name in new_names(sentence, frozenset())
            if len(name) > 1 and name.lower() not in lower_case and name.lower() not in TITLES
        )
    return frozenset(found)


def _countries_removed(names: Iterable[str]) -> set[str]:
    return {name for name in names if not is_country(name)}


def same_event(
    similarity: float,
    shared_names: int,
    days_apart: int,
    *,
    threshold: float = SAME_EVENT_SIMILARITY,
) -> bool:
    """The same-event test on two articles (or an article and a story)."""
    return (
        similarity >= threshold
        and shared_names >= MIN_SHARED_NAMES
        and days_apart <= MAX_DAYS_APART
    )


def group_stories(
    articles: Sequence[ArticleSummary],
    vectors: dict[int, Matrix],
    *,
    names: dict[int, frozenset[str]] | None = None,
    threshold: float = SAME_EVENT_SIMILARITY,
) -> list[Story]:
    """Group articles into stories, newest story first. `vectors` holds each article's
    unit vector (an article without one stays a story of its own); `names` each article's
    names, read from its text when not given."""
    named = names if names is not None else {a.id: article_names(a.text) for a in articles}
    forming: list[_Forming] = []
    for article in sorted(articles, key=lambda a: (moment(a), a.id)):
        vector = vectors.get(article.id)
        own = _countries_removed(named.get(article.id, frozenset()))
        best = _best_story(forming, article, vector, own, threshold)
        if best is None:
            forming.append(
                _Forming([article], [vector], None if vector is None else vector.copy(), own)
            )
            forming[-1].newest = moment(article).date()
            continue
        best.members.append(article)
        best.vectors.append(vector)
        assert best.total is not None and vector is not None
        best.total = best.total + vector
        best.names |= own
        best.newest = max(best.newest, moment(article).date())
    stories = [_finished(story) for story in forming]
    return sorted(stories, key=lambda story: (story.newest, story.lead.id), reverse=True)


def _best_story(
    forming: list[_Forming],
    article: ArticleSummary,
    vector: Matrix | None,
    names: set[str],
    threshold: float,
) -> _Forming | None:
    if vector is None:
        return None
    day = moment(article).date()
    best: tuple[float, _Forming] | None = None
    for story in forming:
        if story.total is None:
            continue
        centre = story.total / (np.linalg.norm(story.total) or 1.0)
        similarity = float(centre @ vector)
        shared = len(story.names & names)
        if same_event(similarity, shared, (day - story.newest).days, threshold=threshold) and (
            best is None or similarity > best[0]
        ):
            best = (similarity, story)
    return None if best is None else best[1]


def _finished(story: _Forming) -> Story:
    """The story with its most central article first, then the others newest first."""
    if len(story.members) == 1 or story.total is None:
        return Story(tuple(story.members))
    centre = story.total / (np.linalg.norm(story.total) or 1.0)
    scores = [float(v @ centre) if v is not None else -1.0 for v in story.vectors]
    lead = max(range(len(scores)), key=lambda index: (scores[index], moment(story.members[index])))
    others = sorted(
        (a for index, a in enumerate(story.members) if index != lead),
        key=lambda a: (moment(a), a.id),
        reverse=True,
    )
    return Story((story.members[lead], *others))


def single_stories(articles: Iterable[ArticleSummary]) -> list[Story]:
    """Each article its own story, in the given order."""
    return [Story((article,)) for article in articles]
