"""The fake Bot API server, exercised through the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator

import httpx
import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken, RetryAfter
from telegram.ext import ApplicationBuilder, CallbackQueryHandler, CommandHandler, ContextTypes

from playground.bot_api import BotApiServer, MessagesTimeout, parse_html
from tests.support.waiting import NeverHappened

TOKEN = "123:ABC"
# PTB 22 warns whenever it builds a RetryAfter (its retry_after becomes a timedelta in v23).
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def server() -> Iterator[BotApiServer]:
    with BotApiServer(token=TOKEN, bot_username="parley_bot") as srv:
        yield srv


def make_bot(server: BotApiServer, token: str = TOKEN) -> Bot:
    return Bot(token, base_url=f"{server.url}/bot")


async def eventually(condition: Callable[[], bool], timeout: float = 30) -> None:
    """Wait until ``condition`` holds; the timeout only bounds a broken server, and a busy
    machine may take any part of it."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise NeverHappened("the server never got there")
        await asyncio.sleep(0.01)


@pytest.mark.asyncio
async def test_get_me_returns_bot_identity(server: BotApiServer) -> None:
    async with make_bot(server) as bot:
        me = await bot.get_me()
    assert me.username == "parley_bot"
    assert me.id == 123
    assert me.is_bot


@pytest.mark.asyncio
async def test_unknown_token_and_unknown_method(server: BotApiServer) -> None:
    with pytest.raises(InvalidToken, match="Unauthorized"):
        await make_bot(server, token="999:WRONG").get_me()
    async with make_bot(server) as bot:
        with pytest.raises(EndPointNotFound):
            await bot.do_api_request("noSuchMethod")


@pytest.mark.asyncio
async def test_user_message_arrives_with_offset_semantics(server: BotApiServer) -> None:
    update_id = server.send_user_message(chat_id=42, text="/start@parley_bot hi @parley_bot")
    async with make_bot(server) as bot:
        updates = await bot.get_updates(timeout=0)
        assert [u.update_id for u in updates] == [update_id]
        message = updates[0].message
        assert message is not None and message.text is not None
        assert message.chat.type == "private" and message.from_user is not None
        assert message.from_user.id == 42
        assert [(e.type, e.offset, e.length) for e in message.entities] == [
            ("bot_command", 0, 17),
            ("mention", 21, 11),
        ]
        # Not confirmed yet: the same update comes again.
        assert [u.update_id for u in await bot.get_updates(timeout=0)] == [update_id]
        # offset = last + 1 confirms it; nothing new is left.
        assert await bot.get_updates(offset=update_id + 1, timeout=0) == ()
        assert await bot.get_updates(timeout=0) == ()


@pytest.mark.asyncio
async def test_group_message_and_reply_to_bot(server: BotApiServer) -> None:
    async with make_bot(server) as bot:
        sent = await bot.send_message(chat_id=-100777, text="question?")
        server.send_user_message(
            chat_id=-100777,
            user_id=5,
            text="answer",
            chat_type="supergroup",
            reply_to_bot_message_id=sent.message_id,
        )
        (update,) = await bot.get_updates(timeout=0)
    assert update.message is not None and update.message.reply_to_message is not None
    assert update.message.chat.type == "supergroup"
    assert update.message.reply_to_message.from_user == sent.from_user
    assert update.message.message_id == sent.message_id + 1


@pytest.mark.asyncio
async def test_long_poll_returns_early_when_update_is_queued(server: BotApiServer) -> None:
    # A long poll that would wait 60 s ends with the update queued while it waits; a server
    # that ignored the update would time this test out rather than pass it. No wall-clock
    # bound is asserted: a busy machine may take any time to deliver.
    threading.Timer(0.3, lambda: server.send_user_message(chat_id=7, text="hello")).start()
    async with make_bot(server) as bot:
        updates = await asyncio.wait_for(bot.get_updates(timeout=60, read_timeout=90), 45)
        assert updates[0].message is not None and updates[0].message.text == "hello"
        # Meanwhile other requests are served while a long poll is pending.
        poll = asyncio.create_task(
            bot.get_updates(offset=updates[0].update_id + 1, timeout=60, read_timeout=90)
        )
        await eventually(lambda: server.requests.count("getUpdates") == 2)
        await bot.send_message(chat_id=7, text="pong")
        assert not poll.done()  # still waiting: the send did not need the poll to end
        server.send_user_message(chat_id=7, text="again")
        [update] = await asyncio.wait_for(poll, 45)
        assert update.message is not None and update.message.text == "again"
    assert server.sent_messages[0]["text"] == "pong"


