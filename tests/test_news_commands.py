"""Stories, /whatsnew and /timeline end to end: the real application against the local Bot
API server, with the real embedding model."""

from __future__ import annotations

import random
import re
from datetime import date, timedelta
from pathlib import Path

import pytest

from bot.rendering import MAX_MESSAGE_LENGTH
from storage import subscriptions
from tests.support.bot_harness import RunningBot
from tests.support.news_site import DETAIL_WORDS
from tests.support.outlets import (
    SWAP_REPORTS,
    TARIFF_REPORT,
    Report,
    ingest,
    send_digests,
    write,
)
from tests.test_rendering_properties import assert_sendable

pytestmark = [
    pytest.mark.model,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
READER = 7007
GROUP = -7008
DATE_LINE = re.compile(r"<b>(\d{4}-\d\d-\d\d)</b> — ")


def details(number: int) -> str:
    """A sentence of its own per article, so that alike reports are not taken for copies."""
    rng = random.Random(number)
    return "Details: " + " ".join(rng.choice(DETAIL_WORDS) for _ in range(40)) + "."


def subscribe(running: RunningBot, chat_id: int) -> None:
    with running.services.sessions.begin() as session:
        subscriptions.subscribe(session, chat_id=chat_id, chat_type="private", title=None)


async def test_three_outlets_reporting_one_swap_make_one_digest_entry(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    subscribe(running_bot, READER)
    await ingest(
        running_bot, write(tmp_path / "news", [*SWAP_REPORTS, TARIFF_REPORT]), for_digests=True
    )
    await send_digests(running_bot)
    [digest] = running_bot.replies(READER)

    assert digest.startswith("<b>New: 2 stories from 4 articles</b>")
    # One entry: one summary line with the newest date, the outlets as links, "and 1 more".
    assert "2025-06-11" in digest
    assert re.search(r'<a href="[^"]+">[^<]+</a>, <a href="[^"]+">[^<]+</a> and <a ', digest)
    assert digest.count("1 more") == 1 and "Volodymyr Zelensky" in digest
    for report in SWAP_REPORTS:
        assert report.url in digest
    assert TARIFF_REPORT.url in digest and "Geneva" in digest  # its own entry, as today


async def test_whatsnew_without_a_span_tells_what_arrived_since_the_chat_last_looked(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    subscribe(running_bot, READER)
    await ingest(running_bot, write(tmp_path / "first", [TARIFF_REPORT]), for_digests=True)
    await send_digests(running_bot)
    [nothing] = await running_bot.ask(READER, "/whatsnew")
    await ingest(running_bot, write(tmp_path / "later", SWAP_REPORTS), for_digests=False)
    [news] = await running_bot.ask(READER, "/whatsnew")
    [nothing_again] = await running_bot.ask(READER, "/whatsnew")

    assert nothing.startswith("Nothing new since")  # the digest brought everything
    assert "What's new since" in news and "1 story" in news
    assert "2025-06-11" in news and "“" in news and "Volodymyr Zelensky" in news
    assert "Reuters" in news and "Kyiv Independent" in news and "1 more" in news
    assert TARIFF_REPORT.url not in news
    assert nothing_again.startswith("Nothing new since")


async def test_whatsnew_with_a_span_or_a_date_counts_what_was_published(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    today = date.today()
    fresh = Report(
        "fresh-swap",
        "Reuters",
        (today - timedelta(days=2)).isoformat(),
        "Ukraine and Russia agree on a new exchange of wounded prisoners",
        (
            "Ukraine and Russia agreed to exchange wounded and seriously ill prisoners of war, "
            "Ukrainian negotiator Rustem Umerov said after talks in Istanbul.",
        ),
    )
    await ingest(running_bot, write(tmp_path / "news", [*SWAP_REPORTS, fresh]), for_digests=False)
    [week] = await running_bot.ask(READER, "/whatsnew 7d")
    [since_june] = await running_bot.ask(READER, "/whatsnew 2025-06-01")
    [refused] = await running_bot.ask(READER, "/whatsnew yesterdayish")

    assert "1 story" in week and fresh.url in week and SWAP_REPORTS[0].url not in week
    assert "What's new since 2025-06-01" in since_june and "2 stories" in since_june
    # Newest first.
    assert since_june.index(fresh.url) < since_june.index(SWAP_REPORTS[0].url)
    assert "I don't understand" in refused and "7d" in refused


async def test_timeline_lists_events_oldest_first_with_dates_quotes_and_links_in_groups_too(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    await ingest(
        running_bot, write(tmp_path / "news", [*SWAP_REPORTS, TARIFF_REPORT]), for_digests=False
    )
    before = len(running_bot.replies(GROUP))
    running_bot.server.send_user_message(
        chat_id=GROUP, user_id=READER, text="/timeline prisoner swaps", chat_type="group"
    )
    messages = await running_bot.server.await_messages(GROUP, before + 1, timeout=20)
    timeline = messages[-1]["text"]

    dates = DATE_LINE.findall(timeline)
    assert timeline.startswith("<b>Timeline: prisoner swaps")
    assert dates == sorted(dates) and dates[0] == "2025-05-15"  # the seed article first
    assert "2025-06-10" in dates  # the three-outlet swap, once
    assert dates.count("2025-06-10") == 1 and "“" in timeline
    assert SWAP_REPORTS[0].url in timeline or SWAP_REPORTS[1].url in timeline
    assert TARIFF_REPORT.url not in timeline


async def test_a_long_timeline_is_split_into_valid_messages_oldest_first(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    start = date(2024, 1, 1)
    reports = [
        Report(
            f"exchange-{number}",
            "Reuters",
            (start + timedelta(days=5 * number)).isoformat(),
            f"Prisoner exchange number {number + 1} between Russia and Ukraine",
            (
                f"Russia and Ukraine exchanged {number + 10} prisoners of war in swap number "
                f"{number + 1}, mediated by the United Arab Emirates, officials in Kyiv and "
                "Moscow said, adding that the bodies of fallen soldiers were also returned "
                "and that further exchanges were being prepared by both sides.",
                details(number),
            ),
        )
        for number in range(40)
    ]
    await ingest(running_bot, write(tmp_path / "news", reports), for_digests=False)
    before = len(running_bot.replies(READER))
    running_bot.server.send_user_message(
        chat_id=READER, text="/timeline prisoner exchange", user_id=READER
    )
    await running_bot.server.await_messages(READER, before + 2, timeout=30)
    # The whole reply has arrived when its last event (the newest) is in.
    newest = (start + timedelta(days=5 * 39)).isoformat()
    for _ in range(50):
        parts = running_bot.replies(READER)[before:]
        if newest in parts[-1]:
            break
        await running_bot.server.await_messages(READER, before + len(parts) + 1, timeout=30)

    dates = [found for part in parts for found in DATE_LINE.findall(part)]
    assert len(parts) > 1
    assert_sendable(parts, MAX_MESSAGE_LENGTH)
    assert dates == sorted(dates) and len(dates) >= 40


async def test_timeline_without_a_topic_shows_how(running_bot: RunningBot) -> None:
    [hint] = await running_bot.ask(READER, "/timeline")
    assert "/timeline prisoner exchange" in hint


async def test_the_menu_lists_whatsnew_and_timeline(running_bot: RunningBot) -> None:
    commands = {command["command"] for command in running_bot.server.commands}
    assert {"whatsnew", "timeline"} <= commands


async def test_whatsnew_in_a_topic_chat_tells_only_of_its_topics(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    await running_bot.ask(READER, "/subscribe prisoner exchange")
    await ingest(
        running_bot, write(tmp_path / "news", [*SWAP_REPORTS, TARIFF_REPORT]), for_digests=False
    )
    [news] = await running_bot.ask(READER, "/whatsnew 3650d")

    # The swap story (and the seed article, which mentions a prisoner exchange), not tariffs.
    assert SWAP_REPORTS[0].url in news and "Volodymyr Zelensky" in news
    assert TARIFF_REPORT.url not in news and "tariff" not in news.lower()
