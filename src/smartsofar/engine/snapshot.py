"""Immutable pictures of the site, one per control cycle, and the events between them.

Adapters (web, MQTT, history) read only these, through the typed JSON models of ``smartsofar.payloads``:
they never reach into the engine's live objects. Values
that are not known are ``None`` (a unit not read yet, a meter that is stale), never a stale number shown
as live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smartsofar.control.decision import SafetyState
from smartsofar.control.intent import NORMAL, BatteryIntent
from smartsofar.link import LinkHealth
from smartsofar.meter.base import MeterSample
from smartsofar.modes import ModeState
from smartsofar.sofar.device_info import UnitInfo
from smartsofar.sofar.passive import StatusWord
from smartsofar.sofar.register_map import UnitReading


@dataclass(frozen=True, slots=True)
class UnitSnapshot:
    """One unit, as the engine sees it now."""

    unit_id: int
    name: str
    position: int  # 1, 2, ... in configuration order (SmartSofar v1's Charger<N>)
    bus: str
    link: LinkHealth
    available: bool
    unavailable_reason: str | None
    setpoint_w: int | None  # the last power it accepted (None: unknown)
    expected_w: float  # what its model says it delivers now
    charge_room_w: float
    discharge_room_w: float
    reading: UnitReading | None
    reading_age_s: float | None
    status: StatusWord | None  # its answer to the last command
    last_command: str | None
    last_command_age_s: float | None
    info: UnitInfo | None
    commands_sent: int
    link_counters: dict[str, int] = field(default_factory=dict)
    response: dict[str, Any] = field(default_factory=dict)  # the learned dead time and ramp

    @property
    def battery_w(self) -> float | None:
        """Reported battery power, charge positive."""
        return self.reading.battery_w if self.reading else None

    @property
    def soc_pct(self) -> float | None:
        """Reported state of charge."""
        return self.reading.soc_pct if self.reading else None


@dataclass(frozen=True, slots=True)
class MeterSnapshot:
    """The grid meter, as the engine sees it now."""

    model: str
    state: str  # ok / unavailable / auth_failed / bad_reply / frozen / unknown
    sample: MeterSample | None  # the latest sample, fresh or not
    age_s: float | None
    fresh: bool
    error: str | None
    reads: int
    failures: int


@dataclass(frozen=True, slots=True)
class SiteSnapshot:
    """The whole site after one control cycle."""

    at: float  # wall-clock time (Unix seconds)
    mode: ModeState
    safety: SafetyState
    message: str
    grid_w: float | None  # the fresh meter sample, import positive
    base_w: float | None  # the house's own power as the law estimates it
    setpoint_total_w: int  # sum of what the units accepted
    battery_w: float | None  # sum of what the units report
    soc_pct: float | None  # mean over the units that reported one
    units: tuple[UnitSnapshot, ...]
    meter: MeterSnapshot | None
    commands_sent: int
    decision: str
    manual_min_w: int = 0  # the range manual mode accepts (the units' configured limits)
    manual_max_w: int = 0
    control_lag: dict[str, float | int] = field(default_factory=dict)  # sample arrival -> decision (engine.lag)
    intent: BatteryIntent = NORMAL  # auto mode's battery mode: the plan's, a schedule's or another system's

    def unit(self, unit_id: int) -> UnitSnapshot | None:
        """One unit by slave id."""
        return next((u for u in self.units if u.unit_id == unit_id), None)


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: a command and its answer, a fault raised or cleared, a mode change."""

    at: float
    kind: str  # command / fault / fault_cleared / link / mode / safety / meter
    message: str
    unit_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

