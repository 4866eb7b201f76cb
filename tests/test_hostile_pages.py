"""Large and hostile pages and feeds: the bot keeps answering, and what is stored is bounded."""

from __future__ import annotations

import asyncio
import random
import threading
from html import escape

import pytest
from sqlalchemy import select

from knowledge.cleaning import MAX_ARTICLE_CHARS, MAX_PARAGRAPHS
from knowledge.documents import Document
from parley.services import Services
from storage.limits import MAX_NAME_CHARS, MAX_TITLE_CHARS, MAX_URL_CHARS
from storage.models import Article, Source
from tests.support.bot_harness import ADMIN, USER, RunningBot, eventually
from tests.support.news_site import rss, story, story_page
from tests.support.web_server import WebServer
from web import source_manager

FIVE_MB = 5_000_000
WORDS = "negotiators met in Geneva on Monday to discuss a prisoner exchange and grain".split()


def huge_page(size: int = FIVE_MB - 1_000) -> bytes:
    """An article page of about `size` bytes: thirty paragraphs, repeated until it is that big
    (every copy is extracted and cleaned; only the thirty are embedded and stored)."""
    rng = random.Random(size)
    distinct = [
        f"<p>{' '.join(rng.choice(WORDS) for _ in range(40)).capitalize()} number {n}.</p>\n"
        for n in range(30)
    ]
    repeats = (size - 200) // sum(map(len, distinct))
    return (
        "<html><head><title>The longest read</title></head><body><article>"
        "<h1>The longest read</h1>" + "".join(distinct) * repeats + "</article></body></html>"
    ).encode()


def stored_articles(services: Services) -> list[Article]:
    with services.sessions() as session:
        return list(session.scalars(select(Article).order_by(Article.id)))


async def test_another_chat_is_answered_while_a_5_mb_page_is_read(
    running_bot: RunningBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Order of events, not timings: the page's reading is held open (in whichever thread it
    # runs) until the other chat has its answer. Read on the event loop, it would hold the
    # loop too, and the answer could only come after it.
    events: list[str] = []
    reading, may_finish = threading.Event(), threading.Event()
    read_web_page = source_manager.read_web_page

    def observed(content: bytes, *, url: str) -> Document:
        events.append("page reading started")
        reading.set()
        document = read_web_page(content, url=url)
        may_finish.wait(timeout=30)
        events.append("page reading finished")
        return document

    monkeypatch.setattr(source_manager, "read_web_page", observed)
    with WebServer() as web:
        url = web.add("/world/longest-read", huge_page(), content_type="text/html")
        running_bot.server.send_user_message(chat_id=ADMIN, text=f"/ingest {url}")
        await eventually(reading.is_set, timeout=30)

        [answer] = await running_bot.ask(USER, "Who leads the Russian delegation?")
        events.append("other chat answered")
        may_finish.set()
        [added] = await running_bot.server.await_messages(ADMIN, 1, timeout=180)

    assert events == ["page reading started", "other chat answered", "page reading finished"]
    assert "Medinsky" in answer
    assert added["text"].startswith("Added") and "The longest read" in added["text"]


def test_an_article_past_the_bounds_keeps_its_beginning(
    web_services: Services, site: WebServer
) -> None:
    long_read = story(5, "Grain")
    long_read.paragraphs = [
        f"Paragraph {n} of the longest read says the grain convoy is delayed again."
        for n in range(MAX_PARAGRAPHS * 3)
    ]
    url = site.add("/news/longest", story_page(long_read))

    asyncio.run(web_services.source_manager.ingest_page(url))

    [article] = stored_articles(web_services)
    kept = article.text.split("\n\n")
    assert kept[0].startswith("Paragraph 0 of") and kept[-1].endswith("delayed again.")
    assert len(kept) <= MAX_PARAGRAPHS and sum(map(len, kept)) <= MAX_ARTICLE_CHARS


def test_a_title_of_500000_entities_is_stored_short(
    web_services: Services, site: WebServer
) -> None:
    body = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in story(1, "Grain").paragraphs)
    page = f"<html><head><title>{'&amp;' * 500_000}</title></head><body><article>{body}"
    url = site.add("/news/entities", (page + "</article></body></html>").encode())

    result = asyncio.run(web_services.source_manager.ingest_page(url))

    [article] = stored_articles(web_services)
    assert result.stored
    assert len(article.title) <= MAX_TITLE_CHARS and article.title.endswith("…")
    assert article.title.startswith("&&&")


def test_feed_titles_and_names_are_capped_and_overlong_links_skipped(
    web_services: Services, site: WebServer
) -> None:
    long_title, long_name = "Talks " * 2_000, "Wire " * 1_000
    stories = [story(1, "Ceasefire"), story(2, "Prisoner"), story(3, "Grain")]
    stories[0].title = long_title
    stories[2].slug = "x" * (MAX_URL_CHARS + 100)
    body = rss(site.url, stories, title=long_name, full=True)
    url = site.add("/feed.xml", body, content_type="application/rss+xml")

    check = asyncio.run(web_services.source_manager.add(url))

    titles = sorted(article.title for article in stored_articles(web_services))
    assert len(check.stored) == 2  # the third item's link is too long to keep
    assert titles[0].startswith("Prisoner talks")
    assert titles[1].startswith("Talks Talks") and len(titles[1]) <= MAX_TITLE_CHARS
    with web_services.sessions() as session:
        source = session.get_one(Source, check.source_id)
        assert source.name.startswith("Wire Wire") and len(source.name) <= MAX_NAME_CHARS


def test_a_page_with_an_overlong_canonical_link_keeps_the_address_it_was_fetched_from(
    web_services: Services, site: WebServer
) -> None:
    canonical = f"{site.url}/news/" + "y" * (MAX_URL_CHARS + 10)
    page = story_page(story(4, "Energy")).replace(
        b"</head>", f'<link rel="canonical" href="{escape(canonical)}"></head>'.encode()
    )
    url = site.add("/news/energy", page)

    asyncio.run(web_services.source_manager.ingest_page(url))

    [article] = stored_articles(web_services)
    assert article.url == url
