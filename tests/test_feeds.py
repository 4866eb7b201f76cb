"""Reading feeds: every RSS flavour and Atom, and broken feeds read as far as they go."""

from __future__ import annotations

import pytest

from tests.support.news_site import atom, rss, story
from web.feeds import NotAFeedError, looks_like_feed, parse_feed

SITE = "http://news.example"


def test_rss2_items_have_links_titles_dates_and_summaries() -> None:
    feed = parse_feed(rss(SITE, [story(1, "Ceasefire"), story(2, "Prisoner")]), url=f"{SITE}/feed")

    assert feed.title == "Example Wire" and not feed.malformed
    assert [item.title for item in feed.items] == [
        "Ceasefire talks: round 1 ends in Geneva",
        "Prisoner talks: round 2 ends in Geneva",
    ]
    assert feed.items[0].url == f"{SITE}/news/story-1?utm_source=rss"
    assert feed.items[0].published_at is not None
    assert not feed.items[0].is_full_text  # a one-line summary


def test_atom_entries_carry_full_text() -> None:
    feed = parse_feed(atom(SITE, [story(3, "Energy")]), url=f"{SITE}/atom")

    [item] = feed.items
    assert item.title == "Energy talks: round 3 ends in Geneva"
    assert item.paragraphs == story(3, "Energy").paragraphs


@pytest.mark.parametrize(
    "document",
    [
        b'<?xml version="1.0"?><rss version="0.91"><channel><title>Old</title>'
        b"<item><title>A</title><link>http://x.example/a</link><description>Text.</description>"
        b"</item></channel></rss>",
        b'<?xml version="1.0"?><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        b'xmlns="http://purl.org/rss/1.0/"><channel rdf:about="x"><title>RDF</title></channel>'
        b'<item rdf:about="http://x.example/a"><title>A</title><link>http://x.example/a</link>'
        b"<description>Text.</description></item></rdf:RDF>",
    ],
    ids=["rss-0.91", "rss-1.0"],
)
def test_older_rss_flavours_are_read(document: bytes) -> None:
    [item] = parse_feed(document, url="http://x.example/feed").items

    assert (item.title, item.url) == ("A", "http://x.example/a")


def test_a_truncated_feed_yields_the_items_before_the_break() -> None:
    whole = rss(SITE, [story(1, "Ceasefire"), story(2, "Prisoner")])
    broken = whole[: whole.rindex(b"<item>") + 40]

    feed = parse_feed(broken, url=f"{SITE}/feed")

    assert feed.malformed
    assert [item.title for item in feed.items][:1] == ["Ceasefire talks: round 1 ends in Geneva"]


def test_a_feed_with_a_wrong_declared_encoding_is_still_read() -> None:
    document = (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Télé</title>'
        "<item><title>Négociations à Genève</title><link>http://x.example/a</link></item>"
        "</channel></rss>"
    ).encode("latin-1")

    [item] = parse_feed(document, url="http://x.example/feed").items

    assert item.url == "http://x.example/a"
    assert item.title == "Négociations à Genève"


def test_an_html_page_is_not_a_feed() -> None:
    page = b"<html><head><title>Home</title></head><body><p>Welcome</p></body></html>"

    assert not looks_like_feed(page, "text/html")
    with pytest.raises(NotAFeedError):
        parse_feed(page, url="http://x.example/")
