"""Replies rendered as Telegram HTML: escaped, well-formed, and split into sendable messages."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from bot.rendering import (
    Block,
    Line,
    bold,
    code,
    escape,
    italic,
    link,
    plain,
    quote,
    render,
    split_messages,
)

HOSTILE_TITLE = "Talks <script>alert(1)</script> & <b>unbalanced"
SENTENCES = " ".join(f"Sentence {n} says the delegations met & talked <again>." for n in range(200))
# An "&" not starting one of the references escape() writes would mean a cut entity.
CUT_ENTITY = re.compile(r"&(?!amp;|lt;|gt;|quot;|#x27;)")


class _Reader(HTMLParser):
    """Reads a message as a client would, recording any tag that is not closed in order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.tags: set[str] = set()
        self.mismatched: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.open.append(tag)
        self.tags.add(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.open or self.open.pop() != tag:
            self.mismatched.append(tag)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def visible_text(message: str) -> str:
    """The text a reader sees; fails unless the message is well-formed Telegram HTML."""
    reader = _Reader()
    reader.feed(message)
    reader.close()
    assert not reader.mismatched and not reader.open, f"unbalanced tags in {message!r}"
    assert reader.tags <= {"a", "b", "i", "code", "blockquote"}, reader.tags
    return "".join(reader.text)


def assert_sendable(messages: list[str], limit: int = 4096) -> None:
    """Each message fits, is well-formed, has visible text and no cut entity at either end."""
    assert messages
    for message in messages:
        assert len(message) <= limit
        assert visible_text(message).strip()
        assert not CUT_ENTITY.search(message), message


def test_escape_replaces_markup_characters_but_leaves_quotes_in_text() -> None:
    assert escape('a < b & c > "d"') == 'a &lt; b &amp; c &gt; "d"'


def test_styles_wrap_their_text_and_lines_are_joined_by_newlines() -> None:
    lines: list[Line | Block] = [[bold("a"), italic("b"), code("c<d")], [quote("e")], plain("f")]

    assert render(lines) == ("<b>a</b><i>b</i><code>c&lt;d</code>\n<blockquote>e</blockquote>\nf")


def test_hostile_title_is_rendered_as_text() -> None:
    html = render([[plain("— "), link(HOSTILE_TITLE, "https://example.com/a"), plain(", Reuters")]])

    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&amp;" in html
    assert "<script" not in html
    assert "<b>" not in html
    assert visible_text(html) == f"— {HOSTILE_TITLE}, Reuters"


def test_link_href_is_attribute_escaped() -> None:
    html = render([link("Talks", 'https://example.com/?q="x"&y=<1>')])

    assert html == '<a href="https://example.com/?q=&quot;x&quot;&amp;y=&lt;1&gt;">Talks</a>'


@pytest.mark.parametrize(
    "href",
    ["/work/seeds/a.txt", "javascript:alert(1)", "ftp://example.com/a", "https://", "http://a b"],
)
def test_non_web_urls_are_rendered_as_plain_text(href: str) -> None:
    assert render([link("Source <1>", href)]) == "Source &lt;1&gt;"


def test_short_reply_is_one_message() -> None:
    lines = [[bold("Answer")], [plain("The talks resumed.")]]

    assert split_messages(lines) == [render(lines)]


def test_long_reply_is_split_between_lines_with_all_text_once_and_in_order() -> None:
    lines = [[plain(f"{n}. "), link(HOSTILE_TITLE, f"https://example.com/{n}")] for n in range(300)]

    messages = split_messages(lines)

    assert len(messages) > 1
    assert_sendable(messages)
    assert "\n".join(messages) == render(lines)


def test_lines_are_packed_into_as_few_messages_as_possible() -> None:
    lines = [plain("x" * 1000)] * 10  # four lines and three newlines fill 4,003 characters

    messages = split_messages(lines)

    assert [message.count("x") for message in messages] == [4000, 4000, 2000]


def test_huge_blockquote_is_split_at_sentence_ends_into_quoted_pieces() -> None:
    assert len(SENTENCES) > 10_000

    messages = split_messages([quote(SENTENCES)])

    assert len(messages) > 1
    assert_sendable(messages)
    for message in messages:
        assert message.startswith("<blockquote>") and message.endswith("</blockquote>")
        assert message.count("<blockquote>") == message.count("</blockquote>") == 1
        assert visible_text(message).endswith("<again>.")
    assert " ".join(visible_text(message) for message in messages) == SENTENCES


def test_single_word_longer_than_a_message_is_cut_hard_inside_its_quote() -> None:
    word = "x" * 5000

    messages = split_messages([quote(word)])

    assert len(messages) == 2
    assert_sendable(messages)
    assert all(message.startswith("<blockquote>") for message in messages)
    assert "".join(visible_text(message) for message in messages) == word


def test_long_line_starts_in_the_current_message() -> None:
    messages = split_messages([bold("Quote:"), quote(SENTENCES)])

    assert messages[0].startswith("<b>Quote:</b>\n<blockquote>Sentence 0 ")


def test_split_link_keeps_its_target_on_every_piece() -> None:
    messages = split_messages([link(SENTENCES, "https://example.com/a")], limit=300)

    assert_sendable(messages, limit=300)
    assert all(message.startswith('<a href="https://example.com/a">') for message in messages)


@pytest.mark.parametrize("text", ["&<" * 300, "a & b < c > d & " * 50])
def test_splits_never_fall_inside_an_entity(text: str) -> None:
    for limit in range(40, 80):  # every offset of the split against the entities
        messages = split_messages([[bold("&"), quote(text)]], limit=limit)

        assert_sendable(messages, limit=limit)
        assert not any(m.endswith("&am") or m.startswith("p;") for m in messages)
        seen = "".join(visible_text(message) for message in messages)
        assert "".join(seen.split()) == "".join(("&" + text).split())


def test_messages_are_never_empty_or_whitespace_only() -> None:
    lines: list[Line | Block] = [[], plain("   "), bold(" \n "), plain("a"), [], plain(" ")]

    assert split_messages([]) == []
    assert split_messages([[], plain("  "), quote("\n")]) == []
    assert split_messages(lines) == ["a"]
    assert_sendable(split_messages([plain("word " * 2000 + " " * 5000)]))


def test_a_limit_too_small_for_any_tag_is_rejected() -> None:
    with pytest.raises(ValueError, match="limit"):
        split_messages([plain("a")], limit=10)


def test_every_message_is_accepted_by_the_bot_api() -> None:
    try:
        from playground.protocol import parse_html
    except ImportError:
        pytest.skip("no local Bot API server to check against")
    lines: list[Line | Block] = [
        [bold("Answer: "), italic(HOSTILE_TITLE)],
        quote(SENTENCES),
        quote("y" * 5000),
        [plain("— "), link(HOSTILE_TITLE, 'https://example.com/?q="x"'), plain(", Reuters")],
        [code("if a < b && c > d: pass"), link("local", "/work/seeds/a.txt")],
        *([plain(f"{n}: & <b> &amp;")] for n in range(400)),
    ]

    for message in split_messages(lines):
        text, _entities = parse_html(message)

        assert 0 < len(text.strip()) <= 4096
