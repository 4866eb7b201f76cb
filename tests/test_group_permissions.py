"""Who may change a group's digests, edited commands, and groups that become supergroups:
the real bot against the local Bot API server."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from parley.settings import Settings
from playground.bot_api import BotApiServer
from storage import subscriptions
from tests.support.bot_harness import ADMIN, USER, RunningBot, eventually, start_running_bot
from tests.support.fake_embedder import FakeEmbedder

pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
GROUP = -4001
MEMBER, GROUP_ADMIN = 5001, 5002


@pytest.fixture
async def running(bot_api: BotApiServer, bot_settings: Settings) -> AsyncIterator[RunningBot]:
    started = await start_running_bot(bot_api, bot_settings, FakeEmbedder())
    yield started
    await started.stop()


async def in_group(running: RunningBot, user_id: int, text: str) -> str:
    """Write in the group as this user; the bot's one reply."""
    before = len(running.replies(GROUP))
    running.server.send_user_message(
        chat_id=GROUP, user_id=user_id, text=text, chat_type="group", chat_title="Talks desk"
    )
    messages = await running.server.await_messages(GROUP, before + 1, timeout=120)
    return str(messages[-1]["text"])


def group_is_subscribed(running: RunningBot, chat_id: int = GROUP) -> bool:
    with running.services.sessions() as session:
        return subscriptions.is_subscribed(session, chat_id=chat_id)


async def test_a_group_member_cannot_subscribe_or_unsubscribe_the_group(
    running: RunningBot,
) -> None:
    refused = await in_group(running, MEMBER, "/subscribe")
    assert "administrators" in refused and not group_is_subscribed(running)

    running.server.set_member_status(GROUP, GROUP_ADMIN, "administrator")
    await in_group(running, GROUP_ADMIN, "/subscribe")
    refused_again = await in_group(running, MEMBER, "/unsubscribe")

    assert "administrators" in refused_again and group_is_subscribed(running)


@pytest.mark.parametrize(
    ("user_id", "status"),
    [(GROUP_ADMIN, "administrator"), (GROUP_ADMIN, "creator"), (ADMIN, "member")],
)
async def test_group_administrators_and_parley_admins_may_change_the_group(
    running: RunningBot, user_id: int, status: str
) -> None:
    running.server.set_member_status(GROUP, user_id, status)

    subscribed = await in_group(running, user_id, "/subscribe")
    assert subscribed.startswith("Subscribed") and group_is_subscribed(running)
    unsubscribed = await in_group(running, user_id, "/unsubscribe")
    assert unsubscribed.startswith("Unsubscribed") and not group_is_subscribed(running)


async def test_anyone_may_subscribe_their_own_private_chat(running: RunningBot) -> None:
    [reply] = await running.ask(USER, "/subscribe")

    assert reply.startswith("Subscribed") and group_is_subscribed(running, USER)


async def test_editing_an_old_command_does_not_run_it_again(running: RunningBot) -> None:
    await running.ask(USER, "/subscribe")
    subscribe_message_id = 1  # the user's first message in the chat
    await running.ask(USER, "/unsubscribe")

    update_id = running.server.edit_user_message(
        chat_id=USER, message_id=subscribe_message_id, text="/subscribe "
    )
    await eventually(lambda: running.server.update_confirmed(update_id))
    [later] = await running.ask(USER, "/start")  # anything the edit did would come before

    assert "Parley" in later
    assert not group_is_subscribed(running, USER)
    assert len(running.replies(USER)) == 3  # subscribed, unsubscribed, welcome: no more


async def test_a_group_that_becomes_a_supergroup_keeps_its_subscription(
    running: RunningBot,
) -> None:
    supergroup = -1000000004001
    running.server.set_member_status(GROUP, GROUP_ADMIN, "administrator")
    await in_group(running, GROUP_ADMIN, "/subscribe")

    running.server.upgrade_group(GROUP, supergroup)  # Telegram's service messages arrive

    await eventually(lambda: group_is_subscribed(running, supergroup))
    assert not group_is_subscribed(running, GROUP)
