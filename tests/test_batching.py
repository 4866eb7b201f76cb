"""Concurrent questions are answered in batches, and failures reach every asker."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence

import pytest

from bot.batching import QuestionBatcher
from knowledge.answering import Answer
from knowledge.quotes import Citation, Quote


class RecordingAnswerer:
    """Answers with the question echoed; the first batch waits until released."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.release = threading.Event()

    def ask_many(self, questions: Sequence[str]) -> list[Answer]:
        self.batches.append(list(questions))
        if len(self.batches) == 1:
            self.release.wait(timeout=10)
        return [Answer(question, quotes=[_quote(f"re: {question}")]) for question in questions]


def _quote(text: str) -> Quote:
    citation = Citation("Title", "Source", None, "https://example.org/a", text, 1.0)
    return Quote(text, citation)


async def test_questions_arriving_while_workers_are_busy_share_one_batch() -> None:
    answerer = RecordingAnswerer()
    batcher = QuestionBatcher(answerer.ask_many, workers=1)

    first = asyncio.create_task(batcher.ask("q0"))
    await asyncio.sleep(0.05)
    others = [asyncio.create_task(batcher.ask(f"q{n}")) for n in range(1, 6)]
    await asyncio.sleep(0.05)
    answerer.release.set()
    answers = await asyncio.gather(first, *others)

    assert [answer.quote for answer in answers] == [f"re: q{n}" for n in range(6)]
    assert answerer.batches == [["q0"], ["q1", "q2", "q3", "q4", "q5"]]


async def test_a_failing_batch_fails_each_of_its_questions_and_the_next_still_runs() -> None:
    calls: list[int] = []

    def ask_many(questions: Sequence[str]) -> list[Answer]:
        calls.append(len(questions))
        if len(calls) == 1:
            raise RuntimeError("model crashed")
        return [Answer(question) for question in questions]

    batcher = QuestionBatcher(ask_many, workers=1)

    with pytest.raises(RuntimeError, match="model crashed"):
        await batcher.ask("first")
    assert (await batcher.ask("second")).question == "second"
