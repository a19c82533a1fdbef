"""The engine as its adapters see it: ``EngineApi``, the one narrow protocol the web, MQTT and the CLI use.

It holds the commands (validated, persisted changes to the operating state), the reads on demand, the
latest snapshot and the topics to subscribe to, and ``reconfigure``, which owns the rule for which settings
apply live (``applies_live``): the control law's thresholds and the units' read interval, the meter's
timing, read-only access to the page, the planner's settings and the schedule. Everything else (buses, units,
the meter's address, the tariff, the web server, MQTT) takes effect at the next start, and ``reconfigure``
says so. Adapters that hold configuration of
their own (the web's read-only switch) are told through ``on_reconfigure``.

``Engine`` is the real one, built by ``app.build_engine``; tests of the adapters give them a stub.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from smartsofar.bus.client import Bus
from smartsofar.bus.priority import on_demand
from smartsofar.config import Config
from smartsofar.control.intent import BatteryMode
from smartsofar.engine.commands import SiteCommands
from smartsofar.engine.hub import Topic
from smartsofar.engine.monitor import UnitMonitor
from smartsofar.engine.runner import EngineRunner
from smartsofar.engine.site import Site
from smartsofar.engine.snapshot import Event, SiteSnapshot
from smartsofar.engine.steering import ExternalMode
from smartsofar.engine.units import UnitRuntime
from smartsofar.errors import DeviceError, NotFoundError
from smartsofar.meter.base import Meter, MeterSample
from smartsofar.meter.poller import MeterPoller
from smartsofar.plan.planner import Plan
from smartsofar.sofar.register_map import UnitReading

log = logging.getLogger(__name__)
LIVE_KEYS = frozenset({"meter.poll_interval_s", "meter.stale_after_s", "web.read_only_without_login"})
# Settings that also set the operating state: saving one resets it, even to the value the file had.
OPERATING_KEYS = frozenset({"control.target_w", "control.allow_charge", "control.allow_discharge"})


def applies_live(key: str) -> bool:
    """Whether a changed setting (dotted key) takes effect without a restart."""
    return key in LIVE_KEYS or (key.startswith("control.") and key != "control.mode") or \
        key.startswith(("planner.", "schedule"))


@dataclass(frozen=True, slots=True)
class Reconfigured:
    """What ``reconfigure`` did with the settings that changed."""

    applied: tuple[str, ...]  # in use now
    needs_restart: tuple[str, ...]  # saved, in use after the next start


class PlanningApi(Protocol):
    """Prices, the plan and the battery modes (``plan.service.Planning``)."""

    def view(self) -> dict[str, Any]:
        """Prices, the plan, its reasons and the battery mode in force."""

    def summary(self) -> dict[str, Any]:
        """The price now, the plan's next change and the SoC it plans (MQTT)."""

    def request(self, mode: BatteryMode, *, lease_s: float, charge_w: float | None = None,
                soc_pct: float | None = None, who: str = "external") -> ExternalMode | None:
        """Another system's battery mode for ``lease_s``; InvalidInputError on bad values."""

    async def replan(self) -> Plan | None:
        """Plan again now."""

    def reconfigure(self, config: Config) -> None:
        """Adopt new planner settings and schedule entries (the tariff waits for a restart)."""


class EngineApi(Protocol):
    """What the adapters may ask of the engine."""

    @property
    def config(self) -> Config: ...
    @property
    def commands(self) -> SiteCommands: ...
    @property
    def snapshots(self) -> Topic[SiteSnapshot]: ...
    @property
    def events(self) -> Topic[Event]: ...
    @property
    def planning(self) -> PlanningApi: ...

    def latest(self) -> SiteSnapshot:
        """The site after the last cycle."""

    async def read_unit(self, unit_id: int) -> UnitReading:
        """Read one unit now. NotFoundError: no such unit; DeviceError: it did not answer."""

    async def read_meter(self) -> tuple[str, MeterSample]:
        """Read the meter now: its model and the sample. NotFoundError: none; DeviceError: no answer."""

    def diagnostics(self) -> dict[str, Any]:
        """Counters for the diagnostics page."""

    def reconfigure(self, config: Config, touched: Iterable[str] = ()) -> Reconfigured:
        """Adopt a new configuration: what can apply live does now."""

    def on_reconfigure(self, listener: Callable[[Config], None]) -> None:
        """Call ``listener`` with each new configuration."""


def changed_keys(old: Config, new: Config) -> list[str]:
    """The dotted keys whose values differ between two configurations (secrets compared by value)."""
    before, after = _flat(old.model_dump()), _flat(new.model_dump())
    return sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))


def _flat(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flat(item, f"{prefix}{key}.").items()}
    if isinstance(value, list):
        return {k: v for index, item in enumerate(value) for k, v in _flat(item, f"{prefix}{index}.").items()}
    return {prefix.removesuffix("."): value}


