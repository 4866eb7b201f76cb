"""The storage layer enforces the lengths SQLite ignores: whatever the caller, no title or
source name is stored over its cap, and no over-long URL is stored at all."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from knowledge.documents import Document
from parley.services import Services
from storage import sources
from storage.limits import MAX_NAME_CHARS, MAX_TITLE_CHARS, MAX_URL_CHARS, UrlTooLongError
from storage.models import Article, Source
from web.source_manager import SourceError, source_url

BODY = [
    "Negotiators from both sides met in Geneva on Monday to discuss a prisoner exchange.",
    "The talks were described as constructive by officials from both delegations.",
]


def test_a_long_title_and_source_name_are_stored_cut_on_a_word(services: Services) -> None:
    document = Document(
        url="https://news.example/geneva",
        title="Talks in Geneva " * 100,
        published_at=None,
        source="The Very Long Name Of A Wire Service " * 20,
        paragraphs=BODY,
    )

    services.ingestor.store([services.ingestor.plan(document)])

    with services.sessions() as session:
        article = session.scalars(select(Article)).one()
        title, name = article.title, article.source.name
    assert len(title) <= MAX_TITLE_CHARS and title.endswith("…")
    assert title[:-1].split()[-1] in {"Talks", "in", "Geneva"}  # cut between words
    assert len(name) <= MAX_NAME_CHARS and name.startswith("The Very Long Name")


def test_an_over_long_source_url_is_refused_with_a_clear_reason(services: Services) -> None:
    url = "https://news.example/" + "a" * MAX_URL_CHARS

    with services.sessions.begin() as session, pytest.raises(UrlTooLongError, match="over the"):
        sources.add_source(session, url=url, name="Wire", kind="feed")
    with pytest.raises(SourceError, match="longer than 2,000 characters"):
        source_url(url)
    with services.sessions() as session:
        assert session.scalars(select(Source).where(Source.url.is_not(None))).all() == []
