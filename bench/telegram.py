"""3. Answering through Telegram's protocol: the real bot, the local Bot API server, an archive
of 100k passages; question-to-reply latency with 1 and 20 users, and questions per second.

Latency runs from queueing the user's message on the server to the server recording the
bot's reply: the long poll that delivers the update, the answer, the typing action, the
rate limiters and the sendMessage call are all inside it.
"""

from __future__ import annotations

import asyncio
import queue
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.archive import BuiltArchive, Say
from bench.botapi import (
    Question,
    ReplyWatcher,
    archive_with_seed,
    bot_settings,
    evaluation_questions,
    local_bot_api,
)
from bench.stats import latency_summary, ratio
from bot.app import build_application, start_bot, stop_bot
from knowledge.embedding import Embedder
from parley.services import build_services
from playground.bot_api import BotApiServer

REPLY_TIMEOUT = 60.0


@dataclass
class Outcome:
    """Questions asked in one phase: latencies, and how many were answered as expected."""

    latencies: list[float] = field(default_factory=list)
    correct: int = 0
    in_window: int = 0  # replies that arrived before the phase's deadline

    def record(self, question: Question, seconds: float, reply: str, *, in_window: bool) -> None:
        self.latencies.append(seconds)
        self.correct += question.answered_by(reply)
        self.in_window += in_window

    def figures(self) -> dict[str, object]:
        return {
            "latency_ms": latency_summary(self.latencies),
            "questions": len(self.latencies),
            "answered_as_expected": round(self.correct / max(1, len(self.latencies)), 3),
        }


def sequential(
    server: BotApiServer,
    watcher: ReplyWatcher,
    questions: list[Question],
    first_chat: int,
    direct: Callable[[str], object] | None = None,
) -> tuple[Outcome, list[float]]:
    """One question in flight at a time. Each comes from its own chat, as if the user waited
    a second before the next: Telegram's one message a second per chat never adds a wait.
    With `direct`, each question is also answered in-process without Telegram (the
    baseline), before or after the bot's turn alternately, since answers share a cache."""
    arrivals: queue.Queue[tuple[int, float, str]] = queue.Queue()
    watcher.on_message = lambda chat, arrived, message: arrivals.put(
        (chat, arrived, str(message.get("text", "")))
    )
    outcome, baseline = Outcome(), []
    for number, question in enumerate(questions):
        if direct is not None and number % 2:
            baseline.append(_timed_answer(direct, question.text))
        chat = first_chat + number
        sent = time.perf_counter()
        server.send_user_message(chat_id=chat, text=question.text)
        while True:
            replied_chat, arrived, text = arrivals.get(timeout=REPLY_TIMEOUT)
            if replied_chat == chat:
                break
        outcome.record(question, arrived - sent, text, in_window=True)
        if direct is not None and not number % 2:
            baseline.append(_timed_answer(direct, question.text))
    return outcome, baseline


def _timed_answer(direct: Callable[[str], object], question: str) -> float:
    start = time.perf_counter()
    direct(question)
    return time.perf_counter() - start


class ClosedLoop:
    """`users` users, each asking its next question as soon as its reply arrives, until
    the deadline. With `fresh_chats` each question comes from a new chat."""

    def __init__(
        self,
        server: BotApiServer,
        questions: list[Question],
        *,
        users: int,
        seconds: float,
        first_chat: int,
        fresh_chats: bool = False,
    ) -> None:
        self._server, self._questions = server, questions
        self._users, self._seconds = users, seconds
        self._first_chat, self._fresh = first_chat, fresh_chats
        self._lock = threading.Lock()
        self._asked = 0
        self._waiting: dict[int, tuple[int, float, Question]] = {}  # chat -> user, sent, question
        self.outcome = Outcome()
        self.started = self.deadline = 0.0

    def _ask(self, user: int) -> None:
        question = self._questions[self._asked % len(self._questions)]
        chat = self._first_chat + (self._asked if self._fresh else user)
        self._asked += 1
        self._waiting[chat] = (user, time.perf_counter(), question)
        self._server.send_user_message(chat_id=chat, text=question.text)

    def start(self) -> None:
        with self._lock:
            self.started = time.perf_counter()
            self.deadline = self.started + self._seconds
            for user in range(self._users):
                self._ask(user)

    def on_message(self, chat: int, arrived: float, message: dict[str, Any]) -> None:
        with self._lock:
            waiting = self._waiting.pop(chat, None)
            if waiting is None:
                return
            user, sent, question = waiting
            in_window = arrived <= self.deadline
            self.outcome.record(
                question, arrived - sent, str(message.get("text", "")), in_window=in_window
            )
            if in_window:
                self._ask(user)

    @property
    def finished(self) -> bool:
        with self._lock:
            return not self._waiting

    def figures(self) -> dict[str, object]:
        figures = self.outcome.figures()
        figures["users"] = self._users
        figures["seconds"] = self._seconds
        figures["questions_per_second"] = round(self.outcome.in_window / self._seconds, 2)
        return figures


