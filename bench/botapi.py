"""What the Telegram benchmarks share: the local Bot API server's settings, a thread that
notes when each of the bot's messages arrives, and the evaluation questions."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bench.archive import BuiltArchive, copy_archive
from knowledge.embedding import Embedder
from parley.services import build_services
from parley.settings import Settings
from playground.bot_api import BotApiServer

PROJECT = Path(__file__).resolve().parent.parent
SEEDS = PROJECT / "seeds"
EVALUATION = PROJECT / "tests" / "eval" / "seed_questions.json"
TOKEN = "123456:TEST-token-for-the-local-bot-api"
OnMessage = Callable[[int, float, dict[str, Any]], None]


def local_bot_api() -> BotApiServer:
    """The local Bot API server (playground.bot_api), with the benchmark bot's token."""
    return BotApiServer(token=TOKEN, bot_username="parley_bot")


def archive_with_seed(archive: BuiltArchive, destination: Path, embedder: Embedder) -> BuiltArchive:
    """A private copy of a synthetic archive with the real seed article ingested into it, so
    real questions find real answers among the synthetic passages."""
    copy = copy_archive(archive, destination)
    services = build_services(bot_settings(copy.url), embedder=embedder)
    try:
        plans, _ = services.ingestor.plan_files([str(SEEDS)])
        services.ingestor.store(plans)
    finally:
        services.close()
    return copy


def bot_settings(database_url: str, api_url: str = "http://127.0.0.1:9") -> Settings:
    """Production settings with the archive and the Bot API address pointed at ours."""
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        database_url=database_url,
        seeds_dir=str(SEEDS),
        telegram_bot_token=SecretStr(TOKEN),
        telegram_api_base_url=api_url,
        log_level="WARNING",
    )


@dataclass(frozen=True)
class Question:
    """An evaluation question and the substrings a correct answer contains (none: uncovered)."""

    text: str
    expect: tuple[str, ...]

    def answered_by(self, reply: str) -> bool:
        """Whether the reply answers it as the evaluation set expects."""
        if not self.expect:
            return "couldn" in reply  # "I couldn't find that in the articles I follow…"
        return any(expected in reply for expected in self.expect)


def evaluation_questions() -> list[Question]:
    """The 26 covered and 12 uncovered questions of tests/eval, interleaved."""
    data = json.loads(EVALUATION.read_text(encoding="utf-8"))
    covered = [Question(item["question"], tuple(item["expect"])) for item in data["covered"]]
    uncovered = [Question(text, ()) for text in data["uncovered"]]
    mixed: list[Question] = []
    for number, question in enumerate(covered):
        mixed.append(question)
        if number % 2 == 1 and uncovered:
            mixed.append(uncovered.pop(0))
    return mixed + uncovered


class ReplyWatcher:
    """Follows the server's messages on a thread and calls `on_message(chat_id, arrived,
    message)` for each message the bot sends, with `arrived` on the perf_counter clock."""

    def __init__(self, server: BotApiServer) -> None:
        self._server = server
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._follow, name="ReplyWatcher", daemon=True)
        self.on_message: OnMessage = lambda chat_id, arrived, message: None

    def __enter__(self) -> ReplyWatcher:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stopping.set()
        self._thread.join(timeout=5)

    def _follow(self) -> None:
        since, _ = self._server.changes(0, 0)
        while not self._stopping.is_set():
            since, changed = self._server.changes(since, timeout=0.1)
            arrived = time.perf_counter()
            for message in changed:
                if message.get("from", {}).get("is_bot"):
                    self.on_message(int(message["chat"]["id"]), arrived, message)
