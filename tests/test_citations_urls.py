"""Citations point to the original article: its canonical URL and its own title."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from sqlalchemy import select

from parley.services import Services
from storage.models import Article
from tests.support.news_site import story, story_page
from tests.support.previews import previews
from tests.support.web_server import WebServer

ORIGINAL = "https://news.example.org/world/2025/06/02/talks-resume-in-geneva/"
PARAGRAPHS = (
    "<p>Negotiators from both sides met in Geneva to discuss a prisoner exchange and the "
    "monitoring of a ceasefire along the front line, officials said.</p>"
    "<p>The talks were described as constructive by officials from both delegations, who "
    "agreed to meet again although neither side said where.</p>"
)


def html_page(*, head: str = "", title: str = "Talks resume in Geneva", body: str = "") -> str:
    heading = f"<title>{title}</title>" if title else ""
    return (
        f"<html><head>{heading}{head}</head><body><article>"
        f"{body}{PARAGRAPHS}</article></body></html>"
    )


def stored(services: Services) -> list[tuple[str, str]]:
    with services.sessions() as session:
        rows = session.execute(select(Article.url, Article.title).order_by(Article.id))
        return [(url, title) for url, title in rows]


def test_an_html_files_url_is_its_canonical_link_and_its_title_the_pages(
    services: Services, tmp_path: Path
) -> None:
    page = tmp_path / "saved_page-2025_06_02.html"
    page.write_text(
        html_page(
            head=f'<link rel="canonical" href="{ORIGINAL}">'
            '<meta property="og:url" content="https://m.news.example.org/other">'
            '<meta property="og:site_name" content="Example News">'
        )
    )

    [preview] = previews(services, page)

    assert preview["url"] == ORIGINAL  # as the publisher wrote it, trailing slash and all
    assert preview["title"] == "Talks resume in Geneva"
    assert preview["source"] == "Example News"


def test_og_url_is_used_when_the_page_has_no_canonical_link(
    services: Services, tmp_path: Path
) -> None:
    page = tmp_path / "page.html"
    page.write_text(html_page(head=f'<meta property="og:url" content="{ORIGINAL}">'))

    assert previews(services, page)[0]["url"] == ORIGINAL


@pytest.mark.parametrize(
    "head",
    [
        "",
        '<link rel="canonical" href="/world/talks-resume">',  # relative: no base for a file
        '<link rel="canonical" href="https://news.example.org/">',  # the home page
        '<link rel="canonical" href="ftp://news.example.org/talks.html">',
    ],
)
def test_an_html_file_naming_no_usable_url_is_cited_by_its_path(
    services: Services, tmp_path: Path, head: str
) -> None:
    page = tmp_path / "page.html"
    page.write_text(html_page(head=head))

    assert previews(services, page)[0]["url"] == str(page.resolve())


def test_a_title_never_comes_from_the_file_name(services: Services, tmp_path: Path) -> None:
    headed = tmp_path / "breaking_news-draft.html"
    headed.write_text(html_page(title="", body="<h1>Talks resume in Geneva</h1>"))
    untitled = tmp_path / "notes_2025.txt"
    untitled.write_text(
        "Negotiators from both sides met in Geneva on Monday to discuss a prisoner exchange and "
        "the monitoring of a ceasefire, officials said.\n\nBoth sides agreed to meet again.\n"
    )

    titles = [preview["title"] for preview in previews(services, headed, untitled)]

    assert titles == [
        "Talks resume in Geneva",
        "Negotiators from both sides met in Geneva on Monday to discuss a prisoner exchange and…",
    ]


def test_two_files_with_one_canonical_url_store_one_and_report_a_duplicate(
    services: Services, tmp_path: Path
) -> None:
    canonical = f'<link rel="canonical" href="{ORIGINAL}">'
    (tmp_path / "a.html").write_text(html_page(head=canonical))
    (tmp_path / "b.html").write_text(
        html_page(head=canonical, body="<p>Updated: a second round is planned for July.</p>")
    )
    plans, _ = services.ingestor.plan_files([str(tmp_path)])

    report = services.ingestor.store(plans)

    assert (len(report.stored), len(report.duplicates)) == (1, 1)
    assert stored(services) == [(ORIGINAL, "Talks resume in Geneva")]


def test_a_fetched_pages_url_is_its_canonical_link(web_services: Services, site: WebServer) -> None:
    page = html_page(head='<link rel="canonical" href="/news/talks-resume?id=7">')
    url = site.add("/amp/talks-resume", page.encode())

    result = asyncio.run(web_services.source_manager.ingest_page(url + "?utm_source=feed"))

    assert result.stored
    assert stored(web_services) == [
        (f"{site.url}/news/talks-resume?id=7", "Talks resume in Geneva")
    ]


def test_a_fetched_page_naming_no_url_is_cited_by_its_fetched_url(
    web_services: Services, site: WebServer
) -> None:
    url = site.add("/news/grain", story_page(story(4, "Grain")))

    plan = asyncio.run(web_services.source_manager.preview_page(url + "?utm_source=feed"))

    assert plan.preview()["url"] == url  # tracking parameters dropped
    assert plan.preview()["title"] == "Grain talks: round 4 ends in Geneva"


def test_a_feed_items_url_is_its_link(web_services: Services, site: WebServer) -> None:
    site.add("/news/geneva", html_page(head=f'<link rel="canonical" href="{ORIGINAL}">').encode())
    item = (
        f"<item><title>Talks resume in Geneva</title><link>{site.url}/news/geneva</link>"
        "<description>Negotiators met in Geneva.</description></item>"
    )
    feed = site.add(
        "/feed.xml",
        f'<rss version="2.0"><channel><title>Wire</title>{item}</channel></rss>'.encode(),
        content_type="application/rss+xml",
    )

    asyncio.run(web_services.source_manager.add(feed))

    assert stored(web_services) == [(f"{site.url}/news/geneva", "Talks resume in Geneva")]
