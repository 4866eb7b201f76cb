"""Keeping a mapped index's pages out of the process once a search has read them.

A search reads the codes of a few inverted lists from the mapped index file; the kernel maps
the pages it reads, and those around them, into the process, and there they stay: at 1M
passages the index's ~400 MiB became resident over ~1,000 searches and the bot's resident
memory passed 1 GiB (README Performance). Those pages are clean copies of the file, so every
RELEASE_EVERY searches they are dropped from the process (`madvise(MADV_DONTNEED)`): the
kernel keeps them in its page cache, and the next search maps the few it needs again, a minor
fault each with no disk read. Measured at 1M in one process, 300 searches each way: the
index's resident pages 319 MiB without releasing, 0-50 MiB releasing every 50 searches;
dense p50/p95 0.28/0.42 against 0.34/0.45 ms; one release of the whole 394 MiB span ~5 ms.
`bench.probe` (1,000 searches after the first answer): peak RSS at 1M 1,153 -> 857 MiB.

Only the span between the first and the last list's codes is released, page-aligned inward
to the pages that hold them: every page of it belongs to the index's own mapping, which its
owner keeps alive while it searches, so no other memory is ever touched.
"""

from __future__ import annotations

import ctypes
import logging
import mmap
from collections.abc import Callable

logger = logging.getLogger(__name__)

RELEASE_EVERY = 32  # searches; ~1 MiB each becomes resident at 1M passages
Span = tuple[int, int]  # start address and length, whole pages


def page_span(first: int, end: int) -> Span | None:
    """The whole pages holding the bytes [first, end), or None when there are none."""
    if end <= first:
        return None
    start = first - first % mmap.PAGESIZE
    stop = end + (-end) % mmap.PAGESIZE
    return start, stop - start


def _madvise() -> Callable[[int, int], bool] | None:
    """madvise(MADV_DONTNEED) from the C library, where there is one (Linux)."""
    advice = getattr(mmap, "MADV_DONTNEED", None)
    try:
        function = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    if advice is None:
        return None
    function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    function.restype = ctypes.c_int

    def release(start: int, length: int) -> bool:
        return bool(function(start, length, advice) == 0)

    return release


class MappedPages:
    """Counts the searches of one mapped index and releases its pages every RELEASE_EVERY.
    `codes` gives where the index's codes lie (EngineIndex.codes_span); it is asked at the
    first release, not at start, since walking every list's pointer takes ~16 ms at 1M. The
    mapping must outlive this (its engine holds both)."""

    def __init__(self, codes: Callable[[], tuple[int, int] | None]) -> None:
        self._codes = codes
        self._searches = 0
        self._span: Span | None = None
        self._release: Callable[[int, int], bool] | None = None
        self._ready = False

    def searched(self) -> None:
        """One more search read the mapping."""
        self._searches += 1
        if self._searches % RELEASE_EVERY == 0:
            self.release()

    def release(self) -> None:
        """Drop the mapping's pages from the process (the page cache keeps them)."""
        if not self._ready:
            codes = self._codes()
            self._span = page_span(*codes) if codes else None
            self._release = _madvise() if self._span else None
            self._ready = True
        if self._span is None or self._release is None:
            return
        if not self._release(*self._span):
            logger.debug("madvise failed (errno %d): pages stay resident", ctypes.get_errno())
            self._release = None  # an optimisation only: not retried
