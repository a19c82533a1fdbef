"""What a control cycle decides, and what it decides from: the types the per-mode decisions share.

``DecisionInputs`` is everything a cycle looks at (the operating state, the intent from the plan, a schedule or
another system, the configuration, each unit's room and plan, the meter's sample and verdict, ``now``);
``Decision`` is what comes out (the setpoints to send, the safety state, what to tell people). ``Notice`` is
something the engine should log and publish: the decisions themselves never log.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from smartsofar.config import ControlConfig
from smartsofar.control.allocation import UnitRoom
from smartsofar.control.envelope import PowerEnvelope
from smartsofar.control.intent import NORMAL, BatteryIntent
from smartsofar.control.safety import MeterVerdict
from smartsofar.link import LinkHealth
from smartsofar.meter.base import MeterSample
from smartsofar.modes import ModeState


class SafetyState(StrEnum):
    """The site's safety state, as the page, MQTT and the logs show it."""

    STARTING = "starting"  # no cycle yet
    OK = "ok"
    HOLD = "hold"  # the meter is late: what was sent is kept
    METER_SILENT = "meter_silent"  # the meter is silent: every unit in standby
    NO_UNITS = "no_units"  # no unit can be used now
    MANUAL_NEEDS_METER = "manual_needs_meter"  # grid limits are set but the meter is silent

    @property
    def routine(self) -> bool:
        """States that come and go in normal running, not worth a log line."""
        return self in (SafetyState.STARTING, SafetyState.OK, SafetyState.HOLD)


class DecidingUnit(Protocol):
    """What a decision reads of a unit (``engine.units.UnitRuntime`` is one)."""

    @property
    def unit_id(self) -> int: ...
    @property
    def room(self) -> UnitRoom | None: ...  # None: unavailable
    @property
    def link(self) -> LinkHealth: ...
    @property
    def setpoint_w(self) -> int | None: ...  # the last power it accepted (None: unknown)
    @property
    def current_w(self) -> float: ...  # what it delivers now, as far as is known
    @property
    def plan(self) -> PowerEnvelope: ...
    @property
    def surprised_at(self) -> float: ...  # when a report last contradicted its plan


@dataclass(frozen=True, slots=True, kw_only=True)
class DecisionInputs:
    """Everything one cycle decides from."""

    now: float
    mode: ModeState
    control: ControlConfig
    units: Sequence[DecidingUnit]
    sample: MeterSample | None  # the meter's sample, when fresh enough to use
    verdict: MeterVerdict  # what may be done with the meter as it is
    intent: BatteryIntent = NORMAL  # auto mode: hold or charge from the grid, and who asked

    @property
    def available(self) -> list[DecidingUnit]:
        """The units that may move power now."""
        return [u for u in self.units if u.room is not None]


@dataclass(frozen=True, slots=True, kw_only=True)
class Notice:
    """Something the engine logs once and publishes as an event."""

    kind: str
    event: str  # the event's short message
    log: str  # the log line
    level: int = logging.INFO
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True, kw_only=True)
class Decision:
    """What one cycle decided."""

    setpoints: dict[int, int]  # unit id -> W, for the units to (re)command
    safety: SafetyState
    message: str  # for people
    reason: str  # why this cycle acted or not (the law's reason, "standby", ...)
    healthy: bool  # heartbeats may go out
    grid_w: float | None = None
    base_w: float | None = None
    notices: tuple[Notice, ...] = ()


STARTING = Decision(setpoints={}, safety=SafetyState.STARTING, message="starting", reason="none", healthy=False)
