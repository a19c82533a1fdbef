"""Auto mode's control law: hold grid power at a target with as few commands as tracking needs.

Each meter sample averages the grid over the second before it arrived. The law subtracts the battery power
the units were *expected* to deliver over that same second (their ``PowerPlan``: commands already sent,
dead time, ramp) to estimate the house's own power, the **base**. So a command on its way is never
corrected twice, and a large step is acted on at the first sample that shows it.

The base is filtered instead of chased: a jump larger than ``jump_w`` is taken at once (a kettle), smaller
moves go through an alpha-beta filter that averages the meter's noise and follows slow PV ramps with their
slope. Jumps that follow each other the same way at a similar rate are a fast ramp (a cloud): its slope is
kept, the new total aims at where the house will be halfway to the next correction, and corrections come
every ``MIN_HOLD_S`` rather than on every sample.

The battery total that would hold the target is then compared with where the units are heading:

- an error above ``step_w`` is corrected at once;
- an error above ``deadband_w`` is corrected once it has lasted ``persistence_ws`` (W·s): a small error is
  worth a command only when it has cost enough energy;
- anything smaller is left alone.

A jump smaller than ``confirm_below_w`` is acted on only once the next sample shows it lasts, so a spike that
is over before a command could act (a fridge's start surge) costs no commands; a real small step waits a
second, which costs little because it is small.

Optionally, SmartSofar v1's stability filter waits for N consecutive samples within X W of each other
before acting on a change below its "immediate" threshold, and then acts on their average.

Samples whose second overlaps a command's expected transition are only used when they show a large step:
a model that is a little off (dead time, ramp) must not trigger a second command.

Pure: samples and times are passed in.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from smartsofar.config import ControlConfig

ALPHA = 0.35  # share of a small residual taken into the base at once
BETA = 0.02  # share of a small residual taken into the slope (per second)
MAX_SLOPE_W_PER_S = 200.0
CAUSAL_S = 1.5  # by default a command acts this long after the sample that asked for it (dead time + 0.5 s)
MIN_HOLD_S = 2.0  # on a fast ramp, correct at most this often
MAX_HOLD_S = 10.0
RAMP_CHANGES = 3  # this many per-sample changes in a row, the same way and of a similar size, are a ramp.
# Two are not: a step that lands inside the meter's window shows up split over two samples.
RAMP_GAP_S = 2.5  # samples further apart than this do not make a ramp


@dataclass(slots=True)
class LawState:
    """What the law remembers between samples."""

    base_w: float | None = None  # the house's own grid power (import +), filtered
    base_t: float = 0.0
    slope_w_per_s: float = 0.0
    raws: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=RAMP_CHANGES + 1))  # (t, W)
    error_ws: float = 0.0  # error integral since the error appeared (signed)
    error_t: float | None = None
    stable: deque[float] = field(default_factory=deque)  # v1 stability filter: raw bases waiting to agree
    stable_cycles: int = 0
    unconfirmed: int = 0  # samples still to see before a small jump is acted on (``confirm_below_w``)


class LawDecision(NamedTuple):
    """What one sample led to."""

    base_w: float
    desired_w: float  # battery total that would hold the target (before clamping by the caller)
    act: bool
    reason: str


class TrackingLaw:
    """Auto mode's law for one site."""

    def __init__(self, config: ControlConfig) -> None:
        self.config = config
        self.state = LawState()

    @property
    def jump_w(self) -> float:
        """A residual larger than this is a step in the house, taken at once."""
        return max(self.config.deadband_w, 15.0)

    def reset(self) -> None:
        """Forget the estimate (after an outage, a mode change)."""
        self.state = LawState()

    def observe(self, grid_w: float, taken_at: float, battery_mean_w: float, in_transition: bool,
                battery_range_w: tuple[float, float] | None = None) -> float | None:
        """Update the base from a sample; None when the sample is set aside (transition, small change).

        ``battery_range_w`` is the lowest and highest battery power the units may have had while the meter
        measured (its window is not known to the second). During a transition only what no power in that
        range explains is news about the house: beyond ``step_w`` it is taken at once (and no more than that,
        so a step is never overshot); a residual the nominal plan explains within ``jump_w`` goes through the
        filter as usual (ramps are followed); otherwise only the unexplained part is filtered in.
        """
        state = self.state
        raw = grid_w - battery_mean_w
        state.raws.append((taken_at, raw))
        ramp = self._ramp_slope()
        if in_transition and ramp and (battery_range_w is None or (
                battery_range_w[1] - battery_range_w[0] >= abs(ramp) * RAMP_CHANGES)):
            ramp = 0.0  # the units' own ramp, which the plan may not know, could make the same samples
        if state.base_w is None:
            state.base_w, state.base_t, state.slope_w_per_s = raw, taken_at, 0.0
            return raw
        dt = taken_at - state.base_t
        if dt <= 0:
            return None
        predicted = state.base_w + state.slope_w_per_s * dt
        residual = raw - predicted
        if in_transition and battery_range_w is None:  # no range given: only a large step counts
            if not (self.config.step_w > 0 and abs(residual) > self.config.step_w):
                return None
            state.base_w, state.base_t = raw, taken_at
            return raw
        if in_transition and battery_range_w is not None:
            # Only what no plausible battery power explains is news about the house.
            low, high = grid_w - battery_range_w[1], grid_w - battery_range_w[0]
            outside = max(low - predicted, predicted - high, 0.0) * (1 if raw > predicted else -1)
            if self.config.step_w > 0 and abs(outside) > self.config.step_w:
                state.base_w = predicted + outside  # the smallest change the sample shows: never overshoot
                state.base_t = taken_at
                self._jumped(outside)
                return raw
            if abs(residual) > self.jump_w:
                # The plan may be off while the units move: take only what no plausible power explains.
                state.base_w = predicted + ALPHA * outside
                if residual * state.slope_w_per_s < 0 and abs(residual) > 1.5 * abs(state.slope_w_per_s):
                    state.slope_w_per_s = 0.0  # the house lags the ramp: it ended or turned; stop leading it
                if ramp and not state.slope_w_per_s:
                    state.slope_w_per_s = max(-MAX_SLOPE_W_PER_S, min(MAX_SLOPE_W_PER_S, ramp))
                return None
            # A small residual the plan explains as well: the filter takes it as usual (ramps are followed).
        large = not in_transition and self.config.step_w > 0 and abs(residual) > self.config.step_w
        if ramp == 0.0 and abs(state.slope_w_per_s) > 1.0 and len(state.raws) > RAMP_CHANGES and (
                max(w for _, w in state.raws) - min(w for _, w in state.raws) < self.jump_w):
            state.slope_w_per_s *= 0.5  # the house stopped moving: so does the ramp
        if large or (abs(residual) > self.jump_w and not in_transition) or (ramp and not state.slope_w_per_s):
            state.base_w = raw
            state.slope_w_per_s = max(-MAX_SLOPE_W_PER_S, min(MAX_SLOPE_W_PER_S, ramp))
            if large and not ramp:
                self._jumped(residual)
            else:
                state.unconfirmed = max(0, state.unconfirmed - 1)
        else:
            state.unconfirmed = max(0, state.unconfirmed - 1)
            state.base_w = predicted + ALPHA * residual
            slope = state.slope_w_per_s + BETA * residual / dt
            state.slope_w_per_s = max(-MAX_SLOPE_W_PER_S, min(MAX_SLOPE_W_PER_S, slope))
        state.base_t = taken_at
        return raw

    def _jumped(self, size_w: float) -> None:
        """The house jumped by ``size_w``: a small jump waits for the next sample (``confirm_below_w``)."""
        self.state.unconfirmed = int(abs(size_w) < self.config.confirm_below_w)

    def _ramp_slope(self) -> float:
        """The slope (W/s) if the last samples change steadily the same way faster than noise, else 0."""
        raws = self.state.raws
        if len(raws) <= RAMP_CHANGES:
            return 0.0
        points = list(raws)
        rates = []
        for (t0, w0), (t1, w1) in itertools.pairwise(points):
            if not 0 < t1 - t0 <= RAMP_GAP_S:
                return 0.0
            rates.append((w1 - w0) / (t1 - t0))
        smallest = min(abs(r) for r in rates)
        if smallest < self.jump_w or not (all(r > 0 for r in rates) or all(r < 0 for r in rates)):
            return 0.0
        if max(abs(r) for r in rates) > 2 * smallest:
            return 0.0
        return sum(rates) / len(rates)

    def decide(self, target_w: float, heading_w: float, clamp: tuple[float, float], now: float,
               raw_base_w: float | None, causal_s: float = CAUSAL_S) -> LawDecision:
        """Whether to re-command the units, given where they are heading (``heading_w``, battery total).

        ``clamp`` is the (lowest, highest) battery total the units and the rules allow now; ``causal_s`` how
        long after ``now`` a command would take effect (the units' dead time and half a second).
        """
        state = self.state
        assert state.base_w is not None, "observe() a sample first"
        slope = state.slope_w_per_s
        cfg = self.config
        # Along a ramp, aim at where the house will be halfway to the next correction, so the error saws
        # around zero instead of lagging; on a fast ramp correct every MIN_HOLD_S, not on every sample.
        hold = min(MAX_HOLD_S, max(MIN_HOLD_S, cfg.step_w / abs(slope))) if slope else 0.0
        ahead = state.base_w + slope * (causal_s + hold / 2)
        step = max(cfg.step_w, abs(slope) * MIN_HOLD_S)
        if heading_w:
            # Exported battery energy is lost twice (gone now, imported later); a watt imported while charging
            # costs only its round-trip loss. So small errors are better on the import side.
            target_w += self.config.lean_w
        desired = min(clamp[1], max(clamp[0], target_w - ahead))
        error = desired - heading_w
        if cfg.stability_filter.enabled:
            return self._stability_gate(desired, error, target_w, clamp, raw_base_w)
        size = abs(error)
        if state.unconfirmed:
            return LawDecision(state.base_w, desired, False, "confirming a jump")
        if cfg.step_w and size >= step:
            return self._act(desired, "large change")
        fast_ramp = abs(slope) * MIN_HOLD_S > cfg.step_w
        if size < max(cfg.deadband_w, 1.0) or (fast_ramp and size < step):
            # Within the deadband; or on a fast ramp, where the lead aims ahead and corrections come with the hold.
            state.error_ws, state.error_t = 0.0, None
            return LawDecision(state.base_w, desired, False, "within deadband")
        if state.error_t is None or (state.error_ws > 0) != (error > 0):
            state.error_ws, elapsed = 0.0, 1.0  # a new error counts from the sample that shows it
        else:
            elapsed = min(now - state.error_t, 5.0)
        state.error_ws += error * elapsed
        state.error_t = now
        if abs(state.error_ws) >= cfg.persistence_ws:
            return self._act(desired, "lasting error")
        return LawDecision(state.base_w, desired, False, "waiting")

    def _act(self, desired: float, reason: str) -> LawDecision:
        assert self.state.base_w is not None
        self.state.error_ws, self.state.error_t = 0.0, None
        return LawDecision(self.state.base_w, desired, True, reason)

    def _stability_gate(self, desired: float, error: float, target_w: float, clamp: tuple[float, float],
                        raw_base_w: float | None) -> LawDecision:
        """SmartSofar v1's rule: below ``immediate_above_w`` act only on N agreeing samples, on their mean."""
        cfg = self.config.stability_filter
        state = self.state
        assert state.base_w is not None
        if abs(error) < max(self.config.deadband_w, 1.0):
            state.stable.clear()
            state.stable_cycles = 0
            return LawDecision(state.base_w, desired, False, "within deadband")
        if abs(error) >= cfg.immediate_above_w:
            state.stable.clear()
            state.stable_cycles = 0
            return self._act(desired, "large change")
        if raw_base_w is not None:
            state.stable.append(raw_base_w)
            state.stable_cycles += 1
        recent = list(state.stable)[-cfg.readings:]
        agree = len(recent) >= cfg.readings and max(recent) - min(recent) <= cfg.within_w
        if agree or state.stable_cycles >= cfg.max_cycles:
            mean_base = sum(state.stable) / len(state.stable)
            state.stable.clear()
            state.stable_cycles = 0
            averaged = min(clamp[1], max(clamp[0], target_w - mean_base))
            return self._act(averaged, "stable readings")
        return LawDecision(state.base_w, desired, False, "waiting for stable readings")
