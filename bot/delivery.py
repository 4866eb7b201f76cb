"""Sending to Telegram without losing messages: 429s waited out, transient failures retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from aiolimiter import AsyncLimiter
from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

MAX_TRACKED_CHATS = 50_000
ApiResult = bool | dict[str, Any] | list[dict[str, Any]]


class DeliveryRateLimiter(AIORateLimiter):
    """PTB's limiter (about 30 messages a second overall, 20 a minute per group, RetryAfter
    waited out), plus Telegram's one message a second per chat, which PTB leaves to us, and
    retries with exponential backoff when the network fails on the way."""

    def __init__(
        self,
        *,
        max_retries: int = 5,
        network_retries: int = 4,
        backoff: float = 0.5,
        per_chat_per_second: float = 1.0,
    ):
        super().__init__(max_retries=max_retries)
        self._network_retries = network_retries
        self._backoff = backoff
        self._per_chat = per_chat_per_second
        self._chat_limiters: dict[object, AsyncLimiter] = {}

    def _chat_limiter(self, endpoint: str, data: dict[str, Any]) -> AsyncLimiter | None:
        chat_id = data.get("chat_id")
        if chat_id is None or not endpoint.startswith("send") or endpoint == "sendChatAction":
            return None
        if len(self._chat_limiters) > MAX_TRACKED_CHATS:
            self._chat_limiters.clear()  # a limiter only matters for a second after its use
        limiter = self._chat_limiters.get(chat_id)
        if limiter is None:
            limiter = self._chat_limiters[chat_id] = AsyncLimiter(1, 1 / self._per_chat)
        return limiter

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> ApiResult:
        chat_limiter = self._chat_limiter(endpoint, data)
        if chat_limiter is not None:
            await chat_limiter.acquire()
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
