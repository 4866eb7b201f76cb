"""Catching up and looking back: what's new since a moment, and a topic's timeline, both
told as stories (several outlets' articles about one event count once)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from knowledge import topics as topic_matching
from knowledge.embedding import Embedder
from knowledge.retrieval import RetrievedPassage, Retriever
from knowledge.stories import Story, group_stories, moment
from knowledge.summaries import key_sentence, sentence_about
from knowledge.terms import content_terms, term_set
from storage import activity, news
from storage import topics as followed_topics
from storage.articles import ArticleSummary
from storage.fulltext import FullTextIndex
from storage.models import utcnow
from storage.vectors import VectorIndex

DEFAULT_SPAN = timedelta(days=7)  # a chat that never caught up: the last week
MAX_SPAN = timedelta(days=3660)
MAX_NEW_ARTICLES = 300  # grouping compares every pair: bounded, newest first
MAX_EVENTS = 60
TIMELINE_PASSAGES = 200
# A passage is about the topic when it means much the same, or when it holds at least half
# the topic's words and means something near it (calibrated on the development articles:
# "prisoner swaps" meets its one swap article at 0.26, "tariffs" unrelated talks below 0.3).
ABOUT_SIMILARITY = 0.5
WITH_WORDS_SIMILARITY = 0.2
SPAN = re.compile(r"^(\d{1,4})\s*([hdwm])$")
UNITS = {"h": timedelta(hours=1), "d": timedelta(days=1), "w": timedelta(weeks=1)}

ArticleFilter = Callable[[ArticleSummary], bool]


class BadSpan(ValueError):
    """A /whatsnew argument that is neither a span nor a date; the message is for people."""


@dataclass(frozen=True)
class Since:
    """Where a catch-up starts: a moment, and whether it counts arrivals or publication."""

    moment: datetime
    by_arrival: bool  # since the chat last looked: what arrived; since a date: what appeared


@dataclass(frozen=True)
class NewStory:
    """A story for /whatsnew or a timeline, with the sentence that tells it."""

    story: Story
    sentence: str
    article: ArticleSummary  # the one the sentence is quoted from

    @property
    def date(self) -> datetime:
        """When it happened: the first report of it."""
        return self.story.oldest


@dataclass(frozen=True)
class WhatsNew:
    """The new stories, newest first, and where they were counted from."""

    since: Since
    stories: list[NewStory]


def parse_since(argument: str, *, now: datetime) -> Since | None:
    """ "7d", "12h", "2w", "1m" or "2025-06-01" as a moment; None for no argument."""
    text = argument.strip().lower()
    if not text:
        return None
    span = SPAN.match(text)
    if span:
        count, unit = int(span.group(1)), span.group(2)
        length = timedelta(days=30 * count) if unit == "m" else UNITS[unit] * count
        return Since(now - min(length, MAX_SPAN), by_arrival=False)
    try:
        day = datetime.strptime(text, "%Y-%m-%d")
    except ValueError:
        raise BadSpan(
            f"I don't understand “{argument.strip()[:40]}”: give a span such as 7d, 12h, 2w, "
            "or a date such as 2025-06-01."
        ) from None
    return Since(day, by_arrival=False)


def is_about(passage: RetrievedPassage, topic_terms: Sequence[str]) -> bool:
    """Whether a retrieved passage is about the topic, not merely its nearest neighbour."""
    if passage.dense >= ABOUT_SIMILARITY:
        return True
    wanted = set(topic_terms)
    shared = len(wanted & term_set(passage.record.text))
    return bool(wanted) and 2 * shared >= len(wanted) and passage.dense >= WITH_WORDS_SIMILARITY


class NewsDesk:
    """Reads the archive for /whatsnew and /timeline."""

    def __init__(
        self,
        *,
        sessions: sessionmaker[Session],
        embedder: Embedder,
        fulltext: FullTextIndex,
        vectors: VectorIndex,
    ) -> None:
        self._sessions = sessions
        self._embedder = embedder
        self._retriever = Retriever(
            sessions=sessions, fulltext=fulltext, vectors=vectors, candidates=TIMELINE_PASSAGES
        )

    def whats_new(
        self,
        chat_id: int,
        since: Since | None = None,
        *,
        about: ArticleFilter | None = None,
        now: datetime | None = None,
    ) -> WhatsNew:
        """The stories new to the chat since `since` (default: since it last got a digest or
        asked), newest first; only those `about` accepts (a topic chat's topics). Records
        that the chat has now caught up."""
        now = now or utcnow()
        with self._sessions.begin() as session:
            if since is None:
                seen = activity.last_seen(session, chat_id=chat_id)
                since = Since(seen, True) if seen else Since(now - DEFAULT_SPAN, False)
            articles = self._articles_since(session, since)
            about = about or self._chat_topics(session, chat_id)
            articles = [article for article in articles if about is None or about(article)]
            vectors = news.article_vectors(session, ids=[article.id for article in articles])
            activity.record_seen(session, chat_id=chat_id, at=now)
        stories = [
            NewStory(story, key_sentence(story.lead.text), story.lead)
            for story in group_stories(articles, vectors)
        ]
        return WhatsNew(since, stories[:MAX_EVENTS])

    def timeline(self, topic: str) -> list[NewStory]:
        """What happened on the topic across the archive, one story per event, oldest first."""
        terms = content_terms(topic)
        found = self._retriever.retrieve(
            vector=self._embedder.embed([topic])[0],
            weights=self._retriever.term_weights(terms),
            limit=TIMELINE_PASSAGES,
        )
        best: dict[int, RetrievedPassage] = {}
        for passage in found:
            article_id = passage.record.article_id
            if is_about(passage, terms) and (
                article_id not in best or passage.dense > best[article_id].dense
            ):
                best[article_id] = passage
        with self._sessions() as session:
            articles = news.articles_with_ids(session, ids=list(best))
            vectors = news.article_vectors(session, ids=list(best))
        events = [_timeline_event(story, best, terms) for story in group_stories(articles, vectors)]
        events.sort(key=lambda event: (event.date, event.article.id))
        return events[-MAX_EVENTS:]

    def _chat_topics(self, session: Session, chat_id: int) -> ArticleFilter | None:
        """For a chat that follows topics, whether an article is about one of them (the
        same test that decides its digests); None for a chat that follows everything."""
        followed = followed_topics.topics_of(session, chat_id=chat_id)
        if not followed:
            return None
        model = self._embedder.model_id

        def accepts(article: ArticleSummary) -> bool:
            texts, vectors, _ = news.article_passages(session, article_id=article.id)
            words = topic_matching.article_terms(article.title, texts)
            return any(
                topic_matching.is_about(topic, model=model, passages=vectors, words=words)
                for topic in followed
            )

        return accepts

    @staticmethod
    def _articles_since(session: Session, since: Since) -> list[ArticleSummary]:
        if since.by_arrival:
            return news.articles_arrived_since(session, since=since.moment, limit=MAX_NEW_ARTICLES)
        return news.articles_published_since(session, since=since.moment, limit=MAX_NEW_ARTICLES)


def _timeline_event(
    story: Story, best: dict[int, RetrievedPassage], terms: Sequence[str]
) -> NewStory:
    """The story told by its passage most about the topic, quoting that passage's sentence
    with the most of the topic's words."""
    chosen = max(
        story.articles, key=lambda article: (best[article.id].dense, -moment(article).timestamp())
    )
    return NewStory(story, sentence_about(best[chosen.id].record.text, terms), chosen)
