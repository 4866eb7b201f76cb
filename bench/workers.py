"""Answers per second through webhooks, with one and with two worker processes on PostgreSQL.

Each worker is a real `parley run --webhook` process with the real model; the local Bot API
server POSTs every update to a round-robin load balancer in front of them (as a reverse
proxy would in production). The archive is the seed articles on a throwaway PostgreSQL
server. `users` simulated users each ask an evaluation question, wait for the reply, and ask
the next one at once, each question from a new chat (Telegram allows one message a second
per chat, which would otherwise cap the rate, not Parley). Figures count replies inside a
window after a warm-up; the workers share the machine's cores with the load generator.
"""

from __future__ import annotations

import itertools
import tempfile
import threading
import time
from pathlib import Path

from bench.archive import Say
from bench.botapi import Question, bot_settings, evaluation_questions, local_bot_api
from bench.stats import latency_summary
from knowledge.embedding import Embedder
from parley.services import build_services
from playground.bot_api import BotApiServer, MessagesTimeout
from playground.load_balancer import LoadBalancer
from tests.support.postgres import PostgresServer
from tests.support.webhook_workers import WEBHOOK_PATH, Worker, free_port, worker_env

WARM_UP_SECONDS = 10.0
REPLY_TIMEOUT = 120.0


def run(
    *, users: int, seconds: float, embedder: Embedder, say: Say, worker_counts: tuple[int, ...]
) -> dict[str, object]:
    """Answers per second for each number of workers, on one seeded PostgreSQL archive."""
    results: dict[str, object] = {"users": users, "window_seconds": seconds}
    postgres = PostgresServer.start()
    try:
        database_url = postgres.create_database()
        _seed(database_url, embedder)
        for count in worker_counts:
            say(f"workers: {count} webhook worker(s), {users} users, {seconds:.0f} s")
            results[f"workers_{count}"] = _measure(count, users, seconds, database_url)
    finally:
        postgres.stop()
    one, two = results.get("workers_1"), results.get("workers_2")
    if isinstance(one, dict) and isinstance(two, dict) and one["answers_per_second"]:
        results["speed_up_2_vs_1"] = round(two["answers_per_second"] / one["answers_per_second"], 2)
    return results


def _seed(database_url: str, embedder: Embedder) -> None:
    services = build_services(bot_settings(database_url), embedder=embedder)
    try:
        services.seed_if_empty()
    finally:
        services.close()


def _measure(count: int, users: int, seconds: float, database_url: str) -> dict[str, object]:
    with (
        tempfile.TemporaryDirectory(prefix="parley-workers-bench-") as folder,
        local_bot_api() as server,
    ):
        ports = [free_port() for _ in range(count)]
        with LoadBalancer([f"http://127.0.0.1:{port}" for port in ports]) as balancer:
            workers = [
                Worker(
                    f"w{number}",
                    worker_env(
                        name=f"w{number}",
                        database_url=database_url,
                        bot_api_url=server.url,
                        webhook_url=f"{balancer.url}{WEBHOOK_PATH}",
                        port=port,
                        LOG_LEVEL="WARNING",
                    ),
                    Path(folder),
                    real_model=True,
                )
                for number, port in enumerate(ports)
            ]
            try:
                started = time.perf_counter()
                for worker in workers:
                    worker.wait_until_listening()
                ready = time.perf_counter() - started
                figures = _load(server, users, seconds)
                figures["share_per_worker"] = sorted(balancer.answered.values())
                figures["start_seconds"] = round(ready, 1)
            finally:
                for worker in workers:
                    worker.stop()
    return figures


def _load(server: BotApiServer, users: int, seconds: float) -> dict[str, object]:
    """Closed-loop users for a warm-up and then the measured window."""
    questions = evaluation_questions()
    chats = itertools.count(10_000)
    lock = threading.Lock()
    start = time.perf_counter()
    window = (start + WARM_UP_SECONDS, start + WARM_UP_SECONDS + seconds)
    latencies: list[float] = []
    correct, failures = [0], [0]

    def user(offset: int) -> None:
        for number in itertools.count(offset):
            question: Question = questions[number % len(questions)]
            with lock:
                chat_id = next(chats)
            asked = time.perf_counter()
            if asked >= window[1]:
                return
            server.send_user_message(chat_id=chat_id, text=question.text)
            try:
                [reply] = server.wait_for_messages(chat_id, 1, timeout=REPLY_TIMEOUT)
            except MessagesTimeout:
                with lock:
                    failures[0] += 1
                continue
            answered = time.perf_counter()
            if window[0] <= answered < window[1]:
                with lock:
                    latencies.append(answered - asked)
                    correct[0] += question.answered_by(reply["text"])

    threads = [threading.Thread(target=user, args=(n * 7,), daemon=True) for n in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "answers_per_second": round(len(latencies) / seconds, 2),
        "answers": len(latencies),
        "answered_as_expected": round(correct[0] / max(1, len(latencies)), 3),
        "timeouts": failures[0],
        "latency_ms": latency_summary(latencies),
    }
