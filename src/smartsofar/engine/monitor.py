"""Reading the units: one bulk read per unit every ``unit_read_interval_s``, staggered across units.

A unit that is offline is tried every ``OFFLINE_RETRY_S`` instead, so a dead unit does not fill the bus
with timeouts. Each unit's identity (serial, firmware) and battery settings are read once, after its first
good reading. A change in a unit's fault or alert bits becomes an event (raised / cleared), logged once.

While a command settles, the unit's battery power alone (one register, 0x020D) is read: every
``FAST_READ_S`` while the response learner follows the command (so the dead time and ramp can be measured),
otherwise every ``SETTLED_READ_S`` until the unit reports it has arrived (which closes its envelope). The
control loop wakes this task when it sends a command.
Each reading is timed at the midpoint of its request.

``read_due`` is what both the real-time task (``run``) and the accelerated simulation call.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math

from smartsofar.control.response import LEARNED_AFTER
from smartsofar.engine.site import Site
from smartsofar.engine.units import UnitRuntime
from smartsofar.errors import DeviceError
from smartsofar.link import LinkHealth
from smartsofar.sofar.register_map import UnitReading

log = logging.getLogger(__name__)
OFFLINE_RETRY_S = 30.0
IDENTITY_RETRY_S = 60.0
FAST_READ_S = 0.4
SETTLED_READ_S = 1.0


class UnitMonitor:
    """Keeps every unit's reading fresh."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.interval_s = site.control.unit_read_interval_s
        self._next_read: dict[int, float] = {}
        self._next_identity: dict[int, float] = {}
        self._next_power: dict[int, float] = {}
        self._episode_seen: dict[int, float] = {}
        self._episodes = 0

    def schedule(self, now: float) -> None:
        """Spread the first reads over one interval (the caller reads every unit once at start)."""
        count = len(self.site.units)
        for index, rt in enumerate(self.site.units):
            self._next_read[rt.unit_id] = now + self.interval_s * (index + 1) / count

    async def read_all(self) -> None:
        """Read every unit now (at start), then spread the next reads out."""
        for rt in self.site.units:
            await self.read_unit(rt)
        self.schedule(self.site.clock())

    async def read_due(self, now: float) -> int:
        """Read the units whose turn it is; how many were read."""
        done = 0
        for rt in self.site.units:
            if now >= self._next_read.get(rt.unit_id, 0.0):
                await self.read_unit(rt)
                done += 1
            elif self._wants_power(rt) and now >= self._next_power.get(rt.unit_id, math.inf):
                await self.read_power(rt)
                done += 1
            if rt.reading is not None and rt.info is None and now >= self._next_identity.get(rt.unit_id, 0.0):
                await self.read_identity(rt)
        return done

    async def read_unit(self, rt: UnitRuntime) -> UnitReading | None:
        """Read one unit now (also the 'read unit now' button); None if it did not answer.

        A unit the bus already sees as offline gets a single attempt: it should not hold the line for long.
        """
        asked = self.site.clock()
        try:
            reading = await rt.port.read(0 if rt.port.health is LinkHealth.OFFLINE else None)
        except DeviceError as exc:
            now = self.site.clock()
            rt.on_read_failed(str(exc), now)
            offline = rt.port.health is LinkHealth.OFFLINE
            self._next_read[rt.unit_id] = now + (OFFLINE_RETRY_S if offline else self.interval_s)
            return None
        now = self.site.clock()
        previous = rt.reading
        note = rt.on_reading(reading, now, (asked + now) / 2)
        if note:
            log.info("%s %s", rt.config.label, note)
        self._compare_faults(rt, previous, reading)
        self._next_read[rt.unit_id] = now + self.interval_s
        return reading

    def next_power_read_at(self) -> float | None:
        """When the next short power read is due (None while every unit is known to be still)."""
        due = []
        for rt in self.site.units:
            episode = rt.response.episode
            if episode is not None and self._episode_seen.get(rt.unit_id) != episode.t_cmd:
                # A new command to learn from: its first reading lands inside the expected transition, at a
                # phase that differs from one command to the next (a golden-ratio sequence).
                self._episode_seen[rt.unit_id] = episode.t_cmd
                self._episodes += 1
                phase = self._episodes * 0.618034 % 1.0
                self._next_power[rt.unit_id] = episode.t_cmd + rt.response.first_reading_after_s(phase)
            if self._wants_power(rt):
                next_at = self._next_power.get(rt.unit_id)
                if next_at is None or next_at < rt.last_command_at:  # a command since: read a second after it
                    next_at = self._next_power[rt.unit_id] = rt.last_command_at + SETTLED_READ_S
                due.append(next_at)
        return min(due, default=None)

    @staticmethod
    def _wants_power(rt: UnitRuntime) -> bool:
        """Learning from a command, or a command may still be on its way (its arrival closes the envelope)."""
        return rt.link is not LinkHealth.OFFLINE and (rt.response.wants_readings() or not rt.plan.steady)

    async def read_power(self, rt: UnitRuntime) -> None:
        """Read the battery power alone, for the response learner; a failure only waits for the next one."""
        asked = self.site.clock()
        learning = rt.response.wants_readings() and rt.response.samples < LEARNED_AFTER
        interval = FAST_READ_S if learning else SETTLED_READ_S
        self._next_power[rt.unit_id] = asked + interval
        try:
            power = await rt.port.read_power()
        except DeviceError as exc:
            log.debug("%s: power not read: %s", rt.config.label, exc)
            return
        rt.on_power(power, (asked + self.site.clock()) / 2)

    async def read_identity(self, rt: UnitRuntime) -> None:
        """Serial number, versions and battery settings, once per unit."""
        try:
            rt.info = await rt.port.read_info()
            rt.settings = await rt.port.read_settings()
        except DeviceError as exc:
            log.debug("%s: identity not read yet: %s", rt.config.label, exc)
            self._next_identity[rt.unit_id] = self.site.clock() + IDENTITY_RETRY_S
            return
        log.info("%s: serial %s, software %s, hardware %s", rt.config.label, rt.info.serial,
                 rt.info.software_version, rt.info.hardware_version)

    def _compare_faults(self, rt: UnitRuntime, previous: UnitReading | None, reading: UnitReading) -> None:
        def names(r: UnitReading | None) -> set[str]:
            if r is None:
                return set()
            return {f.label for f in (*r.faults, *r.battery_faults, *r.alerts, *r.comm_board_faults)}

        if previous is not None and previous.fault_words == reading.fault_words:
            return
        before, after = names(previous), names(reading)
        for label in sorted(after - before):
            log.warning("%s: %s", rt.config.label, label)
            self.site.emit("fault", f"{rt.config.label}: {label}", rt.unit_id, {"fault": label})
        for label in sorted(before - after):
            log.info("%s: %s cleared", rt.config.label, label)
            self.site.emit("fault_cleared", f"{rt.config.label}: {label} cleared", rt.unit_id, {"fault": label})

    async def run(self) -> None:
        """Real time: read forever, sleeping until the next unit is due."""
        wake = self.site.unit_reads_wanted
        while True:
            now = self.site.clock()
            wake.clear()
            await self.read_due(now)
            upcoming = min([*self._next_read.values(), *[t for t in [self.next_power_read_at()] if t is not None]],
                           default=now + self.interval_s)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(min(max(upcoming - self.site.clock(), 0.05), self.interval_s)):
                    await wake.wait()
