"""Meters that push their samples (MQTT, SMA multicast, DSMR P1, Home Assistant, Shelly WebSocket).

A ``PushMeter`` keeps one receiving task: it connects, hands every decoded sample to a one-slot
``Latest``, and on a failure records it and reconnects after a pause that grows to ``RECONNECT_MAX_S``.
``read()`` returns the next sample that arrives (starting the task on first use), so the same poller and
the same one-shot readers (``smartsofar meter``, ``config check --probe``) serve both kinds of meter.

Samples are timed by their arrival. A source that says nothing for ``wait_s`` makes ``read()`` fail with
"no message for N s": to the poller that is an unavailable meter, and its last sample goes stale as any other.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Callable

from smartsofar.errors import MeterError, MeterReplyError, MeterUnavailableError
from smartsofar.meter.base import MeterSample

log = logging.getLogger(__name__)
RECONNECT_FIRST_S = 0.5
RECONNECT_MAX_S = 10.0
PLAUSIBLE_W = 100_000.0  # no house connection carries more; a reading beyond it is a decoding mistake


def plausible_power(value: float, what: str = "grid power") -> float:
    """``value`` if it is a finite power a home connection can carry, else MeterReplyError."""
    if not math.isfinite(value) or abs(value) > PLAUSIBLE_W:
        raise MeterReplyError(f"{what} {value!r} W is out of range (±{PLAUSIBLE_W:.0f} W)")
    return value


class Latest:
    """The newest sample or failure, and whoever waits for one newer than it had."""

    def __init__(self) -> None:
        self._seq = 0
        self._item: MeterSample | MeterError | None = None
        self._changed = asyncio.Condition()

    async def put(self, item: MeterSample | MeterError) -> None:
        """A new sample arrived, or the connection failed."""
        async with self._changed:
            self._seq += 1
            self._item = item
            self._changed.notify_all()

    async def after(self, seen: int, wait_s: float) -> tuple[int, MeterSample]:
        """The first item newer than ``seen``: (its number, the sample), or its failure raised."""
        async with self._changed:
            try:
                async with asyncio.timeout(wait_s):
                    await self._changed.wait_for(lambda: self._seq > seen)
            except TimeoutError:
                raise MeterUnavailableError(f"no message for {wait_s:g} s") from None
            item = self._item
        if isinstance(item, MeterError):
            raise item
        assert item is not None
        return self._seq, item


def _bare(error: MeterError) -> MeterError:
    """The error without its traceback and context: kept until the next message, it must not keep the dead
    connection's frames (and their sockets) alive."""
    error.__traceback__ = None
    error.__context__ = None
    error.__cause__ = None
    return error


class PushMeter:
    """The common part of every pushing meter: the receiving task, reconnects, and ``read()``.

    Subclasses set ``model`` and implement ``receive`` (connect, then ``await self.deliver(sample)`` for every
    message, forever; MeterError on a failure, which is then reported and retried).
    """

    pushes = True  # the poller reads such a meter back to back: each read waits for the next message
    model = "meter"

    def __init__(self, wait_s: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.wait_s = wait_s
        self.clock = clock
        self._latest = Latest()
        self._seen = 0
        self._task: asyncio.Task[None] | None = None
        self.refused = 0  # messages that could not be used

    async def receive(self) -> None:
        """Connect and deliver samples until the connection fails (MeterError) or the task is cancelled."""
        raise NotImplementedError

    async def deliver(self, sample: MeterSample) -> None:
        """Hand one decoded sample to the reader."""
        await self._latest.put(sample)

    async def refuse(self, error: MeterReplyError) -> None:
        """A message that cannot be used: logged (the first ones, then now and then), never handed on."""
        self.refused += 1
        if self.refused <= 3 or self.refused % 100 == 0:
            log.warning("%s: message refused (%d so far): %s", self.model, self.refused, error)

    async def read(self) -> MeterSample:
        """The next sample to arrive (waiting at most ``wait_s``)."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name=f"meter {self.model}")
        self._seen, sample = await self._latest.after(self._seen, self.wait_s)
        return sample

    async def _run(self) -> None:
        pause = RECONNECT_FIRST_S
        while True:
            started = self.clock()
            try:
                await self.receive()
                raise MeterUnavailableError("the connection closed")
            except MeterError as exc:
                await self._latest.put(_bare(exc))
            except OSError as exc:
                await self._latest.put(MeterUnavailableError(f"cannot connect ({exc.strerror or exc})"))
            if self.clock() - started > RECONNECT_MAX_S:
                pause = RECONNECT_FIRST_S  # it worked for a while: retry soon
            await asyncio.sleep(pause)
            pause = min(RECONNECT_MAX_S, pause * 2)

    async def aclose(self) -> None:
        """Stop receiving."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
