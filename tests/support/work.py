"""Counting work instead of timing it: how many lines of a module's Python code a call runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import FrameType
from typing import Any


class TooMuchWork(AssertionError):
    """The call ran more lines than its budget allows (stopped there, so a test fails fast)."""


def lines_run(call: Callable[[], object], *, module_path: str, budget: int = 10**8) -> int:
    """How many line events `call` produces in code from files ending with `module_path`."""
    count = 0

    def local(frame: FrameType, event: str, arg: Any) -> Any:
        nonlocal count
        if event == "line":
            count += 1
            if count > budget:
                raise TooMuchWork(f"over {budget:,} lines of {module_path}")
        return local

    def outer(frame: FrameType, event: str, arg: Any) -> Any:
        return local if frame.f_code.co_filename.endswith(module_path) else None

    sys.settrace(outer)
    try:
        call()
    finally:
        sys.settrace(None)
    return count
