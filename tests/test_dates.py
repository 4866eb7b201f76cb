"""Publication dates: the feed's, else the page's metadata, else the dateline; never a guess."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

from sqlalchemy import select

from parley.services import Services
from storage.models import Article
from tests.support.previews import previews
from tests.support.web_server import WebServer

BODY = (
    "<p>Negotiators from both sides met in Geneva to discuss a prisoner exchange and the "
    "monitoring of a ceasefire along the front line, officials said.</p>"
    "<p>The talks were described as constructive by officials from both delegations, who "
    "agreed to meet again although neither side said where.</p>"
)


def html_page(*, head: str = "", body_top: str = "") -> str:
    return (
        f"<html><head><title>Talks resume in Geneva</title>{head}</head><body>"
        f"<article><h1>Talks resume in Geneva</h1>{body_top}{BODY}</article></body></html>"
    )


def stored_dates(services: Services) -> list[datetime | None]:
    with services.sessions() as session:
        return list(session.scalars(select(Article.published_at).order_by(Article.id)))


def rss_item_feed(site: WebServer, *, pub_date: datetime | None) -> str:
    """A feed whose one item has only a summary, so the linked page is fetched for its text."""
    date = f"<pubDate>{format_datetime(pub_date)}</pubDate>" if pub_date else ""
    item = (
        f"<item><title>Talks resume in Geneva</title><link>{site.url}/news/geneva</link>"
        f"{date}<description>Negotiators met in Geneva.</description></item>"
    )
    feed = f'<rss version="2.0"><channel><title>Wire</title>{item}</channel></rss>'
    return site.add("/feed.xml", feed.encode(), content_type="application/rss+xml")


PAGE_WITH_METADATA_AND_DATELINE = html_page(
    head='<meta property="article:published_time" content="2025-03-01T09:00:00Z">',
    body_top="<p>Geneva, February 20, 2025 – Reuters</p>",
)


def test_a_feed_items_date_beats_the_pages_metadata_and_dateline(
    web_services: Services, site: WebServer
) -> None:
    site.add("/news/geneva", PAGE_WITH_METADATA_AND_DATELINE.encode())
    moscow = timezone(timedelta(hours=3))
    feed = rss_item_feed(site, pub_date=datetime(2025, 3, 2, 7, 30, tzinfo=moscow))

    asyncio.run(web_services.source_manager.add(feed))

    assert stored_dates(web_services) == [datetime(2025, 3, 2, 4, 30)]  # in UTC


def test_a_feed_item_without_a_date_takes_the_pages_metadata_date(
    web_services: Services, site: WebServer
) -> None:
    site.add("/news/geneva", PAGE_WITH_METADATA_AND_DATELINE.encode())
    feed = rss_item_feed(site, pub_date=None)

    asyncio.run(web_services.source_manager.add(feed))

    assert stored_dates(web_services) == [datetime(2025, 3, 1, 9, 0)]


def test_an_html_files_date_is_its_article_published_time_in_utc(
    services: Services, tmp_path: Path
) -> None:
    page = tmp_path / "geneva.html"
    page.write_text(
        html_page(
            head='<meta property="article:published_time" content="2025-06-02T10:15:00+02:00">'
            '<meta property="article:modified_time" content="2025-06-05T08:00:00+02:00">',
            body_top="<p>Geneva, May 30, 2025 – AP</p>",
        )
    )

    [preview] = previews(services, page)
    services.ingestor.store(services.ingestor.plan_files([str(page)])[0])

    assert preview["date"] == "2025-06-02"
    assert stored_dates(services) == [datetime(2025, 6, 2, 8, 15)]  # time kept, in UTC


def test_an_html_files_date_can_come_from_json_ld_date_published(
    services: Services, tmp_path: Path
) -> None:
    page = tmp_path / "geneva.html"
    page.write_text(
        html_page(
            head='<script type="application/ld+json">{"@context": "https://schema.org", '
            '"@type": "NewsArticle", "headline": "Talks resume in Geneva", '
            '"datePublished": "2025-03-04T08:30:00Z", "dateModified": "2025-03-06T12:00:00Z"}'
            "</script>"
        )
    )

    [preview] = previews(services, page)

    assert preview["date"] == "2025-03-04"


def test_a_text_files_date_comes_from_its_dateline(services: Services, tmp_path: Path) -> None:
    article = tmp_path / "talks.txt"
    article.write_text(
        "Talks resume in Geneva\n\nGeneva, June 2, 2025 – AP\n\n"
        "Negotiators met on Wednesday to discuss a prisoner exchange, officials said.\n"
    )

    [preview] = previews(services, article)

    assert (preview["date"], preview["source"]) == ("2025-06-02", "AP")
    assert "June 2, 2025" not in str(preview["text"])


def test_relative_words_and_dates_in_the_text_never_become_the_date(
    services: Services, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text(
        "Talks resume in Geneva\n\nNegotiators met on Wednesday, a day after the last round, "
        "held on May 3, 2022, was recalled by both sides as a failure.\n"
    )
    page = tmp_path / "page.html"
    page.write_text(
        html_page(
            body_top="<p>Negotiators met on Wednesday; the last round, held on May 3, 2022, "
            "ended without a deal, officials recalled after the meeting.</p>"
        )
    )

    assert [preview["date"] for preview in previews(services, plain, page)] == [None, None]


def test_a_date_in_the_future_is_ignored_for_the_next_best_evidence(
    services: Services, tmp_path: Path
) -> None:
    page = tmp_path / "geneva.html"
    page.write_text(
        html_page(
            head='<meta property="article:published_time" content="2099-01-01">',
            body_top="<p>Geneva, May 30, 2025 – AP</p>",
        )
    )

    [preview] = previews(services, page)

    assert preview["date"] == "2025-05-30"