async def _closed_loop(watcher: ReplyWatcher, loop: ClosedLoop) -> dict[str, object]:
    watcher.on_message = loop.on_message
    loop.start()
    give_up = loop.deadline + REPLY_TIMEOUT
    while not loop.finished and time.perf_counter() < give_up:
        await asyncio.sleep(0.05)
    return loop.figures()


async def _measure(
    archive: BuiltArchive,
    embedder: Embedder,
    *,
    sequential_questions: int,
    crowd_seconds: float,
    diagnostic_seconds: float,
    say: Say,
) -> dict[str, object]:
    questions = evaluation_questions()
    with tempfile.TemporaryDirectory(prefix="parley-bench-telegram-") as temporary:
        copy = archive_with_seed(archive, Path(temporary) / "archive.db", embedder)
        with local_bot_api() as server:
            settings = bot_settings(copy.url, server.url)
            services = build_services(settings, embedder=embedder)
            application = build_application(settings, services)
            await start_bot(application)
            try:
                with ReplyWatcher(server) as watcher:
                    ask = [questions[i % len(questions)] for i in range(sequential_questions)]
                    say(f"telegram: {len(ask)} questions from one user, one at a time")
                    await asyncio.to_thread(sequential, server, watcher, questions[:3], 10_000)
                    one, direct = await asyncio.to_thread(
                        sequential, server, watcher, ask, 20_000, services.answerer.ask
                    )
                    one_user = one.figures()
                    one_user["direct_answer_ms"] = latency_summary(direct)
                    one_user["telegram_overhead_ratio_p50"] = ratio(
                        latency_summary(one.latencies)["p50"], latency_summary(direct)["p50"]
                    )
                    say(f"telegram: 20 users for {crowd_seconds:.0f} s")
                    crowd = ClosedLoop(
                        server, questions, users=20, seconds=crowd_seconds, first_chat=30_000
                    )
                    results: dict[str, object] = {
                        "passages": len(services.vectors),
                        "one_user": one_user,
                        "twenty_users": await _closed_loop(watcher, crowd),
                    }
                    if diagnostic_seconds:
                        say(f"telegram: 20 users, a new chat per question, {diagnostic_seconds} s")
                        fresh = ClosedLoop(
                            server,
                            questions,
                            users=20,
                            seconds=diagnostic_seconds,
                            first_chat=100_000,
                            fresh_chats=True,
                        )
                        results["twenty_users_new_chat_each_question"] = await _closed_loop(
                            watcher, fresh
                        )
            finally:
                await stop_bot(application)
                services.close()
    return results


def run(
    archive: BuiltArchive,
    embedder: Embedder,
    *,
    sequential_questions: int,
    crowd_seconds: float,
    diagnostic_seconds: float,
    say: Say,
) -> dict[str, object]:
    """The Telegram figures, on a private copy of the archive with the seed article added."""
    return asyncio.run(
        _measure(
            archive,
            embedder,
            sequential_questions=sequential_questions,
            crowd_seconds=crowd_seconds,
            diagnostic_seconds=diagnostic_seconds,
            say=say,
        )
    )
