"""Sending to Telegram without losing messages: 429s waited out, transient failures retried,
and every message inside one overall budget in which replies to people go before digests."""

from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

MAX_TRACKED_CHATS = 50_000
# Telegram allows about 30 messages a second overall; a little under it, evenly spaced (not
# in bursts), keeps every 1-second window below the limit whatever the network does.
MESSAGES_PER_SECOND = 29.0
# Messages that count against the overall limit (chat actions and reads do not).
_BUDGETED_PREFIXES = ("send", "edit", "copyMessage", "forwardMessage")
_bulk: ContextVar[bool] = ContextVar("parley_bulk_delivery", default=False)


@contextmanager
def bulk_delivery() -> Iterator[None]:
    """Mark the sends made inside (by this task and those it starts) as bulk: digests."""
    token = _bulk.set(True)
    try:
        yield
    finally:
        _bulk.reset(token)


ApiResult = bool | dict[str, Any] | list[dict[str, Any]]
Callback = Callable[..., Coroutine[Any, Any, ApiResult]]


# Hand-written, unlike the per-chat pace: aiolimiter serves its waiters by amount and arrival
# only, so it cannot let a reply overtake digests already waiting.
class SendBudget:
    """Evenly spaced send slots shared by every message of the bot: one slot each
    1/per_second seconds. Urgent waiters (replies to people) take the next slot before any
    waiting bulk send (digests), so a fan-out never holds up a reply, and together they
    never exceed the overall rate."""

    URGENT, BULK = 0, 1

    def __init__(self, per_second: float = MESSAGES_PER_SECOND) -> None:
        self._interval = 1 / per_second
        self._last_slot = float("-inf")
        self._waiting: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    async def acquire(self, *, urgent: bool) -> None:
        """Wait for this message's slot."""
        loop = asyncio.get_running_loop()
        if not self._waiting and loop.time() >= self._last_slot + self._interval:
            self._last_slot = loop.time()
            return
        slot: asyncio.Future[None] = loop.create_future()
        rank = self.URGENT if urgent else self.BULK
        heapq.heappush(self._waiting, (rank, next(self._order), slot))
        self._arm(loop)
        await slot  # a cancelled waiter is skipped when its turn comes

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is None and self._waiting:
            delay = max(0.0, self._last_slot + self._interval - loop.time())
            self._timer = loop.call_later(delay, self._grant, loop)

    def _grant(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer = None
        while self._waiting:
            _, _, slot = heapq.heappop(self._waiting)
            if not slot.done():
                self._last_slot = loop.time()
                slot.set_result(None)
                break
        self._arm(loop)


@dataclass
class _ChatPace:
    """One chat's pace: its sends one at a time, at most one per interval (a leaky bucket)."""

    limiter: AsyncLimiter
    turn: asyncio.Lock = field(default_factory=asyncio.Lock)

    def idle(self) -> bool:
        """Nothing waiting and the bucket empty: a new pace would behave the same."""
        return not self.turn.locked() and self.limiter.has_capacity()


class DeliveryRateLimiter(AIORateLimiter):
    """PTB's limiter for groups (20 a minute) and RetryAfter, plus what PTB leaves to us:
    every message evenly paced under Telegram's ~30 a second overall, replies first and
    digests in the slots they leave; one message a second per chat; and retries with
    exponential backoff when the network fails on the way.

    A send that timed out is retried like any network failure, so that one message may
    arrive twice but is never lost (at-least-once)."""

    def __init__(
        self,
        *,
        max_retries: int = 5,
        network_retries: int = 4,
        backoff: float = 0.5,
        chat_interval: float = 1.0,
        per_second: float = MESSAGES_PER_SECOND,
    ):
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self._network_retries = network_retries
        self._backoff = backoff
        self._chat_interval = chat_interval
        self._paces: dict[object, _ChatPace] = {}
        self._budget = SendBudget(per_second)

    async def process_request(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        send = functools.partial(
            self._send, callback, args, kwargs, endpoint, data, rate_limit_args
        )
        chat_id = data.get("chat_id")
        if chat_id is None or not endpoint.startswith("send") or endpoint == "sendChatAction":
            return await send()
        pace = self._pace(chat_id)
        async with pace.turn:
            await pace.limiter.acquire()
            loop = asyncio.get_running_loop()
            taken = loop.time()
            try:
                return await send()
            finally:
                # The interval counts from Telegram's answer, not from the wait's end (which
                # the overall budget and retries may delay): top the bucket up by what leaked
                # meanwhile, so Telegram never sees two within the interval.
                leaked = (loop.time() - taken) / self._chat_interval
                await pace.limiter.acquire(min(leaked, 1.0))

    def _pace(self, chat_id: object) -> _ChatPace:
        if len(self._paces) > MAX_TRACKED_CHATS:
            for key in [key for key, pace in self._paces.items() if pace.idle()]:
                del self._paces[key]
        pace = self._paces.get(chat_id)
        if pace is None:
            pace = self._paces[chat_id] = _ChatPace(AsyncLimiter(1, self._chat_interval))
        return pace

    async def _send(
        self,
        callback: Callback,
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        attempt = 0
        while True:
            if _counts_as_message(endpoint):  # every attempt is a message Telegram counts
                await self._budget.acquire(urgent=not _bulk.get())
            try:
                return await super().process_request(
                    callback, args, kwargs, endpoint, data, rate_limit_args
                )
            except BadRequest:
                raise  # the request itself is wrong: sending it again cannot help
            except NetworkError as error:
                if attempt >= self._network_retries:
                    raise
                delay = self._backoff * 2**attempt
                attempt += 1
                log.warning("%s failed (%s); retry %d in %.1fs", endpoint, error, attempt, delay)
                await asyncio.sleep(delay)


def _counts_as_message(endpoint: str) -> bool:
    return endpoint.startswith(_BUDGETED_PREFIXES) and endpoint != "sendChatAction"
