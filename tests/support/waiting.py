"""Waiting for an event in tests: return as soon as it happens; the timeout only bounds a
broken system (a busy machine may use any part of it), so nothing here measures speed."""

from __future__ import annotations

import time
from collections.abc import Callable


class NeverHappened(AssertionError):
    """What a test waited for did not happen within the guard."""


def wait_until(condition: Callable[[], bool], timeout: float = 120, what: str = "") -> None:
    """Block until the condition holds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise NeverHappened(f"never happened: {what or 'the condition'}")
        time.sleep(0.05)
