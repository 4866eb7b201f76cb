"""Digest fan-out: every pending digest sent part by part, each part recorded as soon as
Telegram accepts it, so that a digest cut short resumes with its next part.

Delivery is at-least-once per part: a part whose send failed or timed out is sent again
(Telegram may have shown it already), but a part Telegram accepted is never sent again,
unless the process is killed between Telegram's answer and the record of it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any, TypeVar

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from telegram import Bot
from telegram.error import BadRequest, ChatMigrated, Forbidden, TelegramError

from bot import replies
from bot.delivery import bulk_delivery
from bot.plain_text import html_to_plain, split_plain
from knowledge.stories import group_stories
from storage import deliveries, news, paces, subscriptions
from storage.articles import ArticleSummary
from storage.deliveries import Batch, Part
from storage.models import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

# Telegram's words for a chat that is gone for good (as opposed to a message it refused).
_GONE = (
    "chat not found",
    "peer_id_invalid",
    "user is deactivated",
    "bot was kicked",
    "chat was deleted",
    "group chat was deactivated",
)
MAX_REMEMBERED_PROBLEMS = 1000


class Outcome(Enum):
    """How sending one digest ended."""

    SENT = "sent"
    GONE = "gone"  # the chat blocked the bot or no longer exists: unsubscribed
    FAILED = "failed"  # stays pending, resumes with the part that failed
    MOVED = "moved"  # the group became a supergroup: its digests moved to the new chat


@dataclass
class FanoutReport:
    """What one fan-out did."""

    sent: int = 0
    blocked: int = 0
    failed: int = 0
    moved: int = 0


class NotRecorded(Exception):
    """Telegram accepted a part, but the database would not record it."""


class DigestSender:
    """Sends each subscriber its pending digests; records every part Telegram accepts."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        admin_ids: frozenset[int] = frozenset(),
        concurrency: int = 32,
        record_attempts: int = 3,
        record_backoff: float = 0.2,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._clock = clock  # naive UTC now; decides which daily and weekly summaries are due
        self._admin_ids = admin_ids
        self._concurrency = concurrency
        self._record_attempts = record_attempts
        self._record_backoff = record_backoff
        self._running = asyncio.Lock()
        self._stopping = False
        # Parts Telegram accepted that the database has not recorded yet (batch id → count):
        # the next attempt records them first and goes on from there instead of resending.
        self._unrecorded: dict[int, int] = {}
        self._told_admins: set[tuple[str, tuple[int, ...]]] = set()
        self._chat_locks: dict[int, asyncio.Lock] = {}

    def stop(self) -> None:
        """Start no new digest; those under way finish and are recorded (for a clean exit)."""
        self._stopping = True

    async def send_pending(self, bot: Bot) -> FanoutReport:
        """Send every waiting digest. Fan-outs never overlap: a second call waits for the
        first. One chat's unexpected failure cancels the others (each finishing and recording
        the part it is sending); what is left stays pending."""
        async with self._running:
            chats = await asyncio.to_thread(self._pending_chats)
            report = FanoutReport()
            gate = asyncio.Semaphore(self._concurrency)
            try:
                with bulk_delivery():
                    async with asyncio.TaskGroup() as group:
                        for chat_id in chats:
                            group.create_task(self._send_gated(bot, chat_id, report, gate))
            finally:
                self._chat_locks.clear()
            if chats:
                log.info(
                    "Digests: %d sent, %d blocked, %d failed, %d moved",
                    report.sent,
                    report.blocked,
                    report.failed,
                    report.moved,
                )
            return report

    async def _send_gated(
        self, bot: Bot, chat_id: int, report: FanoutReport, gate: asyncio.Semaphore
    ) -> None:
        async with gate:
            if not self._stopping:  # the rest stays pending for the next start
                await self._send_chat(bot, chat_id, report)

    async def _send_chat(self, bot: Bot, chat_id: int, report: FanoutReport) -> None:
        """Finish the chat's unfinished digest, then send one of whatever else is waiting;
        when the chat turns out to have moved, carry on in its new chat."""
        moves = 0
        while True:
            # One sender per chat at a time, even when a moved digest lands on a chat that
            # has a task of its own in this fan-out.
            async with self._chat_locks.setdefault(chat_id, asyncio.Lock()):
                batch = await asyncio.to_thread(self._next_batch, chat_id)
                if batch is None:
                    return
                outcome, moved_to = await self._send_batch(bot, batch)
            if outcome is Outcome.MOVED and moved_to is not None and moves == 0:
                report.moved, moves, chat_id = report.moved + 1, 1, moved_to
                continue
            if outcome is Outcome.GONE:
                report.blocked += 1
            elif outcome is Outcome.SENT:
                report.sent += 1
            else:
                report.failed += 1
            if outcome is not Outcome.SENT or self._stopping:
                return

    async def _send_batch(self, bot: Bot, batch: Batch) -> tuple[Outcome, int | None]:
        """Send the parts not sent yet; (how it ended, the chat's new id if it moved)."""
        index = max(batch.parts_sent, self._unrecorded.get(batch.id, 0))
        if index > batch.parts_sent and not await self._record(batch.id, index):
            return Outcome.FAILED, None
        while index < len(batch.parts):
            try:
                await _uninterrupted(self._send_part(bot, batch, index))
            except ChatMigrated as error:
                new_chat_id = int(error.new_chat_id)
                log.info("Chat %s moved to %s; its digests follow", batch.chat_id, new_chat_id)
                await asyncio.to_thread(self._move, batch.chat_id, new_chat_id)
                return Outcome.MOVED, new_chat_id
            except (Forbidden, BadRequest) as error:
                if isinstance(error, Forbidden) or _chat_is_gone(error):
                    log.info("Digest to %s not delivered (%s); unsubscribing", batch.chat_id, error)
                    await asyncio.to_thread(self._end, batch.chat_id)
                    return Outcome.GONE, None
                refused = await self._refused(bot, batch, index, error)
                if refused is None:
                    return Outcome.FAILED, None
                batch = refused
                continue
            except NotRecorded:
                return Outcome.FAILED, None
            except TelegramError as error:
                log.warning(
                    "Digest to %s failed at part %d of %d (%s); it stays pending",
                    batch.chat_id,
                    index + 1,
                    len(batch.parts),
                    error,
                )
                return Outcome.FAILED, None
            index += 1
        return Outcome.SENT, None

    async def _send_part(self, bot: Bot, batch: Batch, index: int) -> None:
        """Send one part and record it; raises NotRecorded when the record failed."""
        part = batch.parts[index]
        if part.html:  # HTML without link previews: the application's Defaults
            await bot.send_message(batch.chat_id, part.text)
        else:  # an explicit None overrides the Defaults' HTML: Telegram gets no parse mode
            await bot.send_message(batch.chat_id, part.text, parse_mode=None)
        if not await self._record(batch.id, index + 1):
            raise NotRecorded(f"digest {batch.id}, part {index + 1}")

    async def _record(self, batch_id: int, parts_sent: int) -> bool:
        """Record progress, retrying a failing database; remember it in memory meanwhile."""
        self._unrecorded[batch_id] = max(parts_sent, self._unrecorded.get(batch_id, 0))
        for attempt in range(self._record_attempts):
            try:
                await asyncio.to_thread(self._store_progress, batch_id, parts_sent)
            except SQLAlchemyError as error:
                log.warning("Could not record digest %d's progress: %s", batch_id, error)
                await asyncio.sleep(self._record_backoff * 2**attempt)
                continue
            if self._unrecorded.get(batch_id, 0) <= parts_sent:
                self._unrecorded.pop(batch_id, None)
            return True
        return False

    async def _refused(self, bot: Bot, batch: Batch, index: int, error: BadRequest) -> Batch | None:
        """Telegram refused a part's content: keep the digest, tell the admins once, and put
        a plain-text rendering of the part in its place (None when it was plain already)."""
        part = batch.parts[index]
        log.warning(
            "Digest to %s refused at part %d (%s); articles %s",
            batch.chat_id,
            index + 1,
            error.message,
            list(batch.article_ids),
        )
        await asyncio.to_thread(self._note_problem, batch.id, error.message)
        await self._tell_admins(bot, batch, error.message, as_plain_text=part.html)
        if not part.html:
            return None
        plain = [Part(text, html=False) for text in split_plain(html_to_plain(part.text))]
        return await asyncio.to_thread(self._replace_part, batch.id, index, plain)

    async def _tell_admins(
        self, bot: Bot, batch: Batch, problem: str, *, as_plain_text: bool
    ) -> None:
        """Once per problem and set of articles, however many chats and minutes it spans."""
        key = (f"{problem} plain={as_plain_text}", batch.article_ids)
        if key in self._told_admins:
            return
        if len(self._told_admins) >= MAX_REMEMBERED_PROBLEMS:
            self._told_admins.clear()
        self._told_admins.add(key)
        notice = replies.digest_refused(
            batch.chat_id, problem, batch.article_ids, as_plain_text=as_plain_text
        )
        for admin_id in sorted(self._admin_ids):
            try:
                for text in notice:
                    await bot.send_message(admin_id, text)
            except TelegramError as failure:
                log.warning("Could not tell admin %s about a refused digest: %s", admin_id, failure)

    # -- the database, called off the event loop ----------------------------------------
    def _pending_chats(self) -> list[int]:
        """Chats with something to send now: digests under way, articles waiting for an
        immediate chat, or a daily or weekly summary that is due."""
        with self._sessions.begin() as session:
            paces.advance_idle(session, now=self._clock())
            return deliveries.chats_with_pending(session, now=self._clock())

    def _next_batch(self, chat_id: int) -> Batch | None:
        """The chat's unfinished digest, else a new one of its waiting articles."""
        with self._sessions.begin() as session:
            batch = deliveries.open_batch(session, chat_id=chat_id)
            if batch is not None:
                return batch
            now = self._clock()
            if not paces.is_due(session, chat_id=chat_id, now=now):
                return None  # its articles wait for the chat's daily or weekly summary
            delivery_ids, articles = deliveries.pending_for_chat(session, chat_id=chat_id)
            if not delivery_ids:
                return None
            # The summary and the chat's next moment are recorded together: it goes out once.
            paces.advance(session, chat_id=chat_id, now=now)
            parts = [Part(text) for text in render_digest(session, articles)]
            return deliveries.start_batch(
                session, chat_id=chat_id, delivery_ids=delivery_ids, parts=parts
            )

    def _store_progress(self, batch_id: int, parts_sent: int) -> None:
        with self._sessions.begin() as session:
            deliveries.record_parts_sent(session, batch_id=batch_id, parts_sent=parts_sent)

    def _note_problem(self, batch_id: int, problem: str) -> None:
        with self._sessions.begin() as session:
            deliveries.record_problem(session, batch_id=batch_id, problem=problem)

    def _replace_part(self, batch_id: int, index: int, parts: list[Part]) -> Batch:
        with self._sessions.begin() as session:
            return deliveries.replace_part(session, batch_id=batch_id, index=index, parts=parts)

    def _move(self, old_chat_id: int, new_chat_id: int) -> None:
        with self._sessions.begin() as session:
            subscriptions.move_chat(session, old_chat_id=old_chat_id, new_chat_id=new_chat_id)

    def _end(self, chat_id: int) -> None:
        with self._sessions.begin() as session:
            subscriptions.unsubscribe(session, chat_id=chat_id, reason="blocked")
            deliveries.skip_chat(session, chat_id=chat_id)


def _chat_is_gone(error: BadRequest) -> bool:
    description = error.message.lower()
    return any(words in description for words in _GONE)


async def _uninterrupted(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end even when the caller is cancelled meanwhile, so that a part
    Telegram accepted is always recorded before the cancellation goes on."""
    task = asyncio.ensure_future(work)
    try:
        return await asyncio.shield(task)
    except asyncio.CancelledError:
        await asyncio.wait([task])
        if not task.cancelled():
            task.exception()  # retrieved: the cancellation is what the caller sees
        raise


def render_digest(session: Session, articles: list[ArticleSummary]) -> list[str]:
    """A digest's messages: several outlets' articles about one event make one entry
    (knowledge.stories)."""
    vectors = news.article_vectors(session, ids=[article.id for article in articles])
    return replies.digest(group_stories(articles, vectors))
