"""Sending to Telegram without losing messages: 429s waited out, transient failures retried."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram.error import BadRequest, NetworkError
from telegram.ext import AIORateLimiter

log = logging.getLogger(__name__)

ApiResult = bool | dict[str, Any] | list[dict[str, Any]]


class DeliveryRateLimiter(AIORateLimiter):
    """PTB's limiter (overall and group limits, waits out RetryAfter), plus retries with
    exponential backoff when the network fails on the way."""

    def __init__(self, *, max_retries: int = 5, network_retries: int = 4, backoff: float = 0.5):
        super().__init__(max_retries=max_retries)
        self._network_retries = network_retries
        self._backoff = backoff

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, ApiResult]],
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
