"""Sending to Telegram without losing messages: 429s waited out, transient failures retried."""

from __future__ import annotations

import asyncio
import functools
import logging
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

MAX_TRACKED_CHATS = 50_000
# Telegram allows about 30 bulk messages a second; a little under it, evenly spaced (not in
# bursts), keeps every 1-second window below the limit whatever the network does.
BULK_PER_SECOND = 29.0
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


@dataclass
class _ChatPace:
    """When a chat may next receive a message; sends to one chat go one at a time."""

    turn: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready_at: float = 0.0


class DeliveryRateLimiter(AIORateLimiter):
    """PTB's limiter for groups (20 a minute) and RetryAfter, plus what PTB leaves to us:
    bulk sends evenly paced under Telegram's ~30 a second, one message a second per chat,
    and retries with exponential backoff when the network fails on the way. Replies to
    people are not held to the bulk pace: Telegram's overall limit is for broadcasts."""

    def __init__(
        self,
        *,
        max_retries: int = 5,
        network_retries: int = 4,
        backoff: float = 0.5,
        chat_interval: float = 1.0,
        bulk_per_second: float = BULK_PER_SECOND,
    ):
        super().__init__(overall_max_rate=0, max_retries=max_retries)
        self._network_retries = network_retries
        self._backoff = backoff
        self._chat_interval = chat_interval
        self._paces: dict[object, _ChatPace] = {}
        self._bulk_interval = 1 / bulk_per_second
        self._next_bulk_slot = 0.0

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
            loop = asyncio.get_running_loop()
            if (wait := pace.ready_at - loop.time()) > 0:
                await asyncio.sleep(wait)
            if _bulk.get():
                await self._bulk_slot()
            try:
                return await send()
            finally:
                # Counted from when the previous message was answered, not sent: Telegram
                # must never see two within the interval, however the network jitters.
                pace.ready_at = loop.time() + self._chat_interval

    async def _bulk_slot(self) -> None:
        """Wait for this send's turn in the evenly spaced bulk schedule."""
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next_bulk_slot)
        self._next_bulk_slot = slot + self._bulk_interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def _pace(self, chat_id: object) -> _ChatPace:
        if len(self._paces) > MAX_TRACKED_CHATS:
            now = asyncio.get_running_loop().time()
            idle = [
                key
                for key, pace in self._paces.items()
                if not pace.turn.locked() and pace.ready_at <= now
            ]
            for key in idle:  # a pace only matters until its chat may receive again
                del self._paces[key]
        return self._paces.setdefault(chat_id, _ChatPace())

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
