"""Adding and polling web sources against a local news site."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from parley.services import Services
from storage import deliveries, subscriptions
from storage.models import Article, Source
from tests.support.news_site import Story, atom, publish, rss, story, story_page
from tests.support.web_server import WebServer
from web.source_manager import SourceError


@pytest.fixture(autouse=True)
def quick_failures(monkeypatch: pytest.MonkeyPatch) -> None:
    """Failing sources give up fast here; set before `web_services` reads the settings."""
    monkeypatch.setenv("FETCH_TIMEOUT_SECONDS", "1")
    monkeypatch.setenv("MAX_SOURCE_FAILURES", "3")


def articles(services: Services) -> list[Article]:
    with services.sessions() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


def test_adding_a_feed_stores_its_items_with_the_linked_pages_full_text(
    web_services: Services, site: WebServer
) -> None:
    feed_url = publish(site, [story(1, "Ceasefire"), story(2, "Prisoner")])

    check = asyncio.run(web_services.source_manager.add(feed_url))

    assert (check.kind, check.name, check.found, len(check.stored)) == (
        "feed",
        "Example Wire",
        2,
        2,
    )
    stored = articles(web_services)
    assert [a.title for a in stored] == [
        "Ceasefire talks: round 1 ends in Geneva",
        "Prisoner talks: round 2 ends in Geneva",
    ]
    assert stored[0].url == f"{site.url}/news/story-1"  # tracking parameters dropped
    assert "next week" in stored[0].text  # the page's text, not the feed's one-line summary
    assert all(a.source_id == check.source_id for a in stored)


def test_an_atom_feed_with_full_text_needs_no_page_fetches(
    web_services: Services, site: WebServer
) -> None:
    url = site.add(
        "/atom", atom(site.url, [story(3, "Energy")]), content_type="application/atom+xml"
    )

    check = asyncio.run(web_services.source_manager.add(url))

    assert (check.kind, len(check.stored)) == ("feed", 1)
    assert [request.path for request in site.requests] == ["/atom"]


def test_adding_an_article_page_makes_a_page_source(
    web_services: Services, site: WebServer
) -> None:
    url = site.add("/news/one", story_page(story(4, "Grain")))

    check = asyncio.run(web_services.source_manager.add(url))

    assert (check.kind, check.found, len(check.stored)) == ("page", 1, 1)


@pytest.mark.parametrize(
    ("path", "body", "content_type", "reason"),
    [
        ("/missing", None, "", "404"),
        ("/empty", b"<html><body></body></html>", "text/html", "neither a feed nor an article"),
        ("/data", b'{"not": "news"}', "application/json", "neither a feed nor an article"),
    ],
)
def test_unusable_urls_get_one_clear_reason_and_store_nothing(
    web_services: Services,
    site: WebServer,
    path: str,
    body: bytes | None,
    content_type: str,
    reason: str,
) -> None:
    if body is not None:
        site.add(path, body, content_type=content_type)

    with pytest.raises(SourceError, match=reason):
        asyncio.run(web_services.source_manager.add(site.url + path))

    with web_services.sessions() as session:
        assert session.scalars(select(Source).where(Source.kind != "file")).all() == []


def test_private_addresses_are_refused_unless_allowed(services: Services, site: WebServer) -> None:
    url = publish(site, [story(1, "Ceasefire")])

    with pytest.raises(SourceError, match="private or internal"):
        asyncio.run(services.source_manager.add(url))
    assert site.requests == []


def test_an_oversized_or_slow_response_is_refused(web_services: Services, site: WebServer) -> None:
    big = site.stream("/huge", size=50_000_000, content_type="application/rss+xml")
    slow = site.add("/slow", b"<rss/>", delay=3, content_type="application/rss+xml")

    with pytest.raises(SourceError, match="larger than"):
        asyncio.run(web_services.source_manager.add(big))
    with pytest.raises(SourceError, match="did not answer"):
        asyncio.run(web_services.source_manager.add(slow))


def test_a_growing_feed_brings_only_its_new_items_and_queues_digests(
    web_services: Services, site: WebServer
) -> None:
    first = [story(1, "Ceasefire")]
    feed_url = publish(site, first)
    check = asyncio.run(web_services.source_manager.add(feed_url))
    with web_services.sessions.begin() as session:
        subscriptions.subscribe(session, chat_id=7, chat_type="private", title=None)

    unchanged = asyncio.run(web_services.source_manager.poll(check.source_id))
    publish(site, [story(2, "Prisoner"), *first])
    grown = asyncio.run(web_services.source_manager.poll(check.source_id))

    assert unchanged is not None and unchanged.stored == []
    assert grown is not None and len(grown.stored) == 1
    with web_services.sessions() as session:
        _, waiting = deliveries.pending_for_chat(session, chat_id=7)
    assert [article.title for article in waiting] == ["Prisoner talks: round 2 ends in Geneva"]


def test_unchanged_feeds_are_fetched_conditionally(web_services: Services, site: WebServer) -> None:
    site.add(
        "/feed.xml",
        rss(site.url, [story(1, "Ceasefire")], full=True),
        content_type="application/rss+xml",
        etag='"v1"',
    )
    check = asyncio.run(web_services.source_manager.add(f"{site.url}/feed.xml"))

    asyncio.run(web_services.source_manager.poll(check.source_id))

    assert site.requests[-1].headers.get("if-none-match") == '"v1"'


def test_only_recent_articles_of_a_new_source_go_in_digests(
    web_services: Services, site: WebServer
) -> None:
    with web_services.sessions.begin() as session:
        subscriptions.subscribe(session, chat_id=7, chat_type="private", title=None)
    feed_url = publish(
        site, [story(1, "Ceasefire", hours_ago=2), story(2, "Archive", hours_ago=72)]
    )

    asyncio.run(web_services.source_manager.add(feed_url))

    with web_services.sessions() as session:
        _, waiting = deliveries.pending_for_chat(session, chat_id=7)
    assert [article.title for article in waiting] == ["Ceasefire talks: round 1 ends in Geneva"]
    assert len(articles(web_services)) == 2  # the old one is archived silently


def test_a_failing_source_backs_off_and_is_deactivated(
    web_services: Services, site: WebServer
) -> None:
    feed_url = publish(site, [story(1, "Ceasefire")])
    check = asyncio.run(web_services.source_manager.add(feed_url))
    site.add("/feed.xml", b"<html><body><p>Moved</p></body></html>", content_type="text/html")

    failed = asyncio.run(web_services.source_manager.poll(check.source_id))
    backing_off = asyncio.run(web_services.source_manager.poll(check.source_id))

    assert failed is not None and "not an RSS or Atom feed" in (failed.error or "")
    assert backing_off is None  # not due yet
    for _ in range(2):
        with web_services.sessions.begin() as session:
            session.get(Source, check.source_id).next_poll_at = None  # type: ignore[union-attr]
        last = asyncio.run(web_services.source_manager.poll(check.source_id))
    assert last is not None and last.deactivated
    assert check.source_id not in web_services.source_manager.polled_source_ids()


def test_the_same_story_syndicated_twice_is_stored_once(
    web_services: Services, site: WebServer
) -> None:
    original = story(1, "Ceasefire")
    copy = Story(
        "syndicated",
        "Syndicated: " + original.title,
        ["(Example Wire) - " + original.paragraphs[0], *original.paragraphs[1:]],
        datetime.now(UTC) - timedelta(hours=1),
    )
    publish(site, [original], feed_path="/a.xml")
    site.add("/news/syndicated", story_page(copy))
    site.add("/b.xml", rss(site.url, [copy]), content_type="application/rss+xml")

    asyncio.run(web_services.source_manager.add(f"{site.url}/a.xml"))
    second = asyncio.run(web_services.source_manager.add(f"{site.url}/b.xml"))

    assert second.stored == []
    assert len(articles(web_services)) == 1
