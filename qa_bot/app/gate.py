"""How many answers run at once, across the chat and the REST API: ``Gate``.

The chat's events go through Gradio's queue (``web.CONCURRENCY`` at a time, ``web.QUEUE_SIZE``
waiting); REST requests run in FastAPI's thread pool. Both take a slot of one ``Gate`` before
they answer, so the server never runs more answers at once than the gate allows, whichever way
they come, and REST requests beyond ``waiting`` already queued are refused at once (503, retry)
rather than piling up threads.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import QABotError


class Busy(QABotError):
    """Every answer slot is taken and the queue is full."""


class Gate:
    """``slots`` answers at a time; at most ``waiting`` callers wait for one (None: any number)."""

    def __init__(self, slots: int, waiting: int | None = None):
        if slots < 1:
            raise ValueError(f"slots must be at least 1, got {slots}")
        self.slots = slots
        self.waiting = waiting
        self._free = threading.Semaphore(slots)
        self._lock = threading.Lock()
        self._queued = 0

    @contextmanager
    def slot(self, *, queue: bool = True) -> Iterator[None]:
        """Hold a slot while the block runs; with ``queue`` false, or when ``waiting`` callers
        already wait, raise Busy instead of waiting."""
        if not self._free.acquire(blocking=False):
            with self._lock:
                if not queue or (self.waiting is not None and self._queued >= self.waiting):
                    raise Busy(f"all {self.slots} answer slots are busy and {self._queued} requests wait; "
                               "retry in a moment")
                self._queued += 1
            try:
                self._free.acquire()
            finally:
                with self._lock:
                    self._queued -= 1
        try:
            yield
        finally:
            self._free.release()
