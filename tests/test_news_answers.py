"""Answers on a small news archive with the real model: the newest report wins, rewordings
still find the answer, evidence from several articles is shown with each one's citation."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from parley.cli import main
from parley.settings import Settings

pytestmark = pytest.mark.model

ARTICLES = {
    "geneva": (
        "2025-05-12",
        "Geneva deal cuts tariffs for 90 days",
        "Reuters",
        [
            "Negotiators from Washington and Beijing ended two days of talks in Geneva.",
            "Under the Geneva agreement, the overall US tariff on Chinese imports now stands "
            "at 30 percent.",
            "Markets rallied on the news.",
        ],
    ),
    "busan": (
        "2025-11-02",
        "Trump and Xi seal a one-year truce in Busan",
        "The Guardian",
        [
            "The two leaders met face to face in Busan, South Korea.",
            "After the Busan summit, the overall US tariff on Chinese imports now stands at "
            "47 percent.",
            "China agreed to pause its new rare earth controls for one year.",
        ],
    ),
    "london": (
        "2025-06-10",
        "US and Chinese officials meet in London",
        "Associated Press",
        [
            "Officials from both countries met at Lancaster House in London on Monday.",
            "Vice Premier He Lifeng led China's delegation, joined by Commerce Minister "
            "Wang Wentao.",
            "The talks were expected to last two days.",
        ],
    ),
    "rare-earths": (
        "2025-06-11",
        "London framework restores rare earth shipments",
        "Bloomberg",
        [
            "In June the two sides agreed to speed up rare earth shipments to American firms.",
            "Analysts said supply chains would need months to recover.",
        ],
    ),
    "visas": (
        "2025-06-12",
        "Student visas part of the June understanding",
        "CNBC",
        [
            "In June the two sides also agreed to ease restrictions on Chinese student visas.",
            "Universities welcomed the step.",
        ],
    ),
}


def write_articles(folder: Path) -> None:
    for slug, (date, title, outlet, paragraphs) in ARTICLES.items():
        body = "".join(f"<p>{paragraph}</p>" for paragraph in paragraphs)
        (folder / f"{slug}.html").write_text(
            f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="og:site_name" content="{outlet}">
<meta property="article:published_time" content="{date}">
<link rel="canonical" href="https://news.example.com/2025/{slug}"></head>
<body><article><h1>{title}</h1>{body}</article></body></html>""",
            encoding="utf-8",
        )


