"""Answering concurrent questions in batches, on worker threads off the event loop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from knowledge.answering import Answer

AskMany = Callable[[Sequence[str]], list[Answer]]


class QuestionBatcher:
    """Questions that arrive while the workers are busy wait and go together in the next
    batch: one model call for many questions is far cheaper than many calls competing for
    the cores. Two workers, so one slow batch never holds up every other chat."""

    def __init__(self, ask_many: AskMany, *, workers: int = 2, max_batch: int = 32) -> None:
        self._ask_many = ask_many
        self._workers = workers
        self._max_batch = max_batch
        self._busy = 0
        self._waiting: list[tuple[str, asyncio.Future[Answer]]] = []
        self._tasks: set[asyncio.Task[None]] = set()

    async def ask(self, question: str) -> Answer:
        """Answer one question, batched with whatever else is waiting."""
        future: asyncio.Future[Answer] = asyncio.get_running_loop().create_future()
        self._waiting.append((question, future))
        self._start_batches()
        return await future

    def _start_batches(self) -> None:
        while self._waiting and self._busy < self._workers:
            batch = self._waiting[: self._max_batch]
            del self._waiting[: self._max_batch]
            self._busy += 1
            task = asyncio.create_task(self._answer(batch))
            self._tasks.add(task)  # keep a reference until it is done
            task.add_done_callback(self._tasks.discard)

    async def _answer(self, batch: list[tuple[str, asyncio.Future[Answer]]]) -> None:
        try:
            answers = await asyncio.to_thread(self._ask_many, [q for q, _ in batch])
        except Exception as error:  # every asker hears of the failure, none waits forever
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
        else:
            for (_, future), answer in zip(batch, answers, strict=True):
                if not future.done():
                    future.set_result(answer)
        finally:
            self._busy -= 1
            self._start_batches()