@pytest.mark.asyncio
async def test_send_message_html_is_validated_and_recorded(server: BotApiServer) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Yes", callback_data="yes")]])
    async with make_bot(server) as bot:
        sent = await bot.send_message(
            chat_id=42,
            text='<b>Hi</b> &amp; <a href="https://x.org/?a=1&amp;b=2">link</a>',
            parse_mode="HTML",
            reply_markup=markup,
        )
        assert sent.text == "Hi & link"
        assert [(e.type, e.offset, e.length) for e in sent.entities] == [
            ("bold", 0, 2),
            ("text_link", 5, 4),
        ]
        assert sent.entities[1].url == "https://x.org/?a=1&b=2"
        assert sent.reply_markup == markup
        for bad in ("<b>unclosed", "<script>alert(1)</script>", "1 < 2", "<i>x</b>"):
            with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
                await bot.send_message(chat_id=42, text=bad, parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
            await bot.send_message(chat_id=42, text="<b></b>", parse_mode="HTML")
    (record,) = server.sent_messages
    assert record["chat_id"] == 42 and record["parse_mode"] == "HTML"
    assert record["message_id"] == sent.message_id
    assert record["reply_markup"] == markup.to_dict()
    assert record["text"].startswith("<b>Hi</b>")


@pytest.mark.asyncio
async def test_message_too_long(server: BotApiServer) -> None:
    async with make_bot(server) as bot:
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(chat_id=1, text="x" * 5000)
        # Markup does not count towards the limit, only the parsed text does.
        await bot.send_message(chat_id=1, text=f"<b>{'x' * 4096}</b>", parse_mode="HTML")


@pytest.mark.asyncio
async def test_blocked_chat_is_forbidden(server: BotApiServer) -> None:
    server.block_chat(13)
    async with make_bot(server) as bot:
        with pytest.raises(Forbidden, match="bot was blocked by the user"):
            await bot.send_message(chat_id=13, text="hello?")
        with pytest.raises(Forbidden):
            await bot.send_chat_action(chat_id=13, action="typing")
        await bot.send_chat_action(chat_id=14, action="typing")
    assert server.chat_actions == [{"chat_id": 14, "action": "typing"}]
    assert server.sent_messages == []


@pytest.mark.asyncio
async def test_rate_limit_next(server: BotApiServer) -> None:
    server.rate_limit_next("sendMessage", count=1, retry_after=1)
    async with make_bot(server) as bot:
        with pytest.raises(RetryAfter) as caught:
            await bot.send_message(chat_id=1, text="first")
        assert caught.value.retry_after == 1
        await bot.send_message(chat_id=1, text="second")
    assert [m["text"] for m in server.sent_messages] == ["second"]
    assert server.too_many_requests == 1


@pytest.mark.asyncio
async def test_enforced_rate_limit_per_chat(server: BotApiServer) -> None:
    server.enforce_rate_limit(per_second=30, per_chat_per_second=1)
    async with make_bot(server) as bot:
        await bot.send_message(chat_id=1, text="one")
        await bot.send_message(chat_id=2, text="other chat is fine")
        with pytest.raises(RetryAfter):
            await bot.send_message(chat_id=1, text="too fast")
    assert server.too_many_requests == 1


def test_enforced_rate_limit_overall_refuses_a_bot_that_sends_faster(
    server: BotApiServer,
) -> None:
    server.enforce_rate_limit(per_second=30, per_chat_per_second=None)
    # Straight into the server, a few microseconds apart: sixty chats at once, twice what a
    # second allows (over HTTP a slow machine could space them out enough to pass).
    statuses = [
        server.handle(server.token, "sendMessage", {"chat_id": chat_id, "text": "news"})[0]
        for chat_id in range(1, 61)
    ]
    assert statuses.count(429) > 0
    assert server.too_many_requests == statuses.count(429)
    assert len(server.sent_messages) == statuses.count(200)


@pytest.mark.asyncio
async def test_commands_edit_and_callbacks(server: BotApiServer) -> None:
    async with make_bot(server) as bot:
        await bot.set_my_commands([("start", "Start"), ("help", "Help")])
        assert [c.command for c in await bot.get_my_commands()] == ["start", "help"]
        sent = await bot.send_message(chat_id=3, text="v1")
        edited = await bot.edit_message_text("<i>v2</i>", 3, sent.message_id, parse_mode="HTML")
        assert not isinstance(edited, bool) and edited.text == "v2"
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("<i>v2</i>", 3, sent.message_id, parse_mode="HTML")
        server.press_button(chat_id=3, user_id=3, message_id=sent.message_id, data="yes")
        (update,) = await bot.get_updates(timeout=0)
        assert update.callback_query is not None and update.callback_query.data == "yes"
        await update.callback_query.answer("done")
        await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
    assert server.sent_messages[0]["text"] == "<i>v2</i>"
    assert server.callback_answers[0]["text"] == "done"
    assert server.commands == []
    assert server.requests[:3] == ["getMe", "setMyCommands", "getMyCommands"]


def test_json_and_multipart_bodies(server: BotApiServer) -> None:
    base = f"{server.url}/bot{TOKEN}"
    as_json = httpx.post(f"{base}/sendMessage", json={"chat_id": 9, "text": "json"}).json()
    assert as_json["ok"] and as_json["result"]["text"] == "json"
    form = {"chat_id": "9", "text": "multi", "reply_markup": '{"inline_keyboard": []}'}
    files = {"document": ("a.txt", b"payload")}
    multipart = httpx.post(f"{base}/sendMessage", data=form, files=files).json()
    assert multipart["ok"] and multipart["result"]["message_id"] == 2
    assert server.sent_messages[1]["reply_markup"] == {"inline_keyboard": []}
    missing = httpx.get(f"{server.url}/nothing-here")
    assert missing.status_code == 404 and missing.json()["ok"] is False
    wrong = httpx.get(f"{server.url}/bot1:X/getMe")
    assert wrong.status_code == 401
    assert wrong.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}


