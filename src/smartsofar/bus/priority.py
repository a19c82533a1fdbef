"""Who goes next on a bus: commands and heartbeats before the engine's reads, and those before reads asked
for by a person (the page's "Read now"), first come first served within each.

A half-duplex RS485 line carries one exchange at a time. With a plain lock, forty "Read now" clicks queued
ahead of a setpoint delayed it by 8 s. ``PriorityLock`` hands the line to the most urgent waiter instead;
an exchange under way is never cut. ``on_demand()`` marks the reads made within it (a context variable, so
the layers between the web and the bus need not pass it on).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import heapq
import itertools
from collections.abc import AsyncIterator, Iterator
from enum import IntEnum


class Priority(IntEnum):
    """Lower goes first."""

    COMMAND = 0  # 0x42 setpoints, 0x49 heartbeats, broadcasts
    READ = 1  # the engine's own reads
    ON_DEMAND = 2  # reads a person asked for


_ASKED: contextvars.ContextVar[Priority | None] = contextvars.ContextVar("bus_priority", default=None)


@contextlib.contextmanager
def on_demand() -> Iterator[None]:
    """Exchanges made within this block (in this task) yield the line to the engine's own."""
    token = _ASKED.set(Priority.ON_DEMAND)
    try:
        yield
    finally:
        _ASKED.reset(token)


def effective(priority: Priority) -> Priority:
    """``priority``, or lower if the caller is inside ``on_demand()`` (a command stays a command)."""
    asked = _ASKED.get()
    return priority if asked is None or priority is Priority.COMMAND else max(priority, asked)


class PriorityLock:
    """A lock whose waiters are served most urgent first, then in order of arrival."""

    def __init__(self) -> None:
        self._held = False
        self._waiters: list[tuple[int, int, asyncio.Future[None]]] = []
        self._order = itertools.count()

    @property
    def waiting(self) -> int:
        """How many are waiting for the line."""
        return sum(1 for *_, future in self._waiters if not future.done())

    @contextlib.asynccontextmanager
    async def hold(self, priority: Priority) -> AsyncIterator[None]:
        """Hold the lock for the block."""
        if not self._held and not self.waiting:
            self._held = True
        else:
            future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            heapq.heappush(self._waiters, (int(priority), next(self._order), future))
            try:
                await future
            except asyncio.CancelledError:
                if future.done() and not future.cancelled():
                    self._release()  # it was handed to us as we were cancelled: hand it on
                future.cancel()
                raise
        try:
            yield
        finally:
            self._release()

    def _release(self) -> None:
        while self._waiters:
            *_, future = heapq.heappop(self._waiters)
            if not future.done():
                future.set_result(None)  # the line passes straight to the next
                return
        self._held = False
