"""What an HTML page says about itself: the address it calls its own and when it was published."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

from knowledge.cleaning import latest_plausible_date, unless_future
from storage.limits import MAX_URL_CHARS

# htmldate and trafilatura (with lxml, courlan, justext) are imported where a page is read:
# answering never reads one, and the bot's start does not wait for them (~0.12 s of CPU).

# htmldate writes the offset when the page gives one ("+0200"), and nothing when it does not.
DATE_FORMAT = "%Y-%m-%dT%H:%M:%S%z"


def date_search_options() -> dict[str, Any]:
    """How htmldate (and trafilatura through it) look for a publication date.

    Only what the page states as its date counts: published before modified
    (`original_date`), and no `extensive_search`, which would take any date in the body
    ("the last round, on May 3, 2022") for the article's own.
    """
    return {
        "original_date": True,
        "extensive_search": False,
        "outputformat": DATE_FORMAT,
        "max_date": latest_plausible_date(),
    }


def published_at(html: bytes | str) -> datetime | None:
    """The date the page's metadata gives (article:published_time, JSON-LD datePublished,
    <time datetime>, DC.date...), with its time of day, as naive UTC; None when none does."""
    import htmldate

    # deferred_url_extractor: a date in the URL has no time of day, so metadata goes first.
    found = htmldate.find_date(html, deferred_url_extractor=True, **date_search_options())
    return metadata_date(found)


def metadata_date(value: object) -> datetime | None:
    """A date string from htmldate or trafilatura as naive UTC, unless it is in the future."""
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return unless_future(moment)


def own_address(html: bytes | str, *, base: str | None = None) -> str | None:
    """The page's canonical link, else its og:url, when it is a usable http(s) article URL.

    A relative address is resolved against `base` (the URL the page was fetched from);
    without a base (a saved file) it cannot be resolved and is ignored.
    """
    import trafilatura

    tree = trafilatura.load_html(html)
    if tree is None:
        return None
    for candidate in (_canonical_link(tree), _og_url(tree)):
        address = _usable(candidate, base)
        if address is not None:
            return address
    return None


def _canonical_link(tree: Any) -> str | None:
    for link in tree.iter("link"):
        if "canonical" in str(link.get("rel") or "").lower().split():
            return str(link.get("href") or "").strip() or None
    return None


def _og_url(tree: Any) -> str | None:
    for meta in tree.iter("meta"):
        if str(meta.get("property") or meta.get("name") or "").lower() == "og:url":
            return str(meta.get("content") or "").strip() or None
    return None


def _usable(candidate: str | None, base: str | None) -> str | None:
    if not candidate:
        return None
    address = urljoin(base, candidate) if base else candidate
    if len(address) > MAX_URL_CHARS:
        return None  # too long to store; the address the page was fetched from serves
    parts = urlsplit(address)
    if parts.scheme.lower() not in {"http", "https"} or not parts.hostname:
        return None
    # Some sites give every page their home page as canonical; taking it would make every
    # article of the site a duplicate of the first.
    if parts.path in {"", "/"} and not parts.query:
        return None
    # Kept as the publisher wrote it (no trailing-slash or query tidying): it is the link
    # readers follow from a citation, and some sites answer 404 to any other spelling.
    return address
