"""One scheduler leader among several workers: only the worker holding the "scheduler" lease
polls sources and sends digests; every worker answers.

Each worker asks for the lease on PTB's JobQueue every third of `LEADER_LEASE_SECONDS`; the
leader's request renews it. A leader that dies (SIGKILL, a lost machine) stops renewing, and
another worker takes over once the lease runs out: within one lease and one renewal interval.
A clean stop gives the lease up at once. On one machine with one process it is simply always
the leader.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable

from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from telegram.ext import Application, ContextTypes

from storage import leadership

log = logging.getLogger(__name__)
LEADERSHIP_KEY = "parley-leadership"
SCHEDULER = "scheduler"


def worker_name() -> str:
    """Which worker this is, for the lease and the logs: host, process id and a random part
    (a restarted container may reuse its process id)."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class Leadership:
    """Whether this worker leads the scheduled work, kept by renewing its lease."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        lease_seconds: float,
        holder: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.holder = holder or worker_name()
        self.lease_seconds = lease_seconds
        self._sessions = sessions
        self._clock = clock
        self._valid_until = float("-inf")

    @property
    def renew_seconds(self) -> float:
        """How often to renew: three tries before the lease runs out."""
        return self.lease_seconds / 3

    @property
    def leading(self) -> bool:
        """Whether this worker may do the leader's work now. Judged by its own clock from the
        moment it asked, so a worker that cannot renew (database gone) stops before anyone
        else may start."""
        return self._clock() < self._valid_until

    def renew(self) -> bool:
        """Take or renew the lease (blocking); whether this worker now leads."""
        asked_at = self._clock()
        try:
            with self._sessions() as session:
                won = leadership.claim(
                    session, name=SCHEDULER, holder=self.holder, lease_seconds=self.lease_seconds
                )
        except SQLAlchemyError as error:
            log.warning("Could not renew the scheduler lease: %s", error)
            return self.leading
        was_leading = self.leading
        self._valid_until = asked_at + self.lease_seconds if won else float("-inf")
        if won != was_leading:
            log.info("Worker %s %s", self.holder, "leads" if won else "no longer leads")
        return won

    def release(self) -> None:
        """Give the lease up (blocking), so another worker takes over at once."""
        if not self.leading:
            return
        self._valid_until = float("-inf")
        try:
            with self._sessions() as session:
                leadership.release(session, name=SCHEDULER, holder=self.holder)
        except SQLAlchemyError as error:  # it runs out by itself
            log.warning("Could not give the scheduler lease up: %s", error)


def leadership_of(application: Application) -> Leadership:  # type: ignore[type-arg]
    """The leadership this application was built with."""
    found = application.bot_data[LEADERSHIP_KEY]
    assert isinstance(found, Leadership)
    return found


def leads(context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Whether this worker should do the leader's scheduled work now."""
    return leadership_of(context.application).leading


def schedule_leadership(
    application: Application,  # type: ignore[type-arg]
    on_gained: Callable[[ContextTypes.DEFAULT_TYPE], object],
) -> None:
    """Ask for the lease now and every renewal interval; `on_gained` runs (as a job) each time
    this worker becomes the leader, so work left by the previous one resumes at once."""
    queue = application.job_queue
    if queue is None:
        raise RuntimeError("python-telegram-bot was installed without its job-queue extra")
    current = leadership_of(application)

    async def renew(context: ContextTypes.DEFAULT_TYPE) -> None:
        was_leading = current.leading
        if await asyncio.to_thread(current.renew) and not was_leading and context.job_queue:
            context.job_queue.run_once(on_gained, when=0, name="leader-resume")  # type: ignore[arg-type]

    queue.run_repeating(
        renew,
        interval=current.renew_seconds,
        first=0,
        name="leader-lease",
        job_kwargs={"misfire_grace_time": None},
    )
