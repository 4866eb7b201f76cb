"""Talking to Parley through the Bot API protocol: the real application, a local server."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from knowledge.embedding import Embedder
from parley.settings import Settings
from playground.bot_api import BotApiServer
from storage import subscriptions
from tests.support.bot_harness import ADMIN, USER, RunningBot, start_running_bot
from tests.support.news_site import publish, story
from tests.support.web_server import WebServer

pytestmark = [
    pytest.mark.model,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]
GROUP = -100500


async def test_start_introduces_parley_and_registers_commands(running_bot: RunningBot) -> None:
    [reply] = await running_bot.ask(USER, "/start")

    assert (
        "Parley" in reply and "/subscribe" in reply and "Who leads the Russian delegation?" in reply
    )
    registered = {command["command"] for command in running_bot.server.commands}
    assert {"ask", "subscribe", "unsubscribe", "sources", "latest", "help"} <= registered
    assert "addsource" not in registered
    admin_menu = {c["command"] for c in running_bot.server.commands_for(f"chat:{ADMIN}")}
    assert {"addsource", "removesource", "ingest"} <= admin_menu


async def test_a_question_is_answered_with_a_quote_and_its_source(running_bot: RunningBot) -> None:
    [reply] = await running_bot.ask(USER, "Who leads the Russian delegation?")

    assert "<blockquote>" in reply
    assert "Vladimir Medinsky" in reply
    assert "Trump and Putin to Skip First Ukraine Peace Talks in Istanbul" in reply
    assert "Reuters, 2025-05-15" in reply
    assert {"chat_id": USER, "action": "typing"} in running_bot.server.chat_actions


async def test_uncovered_questions_are_declined_plainly(running_bot: RunningBot) -> None:
    [reply] = await running_bot.ask(USER, "What is the weather in Paris?")

    assert "couldn't find that" in reply
    assert "<blockquote>" not in reply


async def test_ask_command_and_its_hint(running_bot: RunningBot) -> None:
    [answer] = await running_bot.ask(USER, "/ask Who is in the U.S. delegation?")
    [hint] = await running_bot.ask(USER, "/ask")

    assert "Marco Rubio" in answer
    assert "/ask Who leads the Russian delegation?" in hint


async def test_help_lists_admin_commands_only_for_admins(running_bot: RunningBot) -> None:
    [for_user] = await running_bot.ask(USER, "/help")
    [for_admin] = await running_bot.ask(ADMIN, "/help")

    assert "/subscribe" in for_user and "/addsource" not in for_user
    assert "/addsource" in for_admin and "/removesource" in for_admin


async def test_unknown_commands_get_a_hint(running_bot: RunningBot) -> None:
    [reply] = await running_bot.ask(USER, "/frobnicate now")

    assert "I don't know /frobnicate" in reply and "/help" in reply


async def test_subscriptions_persist_across_a_restart(
    running_bot: RunningBot, bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder
) -> None:
    [first] = await running_bot.ask(USER, "/subscribe")
    [again] = await running_bot.ask(USER, "/subscribe")
    await running_bot.stop()

    restarted = await start_running_bot(bot_api, bot_settings, real_embedder)
    try:
        with restarted.services.sessions() as session:
            assert subscriptions.is_subscribed(session, chat_id=USER)
        [stopped] = await restarted.ask(USER, "/unsubscribe")
        [stopped_again] = await restarted.ask(USER, "/unsubscribe")
    finally:
        await restarted.stop()

    assert first.startswith("Subscribed")
    assert "already subscribed" in again
    assert stopped.startswith("Unsubscribed")
    assert "not subscribed" in stopped_again
    running_bot.services = restarted.services  # the fixture's teardown stops it harmlessly again


async def test_only_admins_add_and_remove_sources(running_bot: RunningBot) -> None:
    with WebServer() as site:
        feed = publish(site, [story(1, "Ceasefire")]) + "?utm_source=telegram"
        [refused] = await running_bot.ask(USER, f"/addsource {feed}")
        [listed_before] = await running_bot.ask(USER, "/sources")
        [added] = await running_bot.ask(ADMIN, f"/addsource {feed}")
        [duplicate] = await running_bot.ask(ADMIN, f"/addsource {site.url}/feed.xml")
        [listed] = await running_bot.ask(USER, "/sources")
        [bad] = await running_bot.ask(ADMIN, "/addsource ftp://news.example.org/rss")
        [unreachable] = await running_bot.ask(ADMIN, f"/addsource {site.url}/no-feed-here")
    source_id = added.split("#")[1].split(":")[0]
    [not_removed] = await running_bot.ask(USER, f"/removesource {source_id}")
    [removed] = await running_bot.ask(ADMIN, f"/removesource {source_id}")
    [listed_after] = await running_bot.ask(USER, "/sources")

    assert "only Parley's admins" in refused and "only Parley's admins" in not_removed
    assert "Example Wire" not in listed_before
    assert added.startswith(f"Added source #{source_id}: <b>Example Wire</b> (feed)")
    assert "Found 1 article, 1 new to the archive" in added
    assert f"already source #{source_id}" in duplicate
    assert f"#{source_id}" in listed and "Example Wire" in listed
    assert "Only http and https URLs" in bad
    assert "404" in unreachable
    assert removed.startswith(f"Removed source #{source_id} (Example Wire)")
    assert "Example Wire" not in listed_after


async def test_groups_answer_mentions_and_replies_and_ignore_chatter(
    running_bot: RunningBot,
) -> None:
    server = running_bot.server
    server.send_user_message(
        chat_id=GROUP, user_id=USER, text="Anyone seen the news?", chat_type="supergroup"
    )
    server.send_user_message(
        chat_id=GROUP,
        user_id=USER,
        text="@parley_bot Who leads the Russian delegation?",
        chat_type="supergroup",
    )
    [answer] = await server.await_messages(GROUP, 1, timeout=120)
    server.send_user_message(
        chat_id=GROUP,
        user_id=USER,
        text="Who is in the U.S. delegation?",
        chat_type="supergroup",
        reply_to_bot_message_id=answer["message_id"],
    )
    replies = await server.await_messages(GROUP, 2, timeout=120)

    assert "Medinsky" in answer["text"]
    assert "Rubio" in replies[1]["text"]
    # The chatter came first, so had it been taken for a question its "typing" would be here
    # already: the bot starts every answer with one. Nothing here waits on the clock.
    typing = [a for a in server.chat_actions if a == {"chat_id": GROUP, "action": "typing"}]
    assert len(typing) == 2
    assert len(running_bot.replies(GROUP)) == 2  # the chatter got nothing


async def test_latest_lists_each_recent_article_once_within_telegrams_limit(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    # Titles are capped when stored, so /latest now fits one message; how long replies are
    # split is specified in tests/test_rendering_properties.py.
    titles = []
    for number in range(10):
        title = f"Dispatch {number}: " + " ".join(["Extraordinarily-prolonged-deliberations"] * 6)
        titles.append(title)
        (tmp_path / f"{number}.md").write_text(
            f"# {title}\n\nDelegates met for round {number} of talks today.\n"
        )
    plans, _ = running_bot.services.ingestor.plan_files([str(tmp_path)])
    running_bot.services.ingestor.store(plans)

    before = len(running_bot.replies(USER))
    running_bot.server.send_user_message(chat_id=USER, text="/latest")
    messages = await replies_until(
        running_bot, USER, before, lambda texts: all(t in "\n".join(texts) for t in titles)
    )

    assert all(len(message) <= 4096 for message in messages)
    joined = "\n".join(messages)
    for title in titles:
        assert joined.count(title) == 1


async def test_admin_ingests_a_page_and_questions_are_answered_from_it(
    running_bot: RunningBot,
) -> None:
    page = (
        "<html><head><title>Prisoner exchange agreed in Geneva</title>"
        '<meta property="article:published_time" content="2025-06-02T09:00:00Z"></head><body>'
        "<nav>World | Europe</nav><article><h1>Prisoner exchange agreed in Geneva</h1>"
        "<p>Negotiators agreed on Monday to exchange 1,000 prisoners of war each, the largest "
        "swap since the start of the war, officials in Geneva said.</p>"
        "<p>The exchange will be overseen by the International Committee of the Red Cross.</p>"
        "</article></body></html>"
    )
    with WebServer() as web:
        web.add("/world/geneva-exchange", page.encode(), content_type="text/html")
        url = f"{web.url}/world/geneva-exchange?utm_source=telegram"
        [refused] = await running_bot.ask(USER, f"/ingest {url}")
        [added] = await running_bot.ask(ADMIN, f"/ingest {url}")
        [again] = await running_bot.ask(ADMIN, f"/ingest {url}")
        [missing] = await running_bot.ask(ADMIN, f"/ingest {web.url}/no-such-page")

    [answer] = await running_bot.ask(USER, "Who will oversee the prisoner exchange?")

    assert "only Parley's admins" in refused
    assert added.startswith("Added") and "Prisoner exchange agreed in Geneva" in added
    assert "Already in the archive" in again
    assert "Could not fetch" in missing and "404" in missing
    assert "International Committee of the Red Cross" in answer
    assert f'href="{web.url}/world/geneva-exchange"' in answer


async def replies_until(
    bot: RunningBot, chat_id: int, before: int, done: Callable[[list[str]], bool]
) -> list[str]:
    """The chat's replies after the first ``before``, once ``done`` holds for them: however
    long a busy machine takes to send every part, and never a fixed pause."""
    count = before + 1
    while True:
        sent = await bot.server.await_messages(chat_id, count, timeout=120)
        texts = [message["text"] for message in sent[before:]]
        if done(texts):
            return texts
        count = len(sent) + 1
