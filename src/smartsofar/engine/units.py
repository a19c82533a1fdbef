"""One unit inside the engine: its port, what it was told, what it reported, and what that teaches.

``UnitPort`` is what the engine needs from a unit (``SofarUnit`` on a real bus; an in-process port in the
accelerated simulation). ``UnitRuntime`` keeps the unit's state between cycles and turns readings and
command replies into facts the safety rules use:

- every accepted command and every reported battery power feed the unit's ``ResponseLearner``, which
  learns how fast the unit follows; the unit's ``PowerEnvelope`` plans with what it learned;
- a reported power at the unit's final setpoint closes its envelope at once: the unit has arrived;
- a reading is compared with the unit's ``PowerEnvelope``; only once even the slowest plausible response
  has settled (so a slow unit is never taken for a capped one), a report that differs re-bases the plan
  (the controller never winds up on power that is not there). A unit that delivers less than asked in the
  same direction is capped at what it delivers for a while, so others take the rest; a
  unit that is idle when it should not be (a command lost, passive mode lapsed) is sent its setpoint again;
- the battery-full / battery-flat flags of a status word stop that direction until the SoC has moved or
  some minutes have passed;
- a unit that is not in Passive mode is left alone for a minute, then tried again.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass, field
from typing import Protocol

from smartsofar.config import UnitConfig
from smartsofar.control.allocation import UnitRoom
from smartsofar.control.envelope import PowerEnvelope, ReportVerdict
from smartsofar.control.response import REPORT_LAG_ALLOWANCE_S, Response, ResponseLearner
from smartsofar.control.safety import SocGates, UnitCondition
from smartsofar.link import LinkHealth
from smartsofar.sofar.device_info import UnitInfo, UnitSettings
from smartsofar.sofar.passive import CommandResult, PassiveCommand, StatusWord
from smartsofar.sofar.register_map import UnitReading

log = logging.getLogger(__name__)

REPORT_TOLERANCE_W = 40.0  # 0x020D has 10 W steps, and a reading is not taken at an exact instant
ARRIVAL_SLACK_S = 1.5  # a report at the setpoint this long after the expected arrival still confirms the plan
REPORT_FRESH_S = 6.0  # a report this recent (a full read every 5 s) may confirm where a unit starts from
SHORTFALL_CAP_S = 120.0
FLAG_HOLD_S = 600.0
FLAG_SOC_MOVE_PCT = 2.0
PASSIVE_RETRY_S = 60.0
MAX_REFRESHES = 3


class UnitPort(Protocol):
    """What the engine needs from one unit."""

    unit_id: int

    @property
    def health(self) -> LinkHealth:
        """Link health."""

    async def read(self, retries: int | None = None) -> UnitReading:
        """The bulk read of running data (``retries`` overrides the bus's)."""

    async def read_power(self) -> float:
        """Only the battery power (0x020D), W charge positive: a short read while a command settles."""

    async def read_settings(self) -> UnitSettings:
        """The battery settings block."""

    async def read_info(self) -> UnitInfo:
        """Serial number and versions."""

    async def command(self, command: PassiveCommand) -> StatusWord:
        """One passive-mode command."""

    async def heartbeat(self) -> bool:
        """Keep passive mode alive."""


@dataclass(slots=True)
class UnitRuntime:
    """The engine's memory of one unit."""

    config: UnitConfig
    port: UnitPort
    bus_label: str
    position: int
    response: ResponseLearner = field(init=False)
    plan: PowerEnvelope = field(init=False)
    setpoint_w: int | None = None  # the last power it accepted; None = unknown, send again
    reading: UnitReading | None = None
    read_at: float | None = None
    read_error: str | None = None
    info: UnitInfo | None = None
    settings: UnitSettings | None = None
    status: StatusWord | None = None
    last_command: PassiveCommand | None = None
    last_command_at: float = -math.inf
    last_keepalive_at: float = -math.inf
    passive_refused_at: float | None = None
    full_flag: tuple[float, float | None] | None = None  # (when, SoC then) the unit said battery full
    flat_flag: tuple[float, float | None] | None = None
    charge_cap: tuple[float, float] | None = None  # (W, until)
    discharge_cap: tuple[float, float] | None = None
    refreshes: int = 0
    gates: SocGates = field(default_factory=SocGates)
    link: LinkHealth = LinkHealth.UNKNOWN
    room: UnitRoom | None = None
    unavailable: str | None = "not read yet"
    version: int = 0  # bumped whenever something the safety rules look at changes
    room_key: tuple[object, ...] | None = None  # what ``room`` was computed from
    room_valid_until: float = -math.inf
    commands_sent: int = 0
    _response_version: int = field(init=False, default=-1)
    last_power: tuple[float, float] | None = None  # (when, W) the unit last reported its battery power
    widened: bool = False  # a report surprised the plan: its bounds are every plausible response until it settles
    surprised_at: float = -math.inf  # when a report last contradicted every plausible trajectory

    def __post_init__(self) -> None:
        self.response = ResponseLearner(Response(self.config.dead_time_s, self.config.ramp_w_per_s),
                                        fixed=not self.config.learn_response)
        self.plan = PowerEnvelope(self.response.bounds())
        self._response_version = self.response.version

    def restore_response(self, kept: object) -> bool:
        """Take back what the learner had learned before a restart (``ResponseLearner.to_json``) and plan with it;
        False when the unit is told not to learn (its configured response stands). ValueError if ``kept`` is not
        that shape."""
        if not self.config.learn_response:
            return False
        self.response.load_json(kept)
        self.adopt_response()
        return True

    def adopt_response(self) -> None:
        """Plan with the learner's latest estimate (after it learned, or after a saved one was loaded), once
        the unit is steady: changing the response of a transition under way would rewrite what the plan says
        the unit delivered, which the meter's last samples were already judged against."""
        changed = self.response.version != self._response_version or self.widened
        if changed and self.plan.steady:
            self._response_version = self.response.version
            self.widened = False
            self.plan.set_bounds(self.response.bounds())

    def on_power(self, power_w: float, measured_at: float) -> None:
        """A reported battery power (from a short or a full read): what the response learner needs."""
        self.last_power = (measured_at, power_w)
        self.response.on_power(measured_at, power_w)
        self.adopt_response()
        tolerance = max(REPORT_TOLERANCE_W, 0.05 * abs(self.plan.final_w))
        verdict = self.plan.judge_report(measured_at, power_w, tolerance, REPORT_LAG_ALLOWANCE_S, ARRIVAL_SLACK_S)
        if verdict is ReportVerdict.CONTRADICTS:
            # Nothing the unit is believed able to do explains this report (it became slower, say): doubt the
            # commands under way as widely as any ME3000SP could behave, until they have arrived.
            self.plan.widen(measured_at, self.response.plausible_bounds())
            self.widened = True
            self.surprised_at = measured_at
        elif verdict is ReportVerdict.ARRIVED:
            self.plan.arrived(measured_at)  # no slower or faster trajectory is left to doubt

    @property
    def unit_id(self) -> int:
        """Slave id."""
        return self.config.id

    @property
    def soc_pct(self) -> float | None:
        """Last reported state of charge."""
        return self.reading.soc_pct if self.reading else None

    @property
    def flat_soc_pct(self) -> float:
        """Where the unit stops discharging: our minimum, or the inverter's own depth of discharge."""
        own = 100 - self.settings.depth_of_discharge_pct if self.settings else 0.0
        return max(self.config.min_soc_pct, own)

    @property
    def current_w(self) -> float:
        """What the allocation should start from: the accepted setpoint, or where the plan heads."""
        return float(self.setpoint_w) if self.setpoint_w is not None else self.plan.final_w

    def condition(self, now: float) -> UnitCondition:
        """The facts the safety rules need, with expired flags and caps dropped."""
        self._expire(now)
        reading = self.reading
        refused = self.passive_refused_at is not None and now - self.passive_refused_at < PASSIVE_RETRY_S
        return UnitCondition(
            unit=self.config, link=self.link, has_reading=reading is not None,
            in_fault=bool(reading and reading.in_fault), passive_refused=refused,
            battery_full=self.full_flag is not None, battery_flat=self.flat_flag is not None, gates=self.gates,
            charge_cap_w=self.charge_cap[0] if self.charge_cap else None,
            discharge_cap_w=self.discharge_cap[0] if self.discharge_cap else None,
            soc_pct=self.soc_pct)

    def _expire(self, now: float) -> None:
        if self.full_flag is not None and self._flag_over(self.full_flag, now):
            self.full_flag = None
        if self.flat_flag is not None and self._flag_over(self.flat_flag, now):
            self.flat_flag = None
        if self.charge_cap and now >= self.charge_cap[1]:
            self.charge_cap = None
        if self.discharge_cap and now >= self.discharge_cap[1]:
            self.discharge_cap = None

    def _flag_over(self, flag: tuple[float, float | None], now: float) -> bool:
        """A full / flat flag stops counting once the SoC has moved or enough time has passed."""
        when, soc_then = flag
        soc = self.soc_pct
        moved = soc is not None and soc_then is not None and abs(soc - soc_then) >= FLAG_SOC_MOVE_PCT
        return moved or now - when >= FLAG_HOLD_S

    # --- what the link says ---------------------------------------------------------------------------------

    def changes_at(self) -> float:
        """The next time a flag, cap or Passive-mode refusal expires by itself."""
        times = [math.inf]
        if self.full_flag is not None:
            times.append(self.full_flag[0] + FLAG_HOLD_S)
        if self.flat_flag is not None:
            times.append(self.flat_flag[0] + FLAG_HOLD_S)
        if self.charge_cap is not None:
            times.append(self.charge_cap[1])
        if self.discharge_cap is not None:
            times.append(self.discharge_cap[1])
        if self.passive_refused_at is not None:
            times.append(self.passive_refused_at + PASSIVE_RETRY_S)
        return min(times)

    def link_changed(self, health: LinkHealth, now: float) -> bool:
        """Track the bus's view of the unit; True when it went offline or came back."""
        if health is not self.link:
            self.version += 1
        previous, self.link = self.link, health
        went = health is LinkHealth.OFFLINE and previous is not LinkHealth.OFFLINE
        back = previous is LinkHealth.OFFLINE and health is not LinkHealth.OFFLINE
        if went:
            # Unknown from now on: it counts as part of the house until it is read again.
            self.plan.rebase(now, 0.0)
            self.response.on_lost()
            self.setpoint_w = None
            self.reading = None
        return went or back

    # --- what the unit reports ------------------------------------------------------------------------------

    def on_reading(self, reading: UnitReading, now: float, measured_at: float | None = None) -> str | None:
        """Take a reading; a note for the log when it taught something."""
        self.reading, self.read_at, self.read_error = reading, now, None
        self.version += 1
        reported = reading.battery_w
        self.on_power(reported, now if measured_at is None else measured_at)
        if self.setpoint_w is None:
            self.plan.rebase(now, reported)
            return None
        if self.plan.settled_at() > now - 1.0:
            return None  # may still be moving (the slowest plausible response has not arrived): too early
        expected = self.plan.power_at(now)
        if abs(reported - expected) <= max(REPORT_TOLERANCE_W, 0.1 * abs(expected)):
            self.refreshes = 0
            return None
        self.plan.rebase(now, reported)
        self.response.on_lost()
        shortfall = expected * reported >= 0 and abs(reported) < abs(expected)
        idle = abs(reported) < REPORT_TOLERANCE_W
        explained = (expected > 0 and (self.full_flag is not None or reading.soc_pct >= 99)) or (
            expected < 0 and (self.flat_flag is not None or reading.soc_pct <= self.flat_soc_pct + 1))
        if shortfall and (explained or not idle or self.refreshes >= MAX_REFRESHES):
            self._cap(expected > 0, abs(reported), now)
            return f"delivers {reported:+.0f} W of {expected:+.0f} W asked; using it up to that for a while"
        if self.refreshes >= MAX_REFRESHES:
            self._cap(True, 0.0, now)
            self._cap(False, 0.0, now)
            return f"reports {reported:+.0f} W and does not follow its commands; left alone for a while"
        self.refreshes += 1
        self.setpoint_w = None  # a lost command or a lapsed passive mode: send it again
        return f"reports {reported:+.0f} W where {expected:+.0f} W was expected; sending its setpoint again"

    def _cap(self, charging: bool, watts: float, now: float) -> None:
        cap = (watts, now + SHORTFALL_CAP_S)
        if charging:
            self.charge_cap = cap
        else:
            self.discharge_cap = cap

    def on_read_failed(self, error: str, now: float) -> None:
        """A read failed (after the bus's retries)."""
        self.read_error = error

    def on_status(self, command: PassiveCommand, status: StatusWord, now: float) -> None:
        """A command's reply."""
        self.version += 1
        self.status = status
        self.last_command = command
        soc = self.soc_pct
        if status.battery_full:
            self.full_flag = self.full_flag or (now, soc)
        elif status.charge_allowed:
            self.full_flag = None
        if status.battery_flat:
            self.flat_flag = self.flat_flag or (now, soc)
        elif status.discharge_allowed:
            self.flat_flag = None
        if status.accepted:
            self.passive_refused_at = None
            self.last_command_at = self.last_keepalive_at = now
            self.commands_sent += 1
            target = command.battery_w
            blocked = (target > 0 and status.battery_full) or (target < 0 and status.battery_flat)
            self.setpoint_w = target
            goal = 0.0 if blocked else float(target)
            start = self.plan.power_at(now)
            # Learn only from a start the unit itself confirmed: a plan that is off (a unit slower than believed)
            # would teach a wrong dead time.
            confirmed = self.last_power is not None and now - self.last_power[0] <= REPORT_FRESH_S and abs(
                self.last_power[1] - start) <= REPORT_TOLERANCE_W
            self.response.on_command(now, start, goal, self.plan.steady and confirmed)
            self.plan.command(now, goal)
            return
        self.response.on_lost()
        self.setpoint_w = None
        if status.result is CommandResult.INVALID_MODE:
            self.passive_refused_at = now

    def on_command_failed(self, now: float) -> None:
        """No valid reply: the unit may or may not have taken it."""
        self.version += 1
        self.setpoint_w = None
