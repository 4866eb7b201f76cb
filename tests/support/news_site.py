"""A small news site on the local web server: article pages and RSS/Atom feeds of them."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape

from tests.support.web_server import WebServer


@dataclass
class Story:
    """One article the site publishes."""

    slug: str
    title: str
    paragraphs: list[str]
    published: datetime = field(default_factory=lambda: datetime.now(UTC) - timedelta(hours=1))


def story_page(story: Story) -> bytes:
    """The article's HTML page, with navigation and footer around it."""
    body = "".join(f"<p>{escape(paragraph)}</p>" for paragraph in story.paragraphs)
    return (
        f"<html><head><title>{escape(story.title)}</title>"
        f'<meta property="article:published_time" content="{story.published.isoformat()}">'
        f"</head><body><nav>Home | World | Europe</nav><article><h1>{escape(story.title)}</h1>"
        f"{body}</article><footer>Copyright Example Wire</footer></body></html>"
    ).encode()


def rss(
    site_url: str, stories: list[Story], *, title: str = "Example Wire", full: bool = False
) -> bytes:
    """An RSS 2.0 feed; items carry a one-line summary unless `full`."""
    items = "".join(
        "<item>"
        f"<title>{escape(story.title)}</title><link>{site_url}/news/{story.slug}?utm_source=rss</link>"
        f"<pubDate>{format_datetime(story.published)}</pubDate>"
        f"<description>{escape(_text(story, full))}</description>"
        "</item>"
        for story in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>{escape(title)}</title><link>{site_url}</link>{items}</channel></rss>"
    ).encode()


def atom(site_url: str, stories: list[Story], *, title: str = "Example Atom") -> bytes:
    """An Atom feed with the full text of each story."""
    entries = "".join(
        f"<entry><title>{escape(story.title)}</title>"
        f'<link href="{site_url}/news/{story.slug}"/><id>{story.slug}</id>'
        f"<updated>{story.published.strftime('%Y-%m-%dT%H:%M:%SZ')}</updated>"
        f'<content type="html">{escape(_text(story, True))}</content></entry>'
        for story in stories
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        f"<title>{escape(title)}</title>{entries}</feed>"
    ).encode()


def _text(story: Story, full: bool) -> str:
    if full:
        return "".join(f"<p>{escape(paragraph)}</p>" for paragraph in story.paragraphs)
    return story.paragraphs[0].split(". ")[0] + "."


DETAIL_WORDS = (
    "envoy mediator ministry harbour border grain convoy monitors drones energy sanctions "
    "shelling evacuation corridor observers deadline parliament referendum airport bridge "
    "reactor pipeline customs ferry railway hospital school satellite radar frontier"
).split()


def _details(number: int) -> str:
    """A sentence of its own for each story, so different stories never look syndicated."""
    rng = random.Random(number)
    # Long enough that stories sharing the template stay below the near-duplicate threshold.
    return "Details: " + " ".join(rng.choice(DETAIL_WORDS) for _ in range(150)) + "."


def publish(server: WebServer, stories: list[Story], *, feed_path: str = "/feed.xml") -> str:
    """Serve every story's page and an RSS feed of them; returns the feed's URL."""
    for story in stories:
        server.add(f"/news/{story.slug}", story_page(story))
    return server.add(feed_path, rss(server.url, stories), content_type="application/rss+xml")


def story(number: int, topic: str, *, hours_ago: float = 1) -> Story:
    """A plausible article about a topic, long enough to be worth a digest."""
    return Story(
        slug=f"story-{number}",
        title=f"{topic} talks: round {number} ends in Geneva",
        paragraphs=[
            f"Negotiators met in Geneva on Monday for round {number} of talks on {topic}, "
            "officials from both delegations said after the meeting ended late at night.",
            f"The {topic} discussions focused on a prisoner exchange and on the monitoring of a "
            "ceasefire along the front line, according to a statement from the hosts.",
            "Both sides agreed to meet again next week, although neither side said where the "
            "next round of talks would be held or who would lead the delegations.",
            _details(number),
        ],
        published=datetime.now(UTC) - timedelta(hours=hours_ago),
    )
