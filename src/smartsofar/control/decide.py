"""The decisions of each mode: standby, manual and auto, one function each, and ``DECIDERS`` that names them.

A new mode is a ``Mode`` member (``smartsofar.modes``), a function here taking ``(inputs, memory)`` and
returning a ``Decision``, and its entry in ``DECIDERS``. What every mode shares comes first: a unit that
became unavailable is sent to 0 W, and nothing is decided when no unit can be used.

- **standby**: every unit at 0 W.
- **manual**: the user's total, cut to the grid limits when they are set (which needs the meter).
- **auto**: the meter's verdict first (a late sample holds what was sent, a silent meter sends everyone to
  standby), then the tracking law on the grid sample and the units' plans (the sample's window known to a second,
  or to its lag when the meter says how old it is; while a unit moves, a sample counts only as far as no plausible
  power explains it: the instantaneous range while the response is unsure, the window's mean once it was
  measured and its plausible arrivals are within ``WINDOW_MEAN_WITHIN_S``), within the range the intent
  leaves (``control.intent``: hold forbids discharging, a grid charge sets a floor), then the oscillation
  watch (corrections that keep reversing make it back off: wait for the last command to land, correct half).

The total is shared out by ``control.allocation``. Pure: the memory (the law's state and the oscillation
watch) is the only thing that changes, and anything worth saying comes back as a ``Notice``.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from smartsofar.config import ControlConfig
from smartsofar.control.allocation import allocate
from smartsofar.control.decision import Decision, DecisionInputs, Notice, SafetyState
from smartsofar.control.intent import BatteryMode, charge_floor
from smartsofar.control.law import TrackingLaw
from smartsofar.control.oscillation import BACKOFF_GAIN, BACKOFF_S, OscillationWatch
from smartsofar.control.oscillation import WINDOW_S as OSCILLATION_WINDOW_S
from smartsofar.control.response import PLAUSIBLE_DEAD_S, PLAUSIBLE_RAMP_W_PER_S
from smartsofar.control.safety import MeterVerdict, grid_limits
from smartsofar.link import LinkHealth
from smartsofar.meter.base import MeterSample
from smartsofar.modes import Mode

DOUBT_S = 15.0  # a unit whose report contradicted its plan this recently makes a reversal suspect
MAX_BACKOFF_HOLD_S = 30.0  # while backing off, a command is left this long at most to land
METER_WINDOW_S = 1.0  # a Shelly sample averages about the last second ...
WINDOW_SLACK_S = 1.0  # ... but that second may end up to a second before its reply arrives, unless its lag is known
DISAGREE_W = 1.0  # plausible trajectories further apart than this in the window: a transition
WINDOW_MEAN_WITHIN_S = 1.5  # a measured response whose plausible arrivals are this close: bound the window's mean
OK = SafetyState.OK


@dataclass(slots=True)
class ControlMemory:
    """What the decisions remember between cycles: the tracking law and the oscillation watch."""

    control: ControlConfig
    law: TrackingLaw = field(init=False)
    oscillation: OscillationWatch = field(default_factory=OscillationWatch)
    backed_off: bool = False
    hold_until: float = -math.inf

    def __post_init__(self) -> None:
        self.law = TrackingLaw(self.control)

    def reconfigure(self, control: ControlConfig) -> None:
        """New thresholds, from the next cycle on (what the law learned of the house is kept)."""
        self.control = control
        self.law.config = control


Decider = Callable[[DecisionInputs, ControlMemory], Decision]


def decide(inputs: DecisionInputs, memory: ControlMemory) -> Decision:
    """The decision of the mode in force."""
    available = inputs.available
    setpoints = {u.unit_id: 0 for u in inputs.units
                 if u.room is None and u.link is not LinkHealth.OFFLINE and u.setpoint_w not in (0, None)}
    if not available:
        return Decision(setpoints=setpoints, safety=SafetyState.NO_UNITS, message="no unit can be used now",
                        reason="none", healthy=True, grid_w=_grid(inputs.sample))
    decision = DECIDERS[inputs.mode.mode](inputs, memory)
    if setpoints:
        decision = replace(decision, setpoints={**setpoints, **decision.setpoints})
    return decision


def decide_standby(inputs: DecisionInputs, _memory: ControlMemory) -> Decision:
    """Every unit at 0 W."""
    return share(inputs, 0, safety=OK, message="standby", reason="standby", healthy=True,
                 grid_w=_grid(inputs.sample))


def decide_manual(inputs: DecisionInputs, _memory: ControlMemory) -> Decision:
    """The user's total, within the grid limits when they are set."""
    control, mode, sample = inputs.control, inputs.mode, inputs.sample
    total = float(mode.manual_power_w)
    limited = control.grid_import_limit_w is not None or control.grid_export_limit_w is not None
    if limited and total:
        if sample is None:
            return share(inputs, 0, safety=SafetyState.MANUAL_NEEDS_METER,
                         message="grid limits are set but the meter is silent: standby", reason="meter silent",
                         healthy=False)
        base = sample.power_w - sum(u.plan.power_at(sample.taken_at) for u in inputs.units)
        low, high = grid_limits(base, control)
        total = min(high, max(low, total))
    return share(inputs, total, safety=OK, message=f"manual {mode.manual_power_w:+d} W", reason="manual",
                 healthy=True, grid_w=_grid(sample))


