"""What one unit's battery power may be over time, when its response is known only within bounds.

``PowerEnvelope`` keeps three ``PowerPlan`` trajectories of the same commands: the nominal one (the
learned response, used for the expected power and the energy the meter saw) and the fastest and slowest
responses still plausible. For one step the power at any instant is monotone in the dead time and the
ramp, so the fast and slow trajectories bound every plausible one:

- ``range_w`` is the lowest and highest power the unit may have had in a window: a meter sample that any
  power in it explains is not taken as a change in the house; ``mean_range_w`` bounds the window's mean
  power instead, which is what the meter averaged, and is narrower: it is for a response that was measured and
  whose plausible trajectories arrive within a moment of each other (``arrival_spread_s``);
- ``moving_between`` is true while any plausible trajectory moves;
- ``settled_at`` is when the slowest one arrives: before then, a reading that falls short is not a unit
  that is capped or broken, only a slow one;
- ``judge_report`` says what a reported power means: consistent, outside every plausible trajectory
  (``widen`` then doubts the commands under way as much as any unit could behave), or arrival at the final
  setpoint about when expected (``arrived`` then closes the bounds).

Before a unit's response is learned the bounds span every plausible ME3000SP, so the controller never
corrects a command that may still be on its way; as the response is learned they narrow, and the
controller gets faster. Pure: times are passed in.
"""

from __future__ import annotations

import math
from enum import StrEnum

from smartsofar.control.model import PowerPlan
from smartsofar.control.response import DirectedResponse, ResponseBounds


def _configure(plan: PowerPlan, response: DirectedResponse, now: float | None) -> None:
    if now is None:
        plan.dead_time_s, plan.down_dead_time_s = response.up.dead_time_s, response.down.dead_time_s
    else:
        plan.retime(now, response.up.dead_time_s, response.down.dead_time_s)
    plan.ramp_w_per_s, plan.down_ramp_w_per_s = max(response.up.ramp_w_per_s, 1.0), max(response.down.ramp_w_per_s, 1.0)


class ReportVerdict(StrEnum):
    """What a reported battery power says about the trajectories."""

    CONSISTENT = "consistent"
    CONTRADICTS = "contradicts"  # outside every plausible trajectory: the unit does not behave as believed
    ARRIVED = "arrived"  # at the final setpoint, about when the nominal trajectory said it would be


