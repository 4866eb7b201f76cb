"""The plain-text stand-in for a digest whose markup Telegram refused."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import replies
from bot.plain_text import html_to_plain, split_plain
from storage.articles import ArticleSummary


def utf16(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def test_a_digest_reads_the_same_without_its_markup() -> None:
    article = ArticleSummary(
        1, "Talks <resume> & go on", "Wire", "https://example.org/a?b=1&c=2", None, None, "Text."
    )

    [part] = replies.digest([article])
    plain = html_to_plain(part)

    assert "Talks <resume> & go on (https://example.org/a?b=1&c=2)" in plain
    assert "<b>" not in plain and "&amp;" not in plain


def test_broken_markup_still_gives_its_text() -> None:
    assert html_to_plain('<b>New <a href="https://x.org">link</b> <i>tail') == (
        "New link tail (https://x.org)"
    )


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.text(max_size=300), max_size=30),
    st.integers(min_value=20, max_value=400),
)
def test_plain_pieces_fit_and_lose_nothing(lines: list[str], limit: int) -> None:
    text = "\n".join(lines)

    pieces = split_plain(text, limit)

    assert all(utf16(piece) <= limit for piece in pieces)
    assert "".join("".join(pieces).split()) == "".join(text.split())
