"""Turning raw article text into a title, a date, a source and a clean body."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

# Where a date stands in a line stays a pattern: no library finds a dateline, and dateparser's
# search_dates also reads "3 days ago" as a date. What the date is, dateparser says.
_MONTH_WORD = r"[^\W\d_]{3,9}\.?"
_DAY = r"\d{1,2}(?:st|nd|rd|th)?"
DATE_SPANS = re.compile(
    rf"\b(?:\d{{4}}-\d{{2}}-\d{{2}}"  # 2025-06-02
    rf"|{_MONTH_WORD}\s+{_DAY},?\s+\d{{4}}"  # May 15, 2025; Sept. 3rd, 2024
    rf"|{_DAY}\s+{_MONTH_WORD},?\s+\d{{4}})\b"  # 15 May 2025
)
# Absolute dates only, with day, month and year: a weekday or "yesterday" in an article is
# relative to a day the reader cannot see, so it must never become a publication date.
DATE_PARSER_SETTINGS = {
    "PARSERS": ["absolute-time"],
    "STRICT_PARSING": True,
    "REQUIRE_PARTS": ["day", "month", "year"],
    "PREFER_DATES_FROM": "past",
    "RETURN_AS_TIMEZONE_AWARE": False,
}
DASHES = "–—-|"
INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
# Short lines that page furniture leaves behind in copied articles.
BOILERPLATE = re.compile(
    r"^(advertisement|advert|sponsored( content)?|share( this( article| story)?)?|"
    r"read more|continue reading|click here.*|sign up.*|subscribe.*|related( articles| stories)?|"
    r"(photo|image|video|picture)( credit)?:.*|follow us.*|all rights reserved.*|©.*|"
    r"copyright .*)$",
    re.I,
)
HEADER_LINES = 6  # how far into a text a dateline may stand
MAX_TITLE_WORDS = 25
# Per-article bounds: a long read is some 60,000 characters in a few hundred paragraphs; past
# these a page is not one article, and cleaning, splitting and embedding it would only cost.
MAX_ARTICLE_CHARS = 100_000
MAX_PARAGRAPHS = 1_000
TEASER_WORDS = 6  # a shorter paragraph repeated inside another is a phrase, not a teaser
TEASER_PROBES = 32  # places a paragraph is looked for: bounds the work on a hostile page
HEADLINE_WORDS = 15  # a title made from the first line is cut to this many words
# A date without a time stands for local midnight, and local clocks run up to 14 hours ahead
# of UTC: an article dated "today" in Moscow or Auckland may still be tomorrow in UTC terms.
EARLIEST_ZONE_LEAD = timedelta(hours=14)


@dataclass(frozen=True)
class ParsedArticle:
    """An article's parts as found in its text."""

    title: str
    published_at: datetime | None
    source: str | None
    paragraphs: list[str]
    url: str | None = None  # the address the article gives as its own (a page's canonical link)

    @property
    def text(self) -> str:
        """The clean body, one paragraph per block."""
        return "\n\n".join(self.paragraphs)


def normalise_whitespace(text: str) -> str:
    """NFC text without invisible characters, runs of spaces folded, line structure kept."""
    text = unicodedata.normalize("NFC", text).translate(INVISIBLE)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "\n".join(" ".join(line.split()) for line in text.split("\n"))


def paragraphs_of(text: str) -> list[str]:
    """Non-empty lines of the text; a line break ends a paragraph in copied articles."""
    return [line for line in normalise_whitespace(text).split("\n") if line]


def bounded(paragraphs: Iterable[str]) -> list[str]:
    """The first paragraphs, at most MAX_PARAGRAPHS holding MAX_ARTICLE_CHARS in all; the last
    one kept is cut short at a word when the characters run out."""
    kept: list[str] = []
    room = MAX_ARTICLE_CHARS
    for paragraph in paragraphs:
        if len(kept) == MAX_PARAGRAPHS or room <= 0:
            break
        if len(paragraph) > room:
            paragraph = _cut_at_word(paragraph, room)
        kept.append(paragraph)
        room -= len(paragraph)
    return [paragraph for paragraph in kept if paragraph]


def _cut_at_word(text: str, limit: int) -> str:
    """At most `limit` characters of the text, ending at a space unless that loses over half."""
    cut = text[:limit]
    space = cut.rfind(" ")
    return cut[:space] if space > limit // 2 else cut


def comparable(text: str) -> str:
    """Text reduced to lower-case letters and digits, for spotting repeats."""
    return " ".join(re.findall(r"[^\W_]+", text.casefold()))


def parse_article(text: str, *, title: str | None = None) -> ParsedArticle:
    """Title, dateline and clean body paragraphs of a plain-text article."""
    paragraphs = bounded(paragraphs_of(text))
    if title is None and paragraphs and _looks_like_title(paragraphs[0]):
        title = paragraphs.pop(0)
    published_at, source, paragraphs = _take_dateline(paragraphs)
    body = remove_noise(paragraphs, title=title)
    return ParsedArticle(
        title=title or "", published_at=published_at, source=source, paragraphs=body
    )


