"""Reading the units: one bulk read per unit every ``unit_read_interval_s``, staggered across units.

A unit that is offline is tried every ``OFFLINE_RETRY_S`` instead, so a dead unit does not fill the bus
with timeouts. Each unit's identity (serial, firmware) and battery settings are read once, after its first
good reading. A change in a unit's fault or alert bits becomes an event (raised / cleared), logged once.

``read_due`` is what both the real-time task (``run``) and the accelerated simulation call.
"""

from __future__ import annotations

import asyncio
import logging

from smartsofar.bus.client import LinkHealth
from smartsofar.engine.site import Site
from smartsofar.engine.units import UnitRuntime
from smartsofar.errors import DeviceError
from smartsofar.sofar.register_map import UnitReading

log = logging.getLogger(__name__)
OFFLINE_RETRY_S = 30.0
IDENTITY_RETRY_S = 60.0


class UnitMonitor:
    """Keeps every unit's reading fresh."""

    def __init__(self, site: Site) -> None:
        self.site = site
        self.interval_s = site.control.unit_read_interval_s
        self._next_read: dict[int, float] = {}
        self._next_identity: dict[int, float] = {}

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
            if rt.reading is not None and rt.info is None and now >= self._next_identity.get(rt.unit_id, 0.0):
                await self.read_identity(rt)
        return done

    async def read_unit(self, rt: UnitRuntime) -> UnitReading | None:
        """Read one unit now (also the 'read unit now' button); None if it did not answer.

        A unit the bus already sees as offline gets a single attempt: it should not hold the line for long.
        """
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
        note = rt.on_reading(reading, now)
        if note:
            log.info("%s %s", rt.config.label, note)
        self._compare_faults(rt, previous, reading)
        self._next_read[rt.unit_id] = now + self.interval_s
        return reading

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
        while True:
            now = self.site.clock()
            await self.read_due(now)
            upcoming = min(self._next_read.values(), default=now + self.interval_s)
            await asyncio.sleep(min(max(upcoming - self.site.clock(), 0.05), self.interval_s))
