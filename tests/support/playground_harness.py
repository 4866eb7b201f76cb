"""`parley playground` in-process: the chat page, the local Bot API and the real bot, with the
bot polling on a thread of its own so that a synchronous browser driver can use the page."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from types import TracebackType
from typing import Any

from bot.app import start_bot, stop_bot
from knowledge.embedding import Embedder
from parley.playground import Playground, open_playground
from parley.settings import Settings

START_TIMEOUT = 60.0  # seconds; seeding the archive embeds the seed articles first


class BackgroundPlayground:
    """The playground on a free port of 127.0.0.1, built as `parley playground` builds it."""

    def __init__(self, settings: Settings, embedder: Embedder) -> None:
        self._settings, self._embedder = settings, embedder
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="playground-bot")
        self._playground: Playground | None = None

    @property
    def playground(self) -> Playground:
        """The running playground."""
        assert self._playground is not None, "the playground is not running"
        return self._playground

    @property
    def url(self) -> str:
        """The chat page's address."""
        return self.playground.url

    def __enter__(self) -> BackgroundPlayground:
        self._playground = open_playground(self._settings, port=0, embedder=self._embedder)
        self._thread.start()
        try:
            self._run(start_bot(self.playground.application))
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._playground is None:
            return
        try:
            self._run(stop_bot(self._playground.application))
        finally:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join()
            self._loop.close()
            self._playground.close()
            self._playground = None

    def _run(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=START_TIMEOUT)
