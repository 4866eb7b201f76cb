"""Digest fan-out: every pending delivery sent once, resumable after a crash."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot import replies
from bot.delivery import bulk_delivery
from storage import deliveries, subscriptions
from storage.sources import ArticleSummary

log = logging.getLogger(__name__)


@dataclass
class FanoutReport:
    """What one fan-out did."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0


class DigestSender:
    """Sends each subscriber one digest of its pending articles; records every delivery."""

    def __init__(self, sessions: sessionmaker[Session], *, concurrency: int = 32) -> None:
        self._sessions = sessions
        self._concurrency = concurrency
        self._running = asyncio.Lock()
        self._stopping = False

    def stop(self) -> None:
        """Start no new digest; those under way finish and are recorded (for a clean exit)."""
        self._stopping = True

    async def send_pending(self, bot: Bot) -> FanoutReport:
        """Send every waiting digest; a second call while one runs waits for it."""
        async with self._running:
            chats = await asyncio.to_thread(self._pending_chats)
            report = FanoutReport()
            gate = asyncio.Semaphore(self._concurrency)

            async def send(chat_id: int) -> None:
                async with gate:
                    if not self._stopping:  # the rest stays pending for the next start
                        await self._send_chat(bot, chat_id, report)

            with bulk_delivery():
                await asyncio.gather(*(send(chat_id) for chat_id in chats))
            if chats:
                log.info(
                    "Digests: %d sent, %d blocked, %d failed",
                    report.sent,
                    report.blocked,
                    report.failed,
                )
            return report

    def _pending_chats(self) -> list[int]:
        with self._sessions() as session:
            return deliveries.chats_with_pending(session)

    async def _send_chat(self, bot: Bot, chat_id: int, report: FanoutReport) -> None:
        delivery_ids, articles = await asyncio.to_thread(self._pending, chat_id)
        if not delivery_ids:
            return
        try:
            for text in replies.digest(articles):
                await bot.send_message(
                    chat_id, text, parse_mode=ParseMode.HTML, disable_web_page_preview=True
                )
        except (Forbidden, BadRequest) as error:
            # Blocked, kicked, or the chat is gone: stop sending there, keep the others going.
            log.info("Digest to %s not delivered (%s); unsubscribing it", chat_id, error)
            await asyncio.to_thread(self._end, chat_id)
            report.blocked += 1
            return
        except TelegramError as error:
            log.warning("Digest to %s failed (%s); it stays pending", chat_id, error)
            report.failed += 1
            return
        # Recorded right after Telegram accepted it: a crash can only fall in between.
        await asyncio.to_thread(self._mark_sent, delivery_ids)
        report.sent += 1

    def _pending(self, chat_id: int) -> tuple[list[int], list[ArticleSummary]]:
        with self._sessions() as session:
            return deliveries.pending_for_chat(session, chat_id=chat_id)

    def _mark_sent(self, delivery_ids: list[int]) -> None:
        with self._sessions.begin() as session:
            deliveries.mark(session, delivery_ids=delivery_ids, status=deliveries.SENT)

    def _end(self, chat_id: int) -> None:
        with self._sessions.begin() as session:
            subscriptions.unsubscribe(session, chat_id=chat_id, reason="blocked")
            deliveries.skip_chat(session, chat_id=chat_id)