@dataclass
class Engine:
    """The real engine: the site and what it runs on."""

    config: Config
    site: Site
    monitor: UnitMonitor
    poller: MeterPoller | None
    commands: SiteCommands
    runner: EngineRunner
    planning: PlanningApi
    buses: list[Bus] = field(default_factory=list)
    meter: Meter | None = None
    pending_restart: tuple[str, ...] = ()
    _listeners: list[Callable[[Config], None]] = field(default_factory=list)
    _reads: dict[int, asyncio.Task[UnitReading | None]] = field(default_factory=dict)  # "Read now", by unit

    @property
    def snapshots(self) -> Topic[SiteSnapshot]:
        """A snapshot after every cycle."""
        return self.site.snapshots

    @property
    def events(self) -> Topic[Event]:
        """Commands and their answers, faults, mode and link changes."""
        return self.site.events

    def latest(self) -> SiteSnapshot:
        """The latest snapshot (built now if none was published yet)."""
        return self.site.snapshots.latest or self.site.snapshot()

    async def read_unit(self, unit_id: int) -> UnitReading:
        """Read one unit now: after the engine's own exchanges (``bus.priority.on_demand``), and one read per
        unit however many ask at once (they share it)."""
        try:
            runtime = self.site.unit(unit_id)
        except KeyError:
            raise NotFoundError(f"no unit {unit_id}") from None
        task = self._reads.get(unit_id)
        if task is None or task.done():
            task = asyncio.create_task(self._read_on_demand(runtime), name=f"read unit {unit_id}")
            self._reads[unit_id] = task
        reading = await asyncio.shield(task)
        if reading is None:
            raise DeviceError(f"{runtime.config.label} did not answer: {runtime.read_error}")
        return reading

    async def _read_on_demand(self, runtime: UnitRuntime) -> UnitReading | None:
        with on_demand():
            return await self.monitor.read_unit(runtime)

    async def read_meter(self) -> tuple[str, MeterSample]:
        """Read the meter now."""
        poller = self.poller
        if poller is None:
            raise NotFoundError("no meter is configured")
        sample = await poller.poll_once()
        if sample is None:
            raise DeviceError(f"the meter did not answer: {poller.last_error}")
        return poller.meter.model, sample

    def diagnostics(self) -> dict[str, Any]:
        """Cycles, commands, start-up time, the bus counters, and settings waiting for a restart."""
        buses = []
        for bus in self.buses:
            counters = bus.counters
            buses.append({"url": str(bus.url), "connected": bus.connected, "frames_sent": counters.frames_sent,
                          "crc_errors": counters.crc_errors, "foreign_frames": counters.foreign_frames,
                          "undecodable_frames": counters.undecodable_frames})
        return {"cycles": self.site.cycles, "first_decision_s": self.runner.first_decision_s,
                "commands_sent": self.site.commands_sent, "buses": buses,
                "pending_restart": list(self.pending_restart)}

    def on_reconfigure(self, listener: Callable[[Config], None]) -> None:
        """Tell ``listener`` each new configuration."""
        self._listeners.append(listener)

    def reconfigure(self, config: Config, touched: Iterable[str] = ()) -> Reconfigured:
        """Adopt ``config``; ``touched`` are the keys a person set: an operating one among them counts as
        changed even when the file had that value (setting the target resets the operating target to it)."""
        changed = sorted(set(changed_keys(self.config, config)) | (OPERATING_KEYS & set(touched)))
        applied = tuple(k for k in changed if applies_live(k))
        restart = tuple(k for k in changed if not applies_live(k))
        self.config = config
        control = config.control
        self.site.control = control
        self.site.memory.reconfigure(control)
        self.monitor.interval_s = control.unit_read_interval_s
        if self.poller is not None and config.meter is not None:
            self.poller.interval_s = config.meter.poll_interval_s
            self.poller.stale_after_s = config.meter.stale_after_s
        if "control.target_w" in changed:
            self.commands.set_target(control.target_w)
        charge = control.allow_charge if "control.allow_charge" in changed else None
        discharge = control.allow_discharge if "control.allow_discharge" in changed else None
        if charge is not None or discharge is not None:
            self.commands.set_permissions(allow_charge=charge, allow_discharge=discharge)
        self.planning.reconfigure(config)
        for listener in self._listeners:
            listener(config)
        self.pending_restart = tuple(sorted(set(self.pending_restart) | set(restart)))
        if applied:
            log.info("settings in use now: %s", ", ".join(applied))
        if restart:
            log.info("settings saved for the next start: %s", ", ".join(restart))
        return Reconfigured(applied, restart)

    async def aclose(self) -> None:
        """Release the lines and the meter's connections (after ``runner.stop``)."""
        for bus in self.buses:
            await bus.close()
        if self.meter is not None:
            await self.meter.aclose()

