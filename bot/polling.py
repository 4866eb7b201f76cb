"""Scheduled work on PTB's JobQueue: polling sources, sending digests, telling admins."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes, JobQueue

from bot import replies
from bot.context import BotServices, services
from bot.leadership import leads
from web.source_manager import SourceCheck

log = logging.getLogger(__name__)
DIGEST_RETRY_SECONDS = 60
POLL_JOB_PREFIX = "poll-source-"


def _job_name(source_id: int) -> str:
    return f"{POLL_JOB_PREFIX}{source_id}"


def schedule_all(application: Application, bot_services: BotServices) -> None:  # type: ignore[type-arg]
    """Poll every active source, spread evenly over one interval; resume pending digests."""
    queue = _queue(application)
    source_ids = bot_services.source_manager.polled_source_ids()
    interval = bot_services.poll_seconds
    for position, source_id in enumerate(source_ids):
        first = interval * (position + 1) / (len(source_ids) + 1)
        schedule_source(queue, source_id, interval, first=first)
    # Digests left pending by a crash or a restart go out as soon as the queue starts, however
    # late that is after this call (post_init runs before it), and any stragglers later.
    queue.run_once(send_digests, when=0, name="digests", job_kwargs={"misfire_grace_time": None})
    queue.run_repeating(
        send_digests, interval=DIGEST_RETRY_SECONDS, first=DIGEST_RETRY_SECONDS, name="digests"
    )
    schedule_catch_up(application, bot_services)


def schedule_catch_up(application: Application, bot_services: BotServices) -> None:  # type: ignore[type-arg]
    """Keep this worker in step with every other process on every worker, leader or not:
    catch up on an interval, and at once on PostgreSQL's notifications."""
    interval = bot_services.catch_up_seconds
    _queue(application).run_repeating(catch_up, interval=interval, first=interval, name="catch-up")
    bot_services.core.follow_changes()


async def catch_up(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Take in what other processes wrote: articles and re-indexes into the indexes, sources
    added or removed into the polling jobs."""
    bot_services = services(context)
    await asyncio.to_thread(bot_services.core.follower.catch_up)
    source_ids = await asyncio.to_thread(bot_services.source_manager.polled_source_ids)
    assert context.job_queue is not None
    reconcile_sources(context.job_queue, source_ids, bot_services.poll_seconds)


def reconcile_sources(queue: JobQueue, source_ids: Iterable[int], interval: float) -> None:  # type: ignore[type-arg]
    """Poll exactly these sources: schedule the new ones, drop the ones no longer active.
    A new one was fetched when it was added, so its first poll comes one interval later."""
    active = set(source_ids)
    scheduled = _scheduled_source_ids(queue)
    for source_id in sorted(active - scheduled):
        log.info("Polling source #%d, added by another process", source_id)
        schedule_source(queue, source_id, interval, first=interval)
    for source_id in sorted(scheduled - active):
        log.info("No longer polling source #%d, removed or deactivated", source_id)
        unschedule_source(queue, source_id)


def _scheduled_source_ids(queue: JobQueue) -> set[int]:  # type: ignore[type-arg]
    return {
        job.data
        for job in queue.jobs()
        if job.name is not None
        and job.name.startswith(POLL_JOB_PREFIX)
        and isinstance(job.data, int)
        and not job.removed
    }


def schedule_source(queue: JobQueue, source_id: int, interval: float, *, first: float) -> None:  # type: ignore[type-arg]
    """Poll one source every interval, starting after `first` seconds."""
    unschedule_source(queue, source_id)
    queue.run_repeating(
        poll_source, interval=interval, first=first, data=source_id, name=_job_name(source_id)
    )


def unschedule_source(queue: JobQueue, source_id: int) -> None:  # type: ignore[type-arg]
    """Stop polling a source."""
    for job in queue.get_jobs_by_name(_job_name(source_id)):
        job.schedule_removal()


async def poll_source(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Poll one source; new articles go out as digests, a source that keeps failing is
    deactivated and the admins are told."""
    assert context.job is not None
    if not leads(context):  # another worker polls
        return
    source_id = context.job.data
    assert isinstance(source_id, int)
    bot_services = services(context)
    check = await bot_services.source_manager.poll(source_id)
    if check is None:
        return
    if check.deactivated:
        context.job.schedule_removal()
        await notify_admins(context, bot_services, check)
    if check.stored:
        log.info("Source #%d brought %d new articles", source_id, len(check.stored))
        await bot_services.digests.send_pending(context.bot)


async def send_digests(context: ContextTypes.DEFAULT_TYPE) -> None:
    """Send whatever digests are waiting, if this worker leads: one sender across workers
    keeps every digest part exactly once."""
    if leads(context):
        await services(context).digests.send_pending(context.bot)


async def notify_admins(
    context: ContextTypes.DEFAULT_TYPE, bot_services: BotServices, check: SourceCheck
) -> None:
    """Tell every admin that a source was deactivated, and why."""
    for admin_id in sorted(bot_services.admin_ids):
        try:
            for text in replies.source_deactivated(check):
                await context.bot.send_message(admin_id, text)
        except TelegramError as error:
            log.warning(
                "Could not tell admin %s about source #%d: %s", admin_id, check.source_id, error
            )


def _queue(application: Application) -> JobQueue:  # type: ignore[type-arg]
    if application.job_queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    return application.job_queue