def test_stop_releases_pending_long_poll() -> None:
    server = BotApiServer(token=TOKEN).start()
    url = f"{server.url}/bot{TOKEN}/getUpdates"
    replies: list[httpx.Response] = []
    poller = threading.Thread(
        target=lambda: replies.append(httpx.post(url, data={"timeout": "600"}, timeout=900)),
        daemon=True,
    )
    poller.start()
    deadline = time.monotonic() + 30  # bounds a broken server only; no speed is asserted
    while "getUpdates" not in server.requests and time.monotonic() < deadline:
        time.sleep(0.01)
    server.stop()
    poller.join(timeout=60)  # far short of the poll's 600 s: only a released poll ends here
    assert not poller.is_alive()
    assert replies and replies[0].json() == {"ok": True, "result": []}
    server.stop()  # idempotent


def test_wait_for_messages_reports_what_was_received(server: BotApiServer) -> None:
    httpx.post(f"{server.url}/bot{TOKEN}/sendMessage", data={"chat_id": "5", "text": "only one"})
    assert [m["text"] for m in server.wait_for_messages(5, count=1, timeout=1)] == ["only one"]
    with pytest.raises(MessagesTimeout, match="got 1: \\['only one'\\]"):
        server.wait_for_messages(5, count=2, timeout=0.2)
    with pytest.raises(TimeoutError):
        server.wait_for_messages(6, count=1, timeout=0.1)


def test_parse_html_details() -> None:
    assert parse_html("&lt;&#65;&#x42;&nbsp;&quot;")[0] == '<AB&nbsp;"'
    text, entities = parse_html('<pre><code class="language-py">x = 1</code></pre> 😀<s>y</s>')
    assert text == "x = 1 😀y"
    assert entities == [
        {"type": "pre", "language": "py", "offset": 0, "length": 5},
        {"type": "strikethrough", "offset": 8, "length": 1},  # the emoji is 2 UTF-16 units
    ]
    assert parse_html('<span class="tg-spoiler">s</span>')[1][0]["type"] == "spoiler"
    assert parse_html("<blockquote expandable>q</blockquote>")[1][0]["type"] == (
        "expandable_blockquote"
    )


@pytest.mark.asyncio
async def test_real_application_replies_to_start(server: BotApiServer) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("hi")

    async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        await update.callback_query.answer()
        await update.callback_query.edit_message_text(f"pressed {update.callback_query.data}")

    app = ApplicationBuilder().token(TOKEN).base_url(f"{server.url}/bot").build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(CallbackQueryHandler(button))
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(poll_interval=0, timeout=1)
    try:
        server.send_user_message(chat_id=42, user_id=42, text="/start", first_name="Ann")
        (reply,) = await server.await_messages(chat_id=42, count=1, timeout=5)
        assert reply["text"] == "hi"
        assert reply["reply_to_message_id"] is None  # PTB only quotes by default in groups
        server.press_button(42, 42, reply["message_id"], "go")
        await eventually(lambda: bool(server.edited_messages))
        assert server.edited_messages[0]["text"] == "pressed go"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert server.requests[:2] == ["getMe", "deleteWebhook"]
    assert "getUpdates" in server.requests
