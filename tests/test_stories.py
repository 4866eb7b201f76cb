"""Grouping articles into stories: meaning, shared names and dates must all agree."""

from __future__ import annotations

from datetime import datetime

import numpy as np

from bot import replies
from knowledge.news import BadSpan, parse_since
from knowledge.stories import group_stories
from storage.articles import ArticleSummary

SWAP = "Volodymyr Zelensky said Rustem Umerov agreed the swap with Vladimir Medinsky in Istanbul."


def article(article_id: int, source: str, day: int, text: str = SWAP) -> ArticleSummary:
    moment = datetime(2025, 6, day)
    return ArticleSummary(
        article_id,
        f"Title {article_id}",
        source,
        f"https://x.test/{article_id}",
        moment,
        moment,
        text,
    )


def unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=np.float32)
    return vector / np.linalg.norm(vector)


def test_close_meaning_shared_names_and_near_dates_make_one_story() -> None:
    articles = [article(1, "Reuters", 10), article(2, "AP", 10), article(3, "Kyiv Independent", 11)]
    vectors = {1: unit(1, 0.1), 2: unit(1, 0.2), 3: unit(1, 0.15)}
    [story] = group_stories(articles, vectors)
    assert {a.id for a in story.articles} == {1, 2, 3}
    assert story.newest == datetime(2025, 6, 11)


def test_days_apart_or_no_shared_names_keep_stories_apart() -> None:
    later = article(2, "AP", 20)
    unnamed = article(3, "AP", 10, "the talks went on and nothing was agreed by anyone today.")
    vectors = {1: unit(1, 0), 2: unit(1, 0), 3: unit(1, 0)}
    stories = group_stories([article(1, "Reuters", 10), later, unnamed], vectors)
    assert len(stories) == 3
    assert stories[0].lead.id == 2  # newest story first


def test_a_digest_names_two_outlets_and_links_the_third_as_one_more() -> None:
    articles = [article(1, "Reuters", 10), article(2, "AP", 10), article(3, "Kyiv Independent", 11)]
    vectors = {1: unit(1, 0.1), 2: unit(1, 0.2), 3: unit(1, 0.15)}
    [message] = replies.digest(group_stories(articles, vectors))
    assert message.startswith("<b>New: 1 story from 3 articles</b>")
    assert message.count("<a href=") == 4 and '">1 more</a>' in message


def test_whatsnew_spans_and_dates() -> None:
    now = datetime(2025, 6, 30, 12)
    assert parse_since("7d", now=now).moment == datetime(2025, 6, 23, 12)  # type: ignore[union-attr]
    assert parse_since("2025-06-01", now=now).moment == datetime(2025, 6, 1)  # type: ignore[union-attr]
    assert parse_since("", now=now) is None
    try:
        parse_since("soon", now=now)
    except BadSpan as problem:
        assert "7d" in str(problem)
    else:
        raise AssertionError("a bad span must be refused")
