"""Parley under failure: hostile text, blocked users, flood limits, slow work, broken storage."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.replies import SOMETHING_WENT_WRONG
from knowledge.embedding import Embedder
from parley.cli import main
from parley.settings import Settings
from playground.bot_api import BotApiServer, parse_html
from storage import subscriptions
from storage.vectors import Matrix
from tests.support.bot_harness import USER, RunningBot, eventually, start_running_bot

pytestmark = [
    pytest.mark.model,
    pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning"),
]


async def test_hostile_article_text_is_escaped_and_accepted(
    running_bot: RunningBot, tmp_path: Path
) -> None:
    article = tmp_path / "hostile.md"
    article.write_text(
        "# <script>alert(1)</script> & <b>Talks in Geneva\n\n"
        "The <b>Swiss delegation & its hosts</b were led by envoy Anna <i>Keller in Geneva.\n"
    )
    plans, _ = running_bot.services.ingestor.plan_files([str(article)])
    running_bot.services.ingestor.store(plans)

    [reply] = await running_bot.ask(USER, "Who led the Swiss delegation in Geneva?")

    visible, _ = parse_html(reply)  # what Telegram shows; the server accepted the message
    assert "Anna <i>Keller" in visible
    assert "<script>alert(1)</script> & <b>Talks in Geneva" in visible
    assert "<script>" not in reply and "&lt;script&gt;" in reply and "&amp;" in reply


async def test_a_user_who_blocked_the_bot_is_unsubscribed(running_bot: RunningBot) -> None:
    await running_bot.ask(USER, "/subscribe")
    running_bot.server.block_chat(USER)

    running_bot.server.send_user_message(chat_id=USER, text="Who leads the Russian delegation?")

    def unsubscribed() -> bool:
        with running_bot.services.sessions() as session:
            return not subscriptions.is_subscribed(session, chat_id=USER)

    await eventually(unsubscribed)


async def test_a_flood_limit_reply_is_waited_out_and_the_message_still_sent(
    running_bot: RunningBot,
) -> None:
    running_bot.server.rate_limit_next("sendMessage", count=1, retry_after=1)

    [reply] = await running_bot.ask(USER, "/start")

    assert "Parley" in reply
    assert running_bot.server.requests.count("sendMessage") >= 2  # refused once, then sent


async def test_a_transient_network_failure_is_retried(running_bot: RunningBot) -> None:
    running_bot.server.fail_next("sendMessage", count=2, status=502)

    [reply] = await running_bot.ask(USER, "/start")

    assert "Parley" in reply
    assert running_bot.server.requests.count("sendMessage") == 3


class GatedEmbedder:
    """The real model, except that embedding one chosen question waits for a signal."""

    def __init__(self, inner: Embedder, slow_text: str) -> None:
        self._inner = inner
        self._slow_text = slow_text
        self.model_id = inner.model_id
        self.dimension = inner.dimension
        self.max_tokens = inner.max_tokens
        self.model = getattr(inner, "model", None)  # its word vectors, as services look for
        self.entered = threading.Event()
        self.release = threading.Event()

    def embed(self, texts: Sequence[str]) -> Matrix:
        self._gate(texts)
        return self._inner.embed(texts)

    def embed_with_tokens(self, texts: Sequence[str]) -> tuple[Matrix, list[Matrix]]:
        self._gate(texts)
        return self._inner.embed_with_tokens(texts)

    def _gate(self, texts: Sequence[str]) -> None:
        if self._slow_text in texts:
            self.entered.set()
            self.release.wait(timeout=30)

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def token_words(self, text: str) -> list[str]:
        return self._inner.token_words(text)


async def test_a_question_in_progress_does_not_hold_up_other_chats(
    bot_api: BotApiServer, bot_settings: Settings, real_embedder: Embedder
) -> None:
    slow = "Who leads the Russian delegation?"
    gated = GatedEmbedder(real_embedder, slow)
    running = await start_running_bot(bot_api, bot_settings, gated)
    try:
        bot_api.send_user_message(chat_id=USER, text=slow)
        await eventually(gated.entered.is_set)

        [other] = await running.ask(3003, "Who is in the U.S. delegation?")
        assert "Rubio" in other
        assert running.replies(USER) == []  # the first question is still being worked on

        gated.release.set()
        [first] = await bot_api.await_messages(USER, 1, timeout=120)
        assert "Medinsky" in first["text"]
    finally:
        gated.release.set()
        await running.stop()


async def test_an_internal_failure_is_logged_and_told_in_one_sentence(
    running_bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    with running_bot.services.engine.begin() as connection:
        connection.execute(text("DROP TABLE subscriptions"))

    with caplog.at_level(logging.ERROR, logger="bot.errors"):
        [reply] = await running_bot.ask(USER, "/subscribe")

    assert reply == SOMETHING_WENT_WRONG
    assert "Traceback" not in reply and "subscriptions" not in reply
    [record] = [
        r for r in caplog.records if r.name == "bot.errors" and f"chat={USER}" in r.getMessage()
    ]
    assert "command=/subscribe" in record.getMessage()
    assert record.exc_info is not None


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        (None, "parley: TELEGRAM_BOT_TOKEN is not set"),
        ("not-a-token", "parley: TELEGRAM_BOT_TOKEN is malformed"),
    ],
)
def test_run_without_a_usable_token_says_so_in_one_sentence(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    token: str | None,
    expected: str,
) -> None:
    if token is None:
        monkeypatch.delenv("TELEGRAM_BOT_TOKEN", raising=False)
    else:
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", token)

    assert main(["run"]) == 1

    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith(expected)