def remove_noise(paragraphs: Sequence[str], *, title: str | None) -> list[str]:
    """Drop repeated headlines, page furniture, stray tokens and teasers repeated in full later."""
    title_key = comparable(title or "")
    kept = [
        paragraph
        for paragraph in paragraphs
        if comparable(paragraph) != title_key
        and not BOILERPLATE.match(paragraph)
        and not _is_stray_token(paragraph)
    ]
    kept = _drop_repeats(kept)
    teasers = _teasers([comparable(paragraph).split() for paragraph in kept])
    return [paragraph for index, paragraph in enumerate(kept) if index not in teasers]


def find_date(text: str) -> datetime | None:
    """The first calendar date written in the text (day, month and year; never a weekday)."""
    found = _date_and_end(text)
    return found[0] if found else None


def _date_and_end(text: str) -> tuple[datetime, int] | None:
    """The first date written in the text and where it ends."""
    for span in DATE_SPANS.finditer(text):
        date = _parsed_date(span.group())
        if date is not None:
            return date, span.end()
    return None


def _parsed_date(written: str) -> datetime | None:
    # Imported here: dateparser takes a second to load, which commands that never read an
    # article should not pay.
    import dateparser

    date = dateparser.parse(written, languages=["en"], settings=DATE_PARSER_SETTINGS)
    return date.replace(hour=0, minute=0, second=0, microsecond=0) if date else None


def latest_plausible_date(now: datetime | None = None) -> datetime:
    """The latest publication date (naive UTC) that is not in the future somewhere on Earth."""
    current = now or datetime.now(UTC).replace(tzinfo=None)
    return current + EARLIEST_ZONE_LEAD


def unless_future(moment: datetime | None, *, now: datetime | None = None) -> datetime | None:
    """The date, or None when it lies in the future: a typo or a scheduled page, not evidence."""
    if moment is None or moment > latest_plausible_date(now):
        return None
    return moment


def headline_from(paragraphs: Sequence[str]) -> str:
    """A title made from the first line, for articles that state none (never a file name)."""
    words = paragraphs[0].split() if paragraphs else []
    if len(words) <= HEADLINE_WORDS:
        return " ".join(words)
    return " ".join(words[:HEADLINE_WORDS]).rstrip(",;:–—-") + "…"


def _looks_like_title(line: str) -> bool:
    return len(line.split()) <= MAX_TITLE_WORDS and not line.rstrip().endswith((".", ",", ";"))


def _take_dateline(paragraphs: list[str]) -> tuple[datetime | None, str | None, list[str]]:
    """Find a short line near the top that states a date ("Istanbul, May 15, 2025 – Reuters")."""
    for index, paragraph in enumerate(paragraphs[:HEADER_LINES]):
        if len(paragraph.split()) > 12:
            continue
        found = _date_and_end(paragraph)
        date = unless_future(found[0]) if found else None
        if found is None or date is None:
            continue
        source = _dateline_source(paragraph[found[1] :])
        return date, source, paragraphs[:index] + paragraphs[index + 1 :]
    return None, None, paragraphs


def _dateline_source(after_date: str) -> str | None:
    """The agency named after a dash at the end of a dateline, if any."""
    rest = after_date.strip()
    if rest and rest[0] in DASHES:
        name = rest.lstrip(DASHES + " ").strip()
        if name and len(name.split()) <= 5:
            return name
    return None


def _is_stray_token(paragraph: str) -> bool:
    """A lone word such as an image placeholder ("PostImage"); numbers and sentences survive."""
    return (
        " " not in paragraph
        and len(paragraph) < 40
        and paragraph[-1:] not in '.!?:"”'
        and not any(char.isdigit() for char in paragraph)
    )


def _drop_repeats(paragraphs: list[str]) -> list[str]:
    seen: set[str] = set()
    kept = []
    for paragraph in paragraphs:
        key = comparable(paragraph)
        if key not in seen:
            seen.add(key)
            kept.append(paragraph)
    return kept


def _teasers(paragraphs: Sequence[list[str]]) -> set[int]:
    """Which paragraphs (as comparable words) are repeated word for word inside a longer one,
    as lead teasers are.

    Comparing every pair took 14 s on a page of 10,000 paragraphs; instead each run of
    TEASER_WORDS words is indexed once, and a paragraph is looked for only where its rarest
    run occurs, at most TEASER_PROBES places: linear in the number of words."""
    runs: dict[tuple[str, ...], list[tuple[int, int]]] = {}
    for number, words in enumerate(paragraphs):
        for start in range(len(words) - TEASER_WORDS + 1):
            runs.setdefault(tuple(words[start : start + TEASER_WORDS]), []).append((number, start))
    return {
        number
        for number, words in enumerate(paragraphs)
        if len(words) >= TEASER_WORDS and _repeated_inside_longer(words, paragraphs, runs)
    }


def _repeated_inside_longer(
    words: list[str],
    paragraphs: Sequence[list[str]],
    runs: dict[tuple[str, ...], list[tuple[int, int]]],
) -> bool:
    offset, places = min(
        (
            (start, runs[tuple(words[start : start + TEASER_WORDS])])
            for start in range(len(words) - TEASER_WORDS + 1)
        ),
        key=lambda found: len(found[1]),
    )
    for number, start in places[:TEASER_PROBES]:
        other, begin = paragraphs[number], start - offset
        if len(other) > len(words) and begin >= 0 and other[begin : begin + len(words)] == words:
            return True
    return False