@pytest.fixture
def archive(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "articles"
    folder.mkdir()
    write_articles(folder)
    assert main(["ingest", str(folder)]) == 0


def ask(
    question: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> dict[str, Any]:
    capsys.readouterr()
    monkeypatch.setattr("sys.stdin", io.StringIO(question + "\n"))
    assert main(["ask", "--json"]) == 0
    [line] = capsys.readouterr().out.splitlines()
    reply: dict[str, Any] = json.loads(line)
    return reply


def quoted(reply: dict[str, Any]) -> str:
    return " ".join(source["quote"] for source in reply["sources"])


@pytest.mark.usefixtures("archive")
def test_the_newest_report_wins_and_the_reply_says_how_current_it_is(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = ask("What is the overall US tariff on Chinese imports now?", monkeypatch, capsys)

    assert "47 percent" in quoted(reply)
    assert "30 percent" not in reply["answer"]
    [source] = reply["sources"]
    assert source["url"] == "https://news.example.com/2025/busan"
    assert source["date"] == "2025-11-02"
    assert source["source"] == "The Guardian"
    assert source["title"] == "Trump and Xi seal a one-year truce in Busan"
    assert reply["as_of"] == "2025-11-02"
    assert reply["answer"].startswith("As of 2 November 2025:")


@pytest.mark.usefixtures("archive")
def test_a_reworded_question_finds_the_answer(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = ask("Who headed China's team at the London talks?", monkeypatch, capsys)

    assert "He Lifeng" in quoted(reply)
    assert reply["sources"][0]["url"] == "https://news.example.com/2025/london"
    assert reply["as_of"] is None  # a question about a past event is not dated "as of"


@pytest.mark.usefixtures("archive")
def test_an_answer_spread_over_articles_quotes_each_with_its_citation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = ask("What did the two sides agree in June?", monkeypatch, capsys)

    urls = [source["url"] for source in reply["sources"]]
    assert 2 <= len(urls) <= 3
    assert len(set(urls)) == len(urls)
    assert "rare earth shipments" in quoted(reply) and "student visas" in quoted(reply)
    for source in reply["sources"]:
        assert source["quote"] in reply["answer"]
        assert source["date"] and source["date"] in reply["answer"]


@pytest.mark.usefixtures("archive")
def test_an_on_topic_question_nobody_answered_is_declined(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = ask("What is the population of Sweden?", monkeypatch, capsys)

    assert reply["sources"] == []
    assert "couldn't find" in reply["answer"]


@pytest.fixture
def istanbul_archive(settings: Settings) -> None:
    """Three short reports of the 2025 Russia–Ukraine talks (tests/data/topics/101–103)."""
    topics = Path(__file__).parent / "data" / "topics"
    for number in (101, 102, 103):
        assert main(["ingest", str(topics / f"{number}.html")]) == 0


@pytest.mark.usefixtures("istanbul_archive")
def test_a_chief_negotiator_is_who_leads_the_delegation(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # The report says "Russia's chief negotiator Vladimir Medinsky"; before "chief" counted
    # as "lead", the reply quoted the sentence in which Ukraine's Rustem Umerov speaks.
    reply = ask("Who leads the Russian delegation?", monkeypatch, capsys)

    assert "Russia's chief negotiator Vladimir Medinsky" in quoted(reply)
    assert "Umerov" not in quoted(reply)


NEXT_ROUND = {
    "cancelled": (
        "2025-06-14",
        "Oman calls off sixth round of Iran-US talks",
        "The next round of nuclear negotiations between Iranian and US delegations, which had "
        "been set for June 15 in Muscat, has been cancelled, Oman's foreign minister said.",
    ),
    "no-date": (
        "2025-06-27",
        "Araghchi: no date, no promise for new talks with Washington",
        "He said there had been no agreement to resume negotiations, no time set and no "
        "promise given.",
    ),
    "channel": (
        "2025-12-29",
        "Tehran says line to Witkoff still exists",
        "Iran's Foreign Ministry spokesman said on Monday that the line between Araghchi and "
        "Witkoff has not been cut.",
    ),
}


@pytest.fixture
def next_round_archive(settings: Settings, tmp_path: Path) -> None:
    folder = tmp_path / "next-round"
    folder.mkdir()
    for slug, (date, title, sentence) in NEXT_ROUND.items():
        (folder / f"{slug}.html").write_text(
            f"""<!doctype html><html><head><meta charset="utf-8"><title>{title}</title>
<meta property="article:published_time" content="{date}">
<link rel="canonical" href="https://news.example.com/2025/{slug}"></head>
<body><article><h1>{title}</h1><p>{sentence}</p></article></body></html>""",
            encoding="utf-8",
        )
    assert main(["ingest", str(folder)]) == 0


@pytest.mark.usefixtures("next_round_archive")
@pytest.mark.parametrize(
    "question",
    [
        "When is the next Iran-US negotiating round scheduled?",
        "When will Iran and the US resume talks?",
    ],
)
def test_asked_when_the_next_round_is_the_passed_date_gives_way_to_no_time_set(
    question: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    reply = ask(question, monkeypatch, capsys)

    # June 15 has passed by the December report: the answer is that no time is set.
    assert "no time set" in quoted(reply)
    assert "June 15" not in reply["answer"]
    assert reply["as_of"] == "2025-06-27"
