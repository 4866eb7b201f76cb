"""Cleaning article text: titles, datelines and noise."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path

from knowledge.cleaning import find_date, parse_article, remove_noise
from knowledge.documents import parse_html, parse_markdown, read_document
from tests.conftest import SEED_ARTICLE
from tests.support.work import lines_run

SEED_TITLE = "Trump and Putin to Skip First Ukraine Peace Talks in Istanbul"


def test_seed_title_date_and_source_come_from_its_text() -> None:
    article = parse_article(SEED_ARTICLE.read_text())

    assert article.title == SEED_TITLE
    assert article.published_at == datetime(2025, 5, 15)
    assert article.source == "Reuters"


def test_seed_body_loses_repeated_headlines_placeholder_teaser_and_dateline() -> None:
    body = parse_article(SEED_ARTICLE.read_text()).text

    assert SEED_TITLE not in body
    assert "PostImage" not in body
    assert body.count("potentially historic peace talks") == 1  # the truncated teaser is gone
    assert "Istanbul, May 15, 2025" not in body
    assert body.startswith("U.S. President Donald Trump and Russian President Vladimir Putin")
    assert body.rstrip().endswith("full-scale invasion of Ukraine.")
    assert "Zelensky Challenges Putin’s Absence" in body  # section headings are content


def test_page_furniture_is_dropped_but_sentences_and_numbers_stay() -> None:
    text = (
        "Ceasefire talks resume\n\nAdvertisement\n\nNegotiators met again on Monday.\n\n"
        "Read more\n\n2025\n\nShare this article\n\nBoth sides called the meeting useful.\n"
    )

    article = parse_article(text)

    assert article.paragraphs == [
        "Negotiators met again on Monday.",
        "2025",
        "Both sides called the meeting useful.",
    ]


def test_text_without_a_dateline_has_no_date_and_keeps_body_dates() -> None:
    text = (
        "Talks stall\n\nThe last round, held on May 3, 2022, ended without a deal, "
        "officials said after a long day of meetings.\n"
    )

    article = parse_article(text)

    assert article.published_at is None
    assert "May 3, 2022" in article.text


def test_dates_in_common_formats() -> None:
    assert find_date("Geneva, 15 May 2025") == datetime(2025, 5, 15)
    assert find_date("Posted 2025-06-02 by staff") == datetime(2025, 6, 2)
    assert find_date("Sept. 3rd, 2024") == datetime(2024, 9, 3)
    assert find_date("February 30, 2024") is None
    assert find_date("Kyiv, Jan. 5, 2025 (Reuters)") == datetime(2025, 1, 5)
    assert find_date("Talks 15, 2025 and more") is None  # not a month


def test_relative_or_incomplete_dates_are_never_a_date() -> None:
    for text in ("3 days ago", "on Wednesday", "yesterday", "KYIV, May 16 (Reuters) -", "2025"):
        assert find_date(text) is None, text


def test_a_day_month_year_dateline_gives_the_date_and_agency() -> None:
    article = parse_article(
        "Talks resume\n\nKyiv, 16 May 2025 — AFP\n\nNegotiators met on Wednesday, officials said.\n"
    )

    assert (article.published_at, article.source) == (datetime(2025, 5, 16), "AFP")
    assert article.paragraphs == ["Negotiators met on Wednesday, officials said."]


def test_markdown_heading_is_the_title_and_markup_is_stripped() -> None:
    article = parse_markdown(
        "# Talks in *Geneva*\n\nKyiv, June 2, 2025 – AP\n\n"
        "Delegations met in **Geneva** to discuss a [prisoner exchange](http://example.org).\n\n"
        "- Both sides agreed to meet again next week in the same place.\n"
    )

    assert article.title == "Talks in Geneva"
    assert article.published_at == datetime(2025, 6, 2)
    assert article.source == "AP"
    assert article.paragraphs == [
        "Delegations met in Geneva to discuss a prisoner exchange.",
        "Both sides agreed to meet again next week in the same place.",
    ]


def test_html_main_text_title_and_date_are_extracted(tmp_path: Path) -> None:
    page = tmp_path / "geneva.html"
    page.write_text(
        "<html><head><title>Talks resume in Geneva</title>"
        '<meta property="article:published_time" content="2025-06-02T10:00:00Z"></head>'
        "<body><nav>Home | World | Sport</nav><article><h1>Talks resume in Geneva</h1>"
        "<p>Negotiators from both sides met in Geneva on Monday to discuss a prisoner exchange.</p>"
        "<p>The talks were described as constructive by officials from both delegations.</p>"
        "</article><footer>Copyright 2025 Example News</footer></body></html>"
    )

    document = read_document(page, max_bytes=100_000)

    assert document.title == "Talks resume in Geneva"
    assert document.published_at == datetime(2025, 6, 2, 10, 0)  # the metadata's time kept
    assert document.paragraphs == [
        "Negotiators from both sides met in Geneva on Monday to discuss a prisoner exchange.",
        "The talks were described as constructive by officials from both delegations.",
    ]
    assert parse_html(page.read_bytes(), location="x").title == "Talks resume in Geneva"


def _paragraphs(count: int) -> list[str]:
    """Distinct paragraphs of about a dozen words, every tenth repeated inside a later one."""
    words = "envoy ceasefire grain convoy border ministry harbour drone talks round".split()
    rng = random.Random(count)
    paragraphs = [
        " ".join(rng.choice(words) for _ in range(12)) + f" item {number}."
        for number in range(count)
    ]
    for number in range(0, count - 1, 10):
        paragraphs[number + 1] += " " + paragraphs[number]
    return paragraphs


def test_teasers_repeated_inside_later_paragraphs_are_dropped_among_many() -> None:
    paragraphs = _paragraphs(1_000)

    kept = remove_noise(paragraphs, title=None)

    assert paragraphs[0] not in kept and paragraphs[1] in kept
    assert len(kept) == 1_000 - 100


def test_cleaning_work_grows_linearly_with_the_number_of_paragraphs() -> None:
    # Counted, not timed: comparing every pair of paragraphs took 14 s on a 10,000-paragraph
    # page. Twice the paragraphs must cost about twice the work, not four times.
    def work(count: int) -> int:
        paragraphs = _paragraphs(count)
        return lines_run(
            lambda: remove_noise(paragraphs, title=None),
            module_path="knowledge/cleaning.py",
            budget=20_000 * count,
        )

    small, large = work(500), work(1_000)

    assert large <= 2.5 * small