def decide_auto(inputs: DecisionInputs, memory: ControlMemory) -> Decision:
    """Hold the grid at the target, on the meter's fresh sample."""
    if inputs.verdict is MeterVerdict.STANDBY:
        memory.law.reset()
        return share(inputs, 0, safety=SafetyState.METER_SILENT,
                     message="the grid meter is silent: every unit in standby until it is back",
                     reason="meter silent", healthy=False)
    sample = inputs.sample
    if inputs.verdict is MeterVerdict.HOLD or sample is None:
        return hold(inputs, safety=SafetyState.HOLD, message="the grid meter is late: holding", reason="meter late")
    return _track(inputs, memory, sample)


def _track(inputs: DecisionInputs, memory: ControlMemory, sample: MeterSample) -> Decision:
    now, units, available, law = inputs.now, inputs.units, inputs.available, memory.law
    window_start = sample.taken_at - METER_WINDOW_S
    slack = WINDOW_SLACK_S if sample.lag_s is None else min(WINDOW_SLACK_S, sample.lag_s)
    battery_mean = low = high = 0.0
    in_transition = False
    for unit in units:
        plan = unit.plan
        battery_mean += plan.mean_w(window_start, sample.taken_at)
        if plan.steady:
            unit_low = unit_high = plan.final_w
        else:
            unit_low, unit_high = plan.range_w(window_start - slack, sample.taken_at + slack / 4)
            if unit_high - unit_low > DISAGREE_W or plan.moving_between(window_start - slack, sample.taken_at + slack):
                in_transition = True  # moving, or not known to have moved yet: a slow unit's dead time counts
                if plan.measured and plan.arrival_spread_s() <= WINDOW_MEAN_WITHIN_S:
                    unit_low, unit_high = plan.mean_range_w(sample.taken_at - slack, sample.taken_at + slack / 4,
                                                            METER_WINDOW_S)
            else:
                unit_low = unit_high = plan.power_at(sample.taken_at)
        low, high = low + unit_low, high + unit_high
    raw = law.observe(sample.power_w, sample.taken_at, battery_mean, in_transition, (low, high))
    base = law.state.base_w
    heading = sum(u.plan.final_w for u in units)
    low, high = grid_limits(base, inputs.control)
    rooms = [u.room for u in available if u.room is not None]
    clamp = charge_floor(inputs.intent, (max(low, -sum(r.discharge_w for r in rooms)),
                                         min(high, sum(r.charge_w for r in rooms))))
    dead = sum(u.plan.nominal.dead_time_s for u in available) / len(available)
    decision = law.decide(float(inputs.mode.target_w), heading, clamp, now, raw, dead + 0.5)
    notices, backing_off = _watch_backoff(memory, now)
    message = _auto_message(inputs)
    if not decision.act or (backing_off and now < memory.hold_until):
        reason = decision.reason if not decision.act else "backing off: letting the last command land"
        return _noted(hold(inputs, safety=OK, message=message, reason=reason, grid_w=sample.power_w,
                           base_w=decision.base_w), notices)
    desired = decision.desired_w
    if backing_off:
        desired = heading + BACKOFF_GAIN * (desired - heading)
    per_unit = abs(desired - heading) / len(available)
    settle = max(u.plan.slow.dead_time_s + per_unit / u.plan.slow.ramp_w_per_s for u in available)
    doubted = any(now - u.surprised_at <= DOUBT_S for u in units)
    if memory.oscillation.note(now, desired - heading, settle, doubted):
        notices += (Notice(kind="control", event="backing off: corrections kept reversing", level=logging.WARNING,
                           log=f"auto mode: the corrections keep reversing ({len(memory.oscillation.reversals)} in "
                               f"{OSCILLATION_WINDOW_S:.0f} s): for {BACKOFF_S / 60:.0f} minutes each command is "
                               "left to land and half the error is corrected", data={"backoff": True}),)
    if memory.oscillation.active(now):
        memory.hold_until = now + min(MAX_BACKOFF_HOLD_S, PLAUSIBLE_DEAD_S[1] + per_unit / PLAUSIBLE_RAMP_W_PER_S[0])
    return _noted(share(inputs, desired, safety=OK, message=message, reason=decision.reason, healthy=True,
                        grid_w=sample.power_w, base_w=decision.base_w), notices)