class PowerEnvelope:
    """Nominal, fast and slow trajectories of one unit's battery power (W, charge positive)."""

    __slots__ = ("command_from_w", "commanded_at", "fast", "measured", "nominal", "slow")

    def __init__(self, bounds: ResponseBounds) -> None:
        self.nominal = PowerPlan()
        self.fast = PowerPlan()
        self.slow = PowerPlan()
        self.commanded_at = -math.inf
        self.command_from_w = 0.0  # where the nominal trajectory had the unit at the last command
        self.measured = False  # the bounds come from what the unit was seen to do
        self.set_bounds(bounds)

    @property
    def plans(self) -> tuple[PowerPlan, PowerPlan, PowerPlan]:
        """All three trajectories."""
        return self.nominal, self.fast, self.slow

    def set_bounds(self, bounds: ResponseBounds, now: float | None = None) -> None:
        """A new estimate. It applies to the ramps under way, and (given ``now``) to commands not yet in
        effect; otherwise to commands from now on."""
        _configure(self.nominal, bounds.nominal, now)
        _configure(self.fast, bounds.fast, now)
        _configure(self.slow, bounds.slow, now)
        self.measured = bounds.measured

    def widen(self, now: float, bounds: ResponseBounds) -> None:
        """The unit did something no plausible trajectory allows: doubt the commands under way as widely as
        ``bounds`` say (the nominal trajectory stays the best estimate)."""
        _configure(self.fast, bounds.fast, now)
        _configure(self.slow, bounds.slow, now)
        self.measured = False

    def judge_report(self, t: float, power_w: float, tolerance_w: float, lag_s: float,
                     arrival_slack_s: float) -> ReportVerdict:
        """What a report of ``power_w`` at ``t`` says, for a report that may trail the real power by up to
        ``lag_s``. Arrival counts when the last command moved the unit by more than twice ``tolerance_w``, the
        report came after it, and the nominal trajectory had the unit there by ``arrival_slack_s`` before
        (one that arrives much later than that has become slower: its bounds stay open)."""
        if self.steady:
            return ReportVerdict.CONSISTENT
        low, high = self.range_w(max(t - lag_s, self.anchor_t), t)
        if power_w < low - tolerance_w or power_w > high + tolerance_w:
            return ReportVerdict.CONTRADICTS
        final = self.final_w
        if (t >= self.commanded_at and abs(power_w - final) <= tolerance_w
                and abs(final - self.command_from_w) > 2 * tolerance_w
                and abs(self.nominal.power_at(t) - final) <= 2 * tolerance_w
                and self.nominal.settled_at() >= t - arrival_slack_s):
            return ReportVerdict.ARRIVED
        return ReportVerdict.CONSISTENT

    @property
    def anchor_t(self) -> float:
        """The earliest time the trajectories are known from."""
        return max(p.anchor_t for p in self.plans)

    @property
    def final_w(self) -> float:
        """Where the unit ends up once everything it was told has taken effect."""
        return self.nominal.final_w

    @property
    def steady(self) -> bool:
        """True when no plausible trajectory moves any more."""
        return all(p.steady for p in self.plans)

    def command(self, now: float, target_w: float) -> None:
        """The unit accepted a command at ``now``."""
        self.commanded_at, self.command_from_w = now, self.nominal.power_at(now)
        for plan in self.plans:
            plan.command(now, target_w)

    def rebase(self, now: float, power_w: float) -> None:
        """The unit reported ``power_w`` now and will stay there."""
        for plan in self.plans:
            plan.rebase(now, power_w)

    def arrived(self, t: float) -> None:
        """The unit reported that it reached its final setpoint at ``t``: no slower or faster trajectory is left to
        doubt from then on. The nominal one keeps its past, the best estimate of what the meter saw before."""
        for plan in (self.fast, self.slow):
            plan.rebase(t, self.final_w)

    def power_at(self, t: float) -> float:
        """Expected (nominal) power at ``t``."""
        return self.nominal.power_at(t)

    def mean_w(self, t0: float, t1: float) -> float:
        """Expected (nominal) mean power over [t0, t1]."""
        return self.nominal.mean_w(t0, t1)

    def range_w(self, t0: float, t1: float) -> tuple[float, float]:
        """The lowest and highest power any plausible trajectory has in [t0, t1]."""
        ranges = [p.range_w(t0, t1) for p in self.plans]
        return min(r[0] for r in ranges), max(r[1] for r in ranges)

    def mean_range_w(self, end_low: float, end_high: float, width_s: float, positions: int = 5) -> tuple[float, float]:
        """The lowest and highest mean power any plausible trajectory has over a window ``width_s`` long that ends
        somewhere in [end_low, end_high] (tried at ``positions`` evenly spaced ends)."""
        ends = [end_low + (end_high - end_low) * i / max(1, positions - 1) for i in range(positions)]
        means = [p.mean_w(end - width_s, end) for p in self.plans for end in ends]
        return min(means), max(means)

    def arrival_spread_s(self) -> float:
        """How far apart the plausible trajectories arrive where the commands under way take them."""
        arrivals = [p.settled_at() for p in self.plans]
        return max(arrivals) - min(arrivals)

    def moving_between(self, t0: float, t1: float, margin_s: float = 0.25) -> bool:
        """True if any plausible trajectory moves anywhere in [t0, t1] (give or take ``margin_s``)."""
        return any(p.moving_between(t0, t1, margin_s) for p in self.plans)

    def settled_at(self) -> float:
        """When the slowest plausible trajectory stops moving."""
        return max(p.settled_at() for p in self.plans)

    def forget_before(self, t: float) -> None:
        """Fold what happened before ``t`` into each trajectory's anchor."""
        for plan in self.plans:
            plan.forget_before(t)
