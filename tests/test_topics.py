"""Topic subscriptions through the real application and the local Bot API server: follow,
list, drop by button; stale and forged buttons; groups, where only administrators change."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.settings import Settings
from playground.bot_api import BotApiServer
from storage import subscriptions, topics
from tests.support.bot_harness import USER, RunningBot, start_running_bot
from tests.support.buttons import buttons, last_message, press
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
OTHER_USER = 2003
GROUP, MEMBER, GROUP_ADMIN = -4101, 5101, 5102


@pytest.fixture
async def running(bot_api: BotApiServer, bot_settings: Settings) -> AsyncIterator[RunningBot]:
    started = await start_running_bot(bot_api, bot_settings, FakeEmbedder())
    yield started
    await started.stop()


def followed(running: RunningBot, chat_id: int) -> list[str]:
    with running.services.sessions() as session:
        return [topic.text for topic in topics.topics_of(session, chat_id=chat_id)]


async def show_topics(running: RunningBot, chat_id: int) -> tuple[int, dict[str, str]]:
    """Send /topics; the listing message's id and its buttons."""
    await running.ask(chat_id, "/topics")
    listing = last_message(running.server, chat_id)
    return listing["message_id"], buttons(running.server, chat_id, listing["message_id"])


async def test_a_chat_follows_several_topics_and_drops_one_with_its_button(
    running: RunningBot,
) -> None:
    [first] = await running.ask(USER, "/subscribe prisoner exchange")
    await running.ask(USER, "/subscribe ceasefire")
    [again] = await running.ask(USER, "/subscribe  Prisoner Exchange!")

    assert first.startswith("Following “prisoner exchange”")
    assert "already follows" in again
    listing_id, keys = await show_topics(running, USER)
    assert list(keys) == ["✕ prisoner exchange", "✕ ceasefire"]

    answer = await press(running.server, USER, listing_id, keys["✕ prisoner exchange"])

    assert answer["text"] == "Stopped following “prisoner exchange”."
    assert followed(running, USER) == ["ceasefire"]
    assert list(buttons(running.server, USER, listing_id)) == ["✕ ceasefire"]
    edited = running.server.message(USER, listing_id)
    assert edited is not None and "prisoner exchange" not in edited["text"]


async def test_subscribe_alone_in_a_topic_chat_says_it_gets_only_its_topics(
    running: RunningBot,
) -> None:
    await running.ask(USER, "/subscribe ceasefire")

    [reply] = await running.ask(USER, "/subscribe")

    assert "only" in reply and "ceasefire" in reply and followed(running, USER) == ["ceasefire"]


async def test_unsubscribe_drops_every_topic(running: RunningBot) -> None:
    await running.ask(USER, "/subscribe ceasefire")
    await running.ask(USER, "/subscribe tariffs")

    [reply] = await running.ask(USER, "/unsubscribe")
    [listing] = await running.ask(USER, "/topics")

    assert reply.startswith("Unsubscribed") and followed(running, USER) == []
    assert "follows no topics" in listing


async def test_stale_and_forged_buttons_get_a_sentence_and_change_nothing(
    running: RunningBot,
) -> None:
    await running.ask(USER, "/subscribe ceasefire")
    await running.ask(OTHER_USER, "/subscribe tariffs")
    listing_id, keys = await show_topics(running, USER)
    [others_button] = (await show_topics(running, OTHER_USER))[1].values()
    others_id = int(others_button.rsplit(":", 1)[1])
    sent_before = len(running.server.sent_messages)

    await press(running.server, USER, listing_id, keys["✕ ceasefire"])
    stale = await press(running.server, USER, listing_id, keys["✕ ceasefire"])
    someone_elses = await press(running.server, USER, listing_id, f"topic:drop:{others_id}")
    unknown_id = await press(running.server, USER, listing_id, "topic:drop:99999999")
    malformed = await press(running.server, USER, listing_id, "topic:drop:1; DROP TABLE topics")
    nonsense = await press(running.server, USER, listing_id, "x" * 64)

    assert stale["text"] == someone_elses["text"] == unknown_id["text"]
    assert stale["text"] == "This chat no longer follows that topic."
    assert malformed["text"] == nonsense["text"]
    assert malformed["text"].startswith("This button no longer works")
    assert followed(running, OTHER_USER) == ["tariffs"]
    assert len(running.server.sent_messages) == sent_before  # no error message, only answers


async def test_in_a_group_only_administrators_change_topics_and_pace(
    running: RunningBot,
) -> None:
    server = running.server
    server.set_member_status(GROUP, GROUP_ADMIN, "administrator")

    refused = await in_group(running, MEMBER, "/subscribe ceasefire")
    await in_group(running, GROUP_ADMIN, "/subscribe ceasefire")
    listing = await in_group(running, MEMBER, "/topics")  # reading is for everyone
    listing_id = last_message(server, GROUP)["message_id"]
    drop = buttons(server, GROUP, listing_id)["✕ ceasefire"]
    member_press = await press(server, GROUP, listing_id, drop, user_id=MEMBER)
    pace_refused = await in_group(running, MEMBER, "/digest daily 08:00 UTC")
    admin_press = await press(server, GROUP, listing_id, drop, user_id=GROUP_ADMIN)

    assert "administrators" in refused and "ceasefire" in listing
    assert "administrators" in member_press["text"] and member_press["show_alert"]
    assert "administrators" in pace_refused
    assert admin_press["text"] == "Stopped following “ceasefire”."
    with running.services.sessions() as session:
        assert subscriptions.is_subscribed(session, chat_id=GROUP)


async def test_the_command_menu_offers_topics_and_digest_pace(running: RunningBot) -> None:
    menu = {command["command"]: command["description"] for command in running.server.commands}

    assert "topics" in menu and "digest" in menu and "topic" in menu["subscribe"]


async def in_group(running: RunningBot, user_id: int, text: str) -> str:
    """Write in the group as this user; the bot's one reply."""
    before = len(running.replies(GROUP))
    running.server.send_user_message(
        chat_id=GROUP, user_id=user_id, text=text, chat_type="group", chat_title="Talks desk"
    )
    messages = await running.server.await_messages(GROUP, before + 1, timeout=60)
    return str(messages[-1]["text"])
