"""Immutable pictures of the site, one per control cycle, and the events between them.

Adapters (web, MQTT, history) read only these: they never reach into the engine's live objects. Values
that are not known are ``None`` (a unit not read yet, a meter that is stale), never a stale number shown
as live.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from smartsofar.control.decision import SafetyState
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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        reading = self.reading
        return {
            "unit_id": self.unit_id, "name": self.name, "position": self.position, "bus": self.bus,
            "link": self.link, "available": self.available, "unavailable_reason": self.unavailable_reason,
            "setpoint_w": self.setpoint_w, "expected_w": round(self.expected_w),
            "charge_room_w": round(self.charge_room_w), "discharge_room_w": round(self.discharge_room_w),
            "reading_age_s": None if self.reading_age_s is None else round(self.reading_age_s, 1),
            "reading": reading.to_json() if reading else None,
            "status": self.status.to_json() if self.status else None,
            "last_command": self.last_command,
            "last_command_age_s": None if self.last_command_age_s is None else round(self.last_command_age_s, 1),
            "info": None if self.info is None else {
                "serial": self.info.serial, "software_version": self.info.software_version,
                "hardware_version": self.info.hardware_version},
            "commands_sent": self.commands_sent, "link_counters": dict(self.link_counters),
            "response": dict(self.response),
        }


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

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form; the values only when the sample may be used."""
        out: dict[str, Any] = {"model": self.model, "state": self.state, "fresh": self.fresh,
                               "age_s": None if self.age_s is None else round(self.age_s, 1),
                               "error": self.error, "reads": self.reads, "failures": self.failures}
        out.update(self.sample.to_json() if self.sample and self.fresh else
                   {"power_w": None, "total_power_w": None, "phases": [], "frequency_hz": None,
                    "import_wh": None, "export_wh": None})
        return out


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

    def unit(self, unit_id: int) -> UnitSnapshot | None:
        """One unit by slave id."""
        return next((u for u in self.units if u.unit_id == unit_id), None)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "at": self.at, "mode": self.mode.to_json(), "safety": self.safety, "message": self.message,
            "grid_w": None if self.grid_w is None else round(self.grid_w, 1),
            "base_w": None if self.base_w is None else round(self.base_w, 1),
            "setpoint_total_w": self.setpoint_total_w,
            "battery_w": None if self.battery_w is None else round(self.battery_w),
            "soc_pct": None if self.soc_pct is None else round(self.soc_pct, 1),
            "commands_sent": self.commands_sent, "decision": self.decision,
            "manual_min_w": self.manual_min_w, "manual_max_w": self.manual_max_w,
            "meter": self.meter.to_json() if self.meter else None,
            "units": [u.to_json() for u in self.units],
        }


@dataclass(frozen=True, slots=True)
class Event:
    """Something that happened: a command and its answer, a fault raised or cleared, a mode change."""

    at: float
    kind: str  # command / fault / fault_cleared / link / mode / safety / meter
    message: str
    unit_id: int | None = None
    data: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {"at": self.at, "kind": self.kind, "message": self.message, "unit_id": self.unit_id, **self.data}
