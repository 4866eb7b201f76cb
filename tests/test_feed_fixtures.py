"""feedparser's own test feeds (2,100 real-world, malformed and oddly encoded ones in
../shared/data/feeds/): detecting and parsing any of them raises nothing unexpected, and
feeds in UTF-16 or UTF-32 are recognised as feeds."""

from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.folds import DEFAULT_DATA
from web.feeds import NotAFeedError, looks_like_feed, parse_feed

FIXTURES = DEFAULT_DATA / "feeds" / "feedparser"
pytestmark = pytest.mark.skipif(
    not FIXTURES.is_dir(), reason="shared/data is not beside the project"
)


def fixtures(folder: str = "") -> list[Path]:
    return sorted(path for path in (FIXTURES / folder).rglob("*") if path.is_file())


def test_every_fixture_is_detected_and_parsed_without_an_unexpected_error() -> None:
    failures = []
    for path in fixtures():
        if path.name == "LICENSE":
            continue
        content = path.read_bytes()
        try:
            looks_like_feed(content, "")
            feed = parse_feed(content, url="http://feeds.example/feed.xml")
        except NotAFeedError:
            continue
        except Exception as error:  # every failure is collected, then reported together
            failures.append(f"{path.relative_to(FIXTURES)}: {type(error).__name__}: {error}")
            continue
        assert all(item.url for item in feed.items)
    assert failures == []
    assert len(fixtures()) > 2_000


def test_well_formed_rss_and_atom_fixtures_are_recognised_as_feeds() -> None:
    # CDF (Microsoft's Channel Definition Format) is no source Parley follows.
    missed = [
        str(path.relative_to(FIXTURES))
        for path in fixtures("wellformed")
        if "cdf" not in str(path) and not looks_like_feed(path.read_bytes(), "")
    ]

    assert missed == []


@pytest.mark.parametrize(
    "name",
    [
        path.name
        for path in fixtures("encoding")
        if any(code in path.name.replace("_", "-") for code in ("utf-16", "utf-32", "u16"))
        or path.name == "utf16.xml"
    ],
)
def test_utf16_and_utf32_feeds_are_recognised(name: str) -> None:
    content = (FIXTURES / "encoding" / name).read_bytes()

    assert looks_like_feed(content, "")
    assert not parse_feed(content, url="http://feeds.example/feed.xml").malformed