def _auto_message(inputs: DecisionInputs) -> str:
    intent = inputs.intent
    if intent.mode is BatteryMode.CHARGE:
        return f"charging from the grid at {intent.charge_w:.0f} W ({intent.source})"
    if intent.mode is BatteryMode.HOLD:
        return f"holding the batteries' energy ({intent.source})"
    if intent.mode is BatteryMode.EXPORT:
        return f"exporting from the batteries at {intent.export_w:.0f} W ({intent.source})"
    return "holding the grid at the target"


def _watch_backoff(memory: ControlMemory, now: float) -> tuple[tuple[Notice, ...], bool]:
    """Whether the oscillation watch backs off now, and the notice when it stops."""
    active = memory.oscillation.active(now)
    notices: tuple[Notice, ...] = ()
    if memory.backed_off and not active:
        notices = (Notice(kind="control", event="back-off over", data={"backoff": False},
                          log="auto mode: corrections are steady again; back to full speed"),)
    memory.backed_off = active
    return notices, active


def _noted(decision: Decision, notices: tuple[Notice, ...]) -> Decision:
    return replace(decision, notices=decision.notices + notices) if notices else decision


DECIDERS: dict[Mode, Decider] = {Mode.STANDBY: decide_standby, Mode.MANUAL: decide_manual, Mode.AUTO: decide_auto}


# --- shared by the modes -----------------------------------------------------------------------------------

def hold(inputs: DecisionInputs, *, safety: SafetyState, message: str, reason: str, grid_w: float | None = None,
         base_w: float | None = None) -> Decision:
    """Keep what was sent, except for units that must change (unknown setpoint, no longer allowed)."""
    available = inputs.available
    forced = [u for u in available if u.room is not None and
              (u.setpoint_w is None or not u.room.holds(u.setpoint_w))]
    if not forced:
        return Decision(setpoints={}, safety=safety, message=message, reason=reason, healthy=True, grid_w=grid_w,
                        base_w=base_w)
    total = sum(min(u.room.charge_w, max(-u.room.discharge_w, u.current_w)) for u in available if u.room is not None)
    return share(inputs, total, safety=safety, message=message, reason=reason, healthy=True, grid_w=grid_w,
                 base_w=base_w)


def share(inputs: DecisionInputs, total: float, *, safety: SafetyState, message: str, reason: str, healthy: bool,
          grid_w: float | None = None, base_w: float | None = None) -> Decision:
    """``total`` shared out between the available units."""
    control = inputs.control
    rooms = [u.room for u in inputs.available if u.room is not None]
    allocation = allocate(total, rooms, control.allocation, tolerance_w=control.rebalance_tolerance_w,
                          min_change_w=control.min_change_w)
    return Decision(setpoints=dict(allocation.setpoints), safety=safety, message=message, reason=reason,
                    healthy=healthy, grid_w=grid_w, base_w=base_w)


def _grid(sample: MeterSample | None) -> float | None:
    return sample.power_w if sample else None

