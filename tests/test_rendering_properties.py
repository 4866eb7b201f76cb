"""Properties of every reply, for any text: each message is HTML Telegram accepts, within its
length limit, and together the messages say everything the reply says.

Telegram's HTML is checked by the local Bot API server's parser (``parse_html``), which is as
strict as Telegram; lengths are counted in UTF-16 code units, as Telegram counts them.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot import replies
from bot.rendering import (
    MAX_MESSAGE_LENGTH,
    Block,
    Line,
    bold,
    code,
    italic,
    link,
    plain,
    quote,
    render,
    split_messages,
)
from knowledge.answering import Answer
from knowledge.quotes import Citation, Quote
from playground.protocol import parse_html, utf16_length
from storage.articles import ArticleSummary

ALLOWED_TAGS = {"b", "i", "code", "blockquote", "a"}
TAG = re.compile(r"</?([a-z]+)")
# Bounded sizes keep the suite fast; small limits make short texts split as long ones do.
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text a reader might send or an article might hold: markup characters, entities, emoji
# (two UTF-16 units each), combining marks, every kind of whitespace.
WORDS = st.sampled_from(
    ["peace", "talks", "<b>", "&amp;", "&", "<", ">", '"', "'", "😀", "🇺🇦", "e\u0301",
     "Женева", "İstanbul", "a.", "end!", "x" * 40, "\u200b", "\u00a0"]
)  # fmt: skip
SPACES = st.sampled_from([" ", "  ", "\n", "\n\n", "\t", " \n "])
TEXTS = st.one_of(
    st.lists(st.tuples(WORDS, SPACES), max_size=40).map(lambda p: "".join(w + s for w, s in p)),
    st.text(max_size=120),
)
HREFS = st.sampled_from(
    ["https://example.org/a?b=1&c=<2>", 'http://x.test/"quoted"', "javascript:alert(1)",
     "ftp://files.test/", "https://example.org/" + "long/" * 60, "not a url", ""]
)  # fmt: skip
BLOCKS = st.one_of(
    TEXTS.map(plain),
    TEXTS.map(bold),
    TEXTS.map(italic),
    TEXTS.map(code),
    TEXTS.map(quote),
    st.builds(link, TEXTS, HREFS),
)
LINES = st.lists(st.one_of(BLOCKS, st.lists(BLOCKS, min_size=1, max_size=4)), max_size=8)


def text_of(html: str) -> str:
    """What a reader sees of a message, as Telegram parses it (raises if Telegram would)."""
    return parse_html(html)[0]


def without_space(text: str) -> str:
    return "".join(text.split())


def assert_sendable(messages: list[str], limit: int) -> None:
    for message in messages:
        assert utf16_length(message) <= limit
        assert set(TAG.findall(message)) <= ALLOWED_TAGS
        text_of(message)  # balanced, known tags, entities escaped: else this raises
        assert message.strip(), "an empty message cannot be sent"


@FAST
@given(lines=LINES, limit=st.integers(min_value=30, max_value=300))
def test_any_reply_splits_into_sendable_messages_that_lose_nothing(
    lines: list[Line | Block], limit: int
) -> None:
    messages = split_messages(lines, limit)

    assert_sendable(messages, limit)
    whole = text_of(render(lines))
    assert without_space("".join(text_of(message) for message in messages)) == without_space(whole)


@FAST
@given(lines=LINES)
def test_a_reply_that_fits_is_sent_as_one_message(lines: list[Line | Block]) -> None:
    whole = render(lines)

    messages = split_messages(lines)

    if utf16_length(whole) <= MAX_MESSAGE_LENGTH and text_of(whole).strip():
        assert len(messages) == 1
    assert_sendable(messages, MAX_MESSAGE_LENGTH)


@settings(max_examples=25, deadline=None)
@given(text=st.lists(st.sampled_from(["😀", "&", "peace ", "talks. ", "\n\n", "x"]), max_size=3000))
def test_long_text_at_telegrams_limit(text: list[str]) -> None:
    lines = [bold("Digest"), quote("".join(text)), link("".join(text), "https://e.org/?a&b")]

    messages = split_messages(lines)

    assert_sendable(messages, MAX_MESSAGE_LENGTH)
    joined = without_space("".join(text_of(message) for message in messages))
    assert joined == without_space(text_of(render(lines)))


CITATIONS = st.builds(
    Citation,
    title=TEXTS,
    source=TEXTS,
    date=st.one_of(st.none(), st.just("2025-05-15")),
    url=st.one_of(HREFS, st.just("seeds/000_article.txt")),
    passage=TEXTS,
    score=st.floats(0, 1),
)


@FAST
@given(quotes=st.lists(st.builds(Quote, TEXTS, CITATIONS), min_size=1, max_size=6))
def test_every_answer_is_sendable_and_quotes_every_word(quotes: list[Quote]) -> None:
    messages = replies.answer(Answer("Who leads the delegation?", quotes=quotes))

    assert_sendable(messages, MAX_MESSAGE_LENGTH)
    shown = without_space("".join(text_of(message) for message in messages))
    for piece in quotes:
        assert without_space(piece.text) in shown


ARTICLES = st.builds(
    ArticleSummary,
    id=st.integers(1, 10_000),
    title=TEXTS,
    source=TEXTS,
    url=st.one_of(HREFS, st.just("seeds/000_article.txt")),
    published_at=st.one_of(st.none(), st.just(datetime(2025, 5, 15, tzinfo=UTC))),
    ingested_at=st.just(datetime(2025, 5, 16, tzinfo=UTC)),
    text=TEXTS,
)


@FAST
@given(articles=st.lists(ARTICLES, min_size=1, max_size=12))
def test_every_digest_and_article_list_is_sendable_and_names_every_title(
    articles: list[ArticleSummary],
) -> None:
    for messages in (replies.digest(articles), replies.article_list(articles)):
        assert_sendable(messages, MAX_MESSAGE_LENGTH)
        shown = without_space("".join(text_of(message) for message in messages))
        for article in articles:
            assert without_space(article.title) in shown
