"""Polling a meter: the latest sample, its staleness, and the meter's availability.

A polled meter is read every ``interval_s`` on average, each poll steered to just after the meter's own
update (``meter.poll_phase``); a pushing meter is read back to back, each read waiting for its next message.
Once the phase is found, each new sample says how old its measurement is at most (``MeterSample.lag_s``).
Samples that come faster than once a second are averaged into one a second (``meter.window``); a sample that
repeats the one before exactly is left out of that averaging, so the poll that follows it up is not held back.
Within ``EARLY_REPEAT`` poll intervals of the last sample handed on, a polled meter's repeat is an early poll
(the meter had not measured again): it is not handed on, because the measurement it carries is the one in hand,
which a new arrival time would misplace by a second. A later repeat is handed on as it is, so a meter that
truly measures the same value (or a frozen one) stays fresh, and is caught as frozen as before.

A sample older than ``stale_after_s`` is never handed to the controller. Failures are logged once per
change of state (ok -> unavailable -> ok), not every second. A frozen meter (exactly the same values for
``frozen_after_s`` while the batteries' power moved, or for five times that in any case) is reported and
its samples are withheld like stale ones.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum

from smartsofar.errors import InvalidInputError, MeterAuthError, MeterError, MeterUnavailableError
from smartsofar.meter.base import Meter, MeterSample
from smartsofar.meter.poll_phase import PollPhase
from smartsofar.meter.window import SecondWindow

log = logging.getLogger(__name__)
BATTERY_MOVE_W = 100.0
EARLY_REPEAT = 1.5  # poll intervals


class MeterState(StrEnum):
    """Availability of the meter."""

    UNKNOWN = "unknown"
    OK = "ok"
    UNAVAILABLE = "unavailable"
    AUTH_FAILED = "auth_failed"
    BAD_REPLY = "bad_reply"
    FROZEN = "frozen"


class MeterPoller:
    """Reads one meter at a fixed interval and keeps what the controller may use."""

    def __init__(self, meter: Meter, *, interval_s: float = 1.0, stale_after_s: float = 5.0,
                 frozen_after_s: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if interval_s <= 0 or stale_after_s <= 0 or frozen_after_s <= 0:
            raise InvalidInputError("meter interval, stale limit and frozen limit must be positive")
        self.meter = meter
        self.interval_s = interval_s
        self._stale_after_s = stale_after_s
        self.stale_after_s = stale_after_s
        self.frozen_after_s = frozen_after_s
        self.clock = clock
        self.latest: MeterSample | None = None
        self.state = MeterState.UNKNOWN
        self.last_error: str | None = None
        self.reads = 0
        self.failures = 0
        self.on_poll: Callable[[], None] | None = None  # told after every poll, good or bad
        self.phase = PollPhase()
        self.window = SecondWindow()
        self._previous: MeterSample | None = None  # the last sample read, repeat or not
        self._run_start: MeterSample | None = None
        self._battery_min = self._battery_max = 0.0

    @property
    def stale_after_s(self) -> float:
        """A sample older than this is never used; a pushing meter silent this long is unavailable."""
        return self._stale_after_s

    @stale_after_s.setter
    def stale_after_s(self, value: float) -> None:
        self._stale_after_s = value
        if hasattr(self.meter, "wait_s"):  # a pushing meter: its read waits as long as a sample stays fresh
            self.meter.wait_s = value

    def fresh(self, now: float | None = None) -> MeterSample | None:
        """The latest sample if it may be used for control now, else None."""
        now = self.clock() if now is None else now
        sample = self.latest
        if sample is None or self.state is MeterState.FROZEN or sample.age_s(now) > self.stale_after_s:
            return None
        return sample

    def note_battery_power(self, battery_w: float) -> None:
        """Tell the frozen-meter detector what the batteries do (W, any sign convention)."""
        self._battery_min = min(self._battery_min, battery_w)
        self._battery_max = max(self._battery_max, battery_w)

    async def poll_once(self) -> MeterSample | None:
        """Read the meter once; the new sample, or None on failure (state and error updated)."""
        self.reads += 1
        started = self.clock()
        try:
            sample = await self.meter.read()
        except MeterError as exc:
            self.failures += 1
            state = (MeterState.AUTH_FAILED if isinstance(exc, MeterAuthError)
                     else MeterState.UNAVAILABLE if isinstance(exc, MeterUnavailableError)
                     else MeterState.BAD_REPLY)
            self._set_state(state, str(exc))
            self.window.reset()
            self._previous = None
            self._told()
            return None
        previous, self._previous = self._previous, sample
        repeat = previous is not None and sample.same_values(previous)
        polled = not getattr(self.meter, "pushes", False)
        latest = self.latest
        if (repeat and polled and latest is not None
                and sample.taken_at - latest.taken_at < EARLY_REPEAT * self.interval_s):
            self._told()
            return sample  # an early poll: the meter has not measured since the sample in hand
        if polled and not repeat and sample.lag_s is None:
            lag = self.phase.lag_s(sample.taken_at - started)
            if lag is not None:
                sample = replace(sample, lag_s=lag)
        merged = sample if repeat else self.window.add(sample)
        if merged is None:
            return sample  # within a second of the last one: it is averaged into the next
        self.latest = merged
        self._set_state(MeterState.FROZEN if self._frozen(merged) else MeterState.OK, None)
        self._told()
        return sample

    def _told(self) -> None:
        if self.on_poll is not None:
            self.on_poll()

    async def run(self) -> None:
        """Poll forever, every ``interval_s`` on average, each poll steered to just after the meter updates
        (``PollPhase``); a pushing meter back to back."""
        while True:
            started = self.clock()
            sample = await self.poll_once()
            if getattr(self.meter, "pushes", False) and sample is not None:
                continue  # its read waited for the message; take the next one at once
            wait = self.phase.after(sample, self.interval_s)
            await asyncio.sleep(max(0.0, wait - (self.clock() - started)))

    def _frozen(self, sample: MeterSample) -> bool:
        start = self._run_start
        if start is None or not sample.same_values(start):
            self._run_start = sample
            self._battery_min = self._battery_max = 0.0
            return False
        unchanged_s = sample.taken_at - start.taken_at
        moved = self._battery_max - self._battery_min > BATTERY_MOVE_W
        return (unchanged_s >= self.frozen_after_s and moved) or unchanged_s >= 5 * self.frozen_after_s

    def _set_state(self, state: MeterState, error: str | None) -> None:
        self.last_error = error
        if state is self.state:
            return
        previous, self.state = self.state, state
        if state is MeterState.OK:
            if previous is not MeterState.UNKNOWN:
                log.info("meter %s is back", self.meter.model)
        elif state is MeterState.FROZEN:
            log.warning("meter %s looks frozen: the same values for %.0f s; not used for control",
                        self.meter.model, self.frozen_after_s)
        else:
            log.warning("meter %s: %s", self.meter.model, error)
