"""What one unit's battery power is expected to be over time, from the commands it accepted.

A command acts after the unit's dead time, then the power ramps towards the new target at the unit's ramp
rate. Both may differ by direction: ``dead_time_s`` / ``ramp_w_per_s`` apply when the power goes up (towards
charging), ``down_dead_time_s`` / ``down_ramp_w_per_s`` (when set) when it goes down. ``PowerPlan`` keeps
that trajectory so the controller can ask what the unit delivered while the
meter averaged a second (``mean_w``), where it is heading (``final_w``) and when it gets there
(``settled_at``). When a unit reports something else (full, flat, derated, a lost command) the plan is
re-based on the report (``rebase``), so the controller never winds up on power that is not there.

Pure: times are passed in; no clock is read.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(slots=True)
class PowerPlan:
    """Expected battery power (W, charge positive) of one unit."""

    dead_time_s: float = 1.0
    ramp_w_per_s: float = 1000.0
    down_dead_time_s: float | None = None  # None: as up
    down_ramp_w_per_s: float | None = None
    anchor_t: float = 0.0  # time at which the power was anchor_w ...
    anchor_w: float = 0.0
    target_w: float = 0.0  # ... and heading for target_w
    pending: list[tuple[float, float]] = field(default_factory=list)  # (effective time, target), in time order

    @property
    def final_w(self) -> float:
        """Where the unit ends up once everything it was told has taken effect."""
        return self.pending[-1][1] if self.pending else self.target_w

    def command(self, now: float, target_w: float) -> None:
        """The unit accepted a command at ``now``: it acts after the dead time."""
        down = target_w < self.final_w
        dead = self.down_dead_time_s if down and self.down_dead_time_s is not None else self.dead_time_s
        effective = now + dead
        self.pending = [p for p in self.pending if p[0] < effective]
        self.pending.append((effective, target_w))

    def retime(self, now: float, dead_time_s: float, down_dead_time_s: float) -> None:
        """New dead times: commands not yet in effect take effect that much earlier or later."""
        previous = self.target_w
        retimed = []
        for at, target in self.pending:
            down = target < previous
            old = self.down_dead_time_s if down and self.down_dead_time_s is not None else self.dead_time_s
            new = down_dead_time_s if down else dead_time_s
            retimed.append((max(now, at + new - old) if at > now else at, target))
            previous = target
        self.pending = sorted(retimed, key=lambda p: p[0])
        self.dead_time_s, self.down_dead_time_s = dead_time_s, down_dead_time_s

    def rebase(self, now: float, power_w: float) -> None:
        """The unit reported ``power_w`` now and will stay there: forget what it did not do."""
        self.anchor_t = now
        self.anchor_w = power_w
        self.target_w = power_w
        self.pending.clear()

    def settled_at(self) -> float:
        """When the power stops moving (given what it was told so far)."""
        t, w, target = self._fold_all()
        return t + abs(target - w) / self._ramp(w, target)

    @property
    def steady(self) -> bool:
        """True when nothing is on its way: the power stays at ``target_w``."""
        return not self.pending and self.anchor_w == self.target_w

    def moving_between(self, t0: float, t1: float, margin_s: float = 0.5) -> bool:
        """True if the power changes (or may, give or take ``margin_s``) anywhere in [t0, t1]."""
        if self.anchor_w != self.target_w:
            first_change = self.anchor_t
        elif self.pending:
            first_change = self.pending[0][0]
        else:
            return False
        return first_change - margin_s < t1 and self.settled_at() + margin_s > t0

    def power_at(self, t: float) -> float:
        """Expected power at time ``t`` (t at or after the anchor)."""
        if self.steady:
            return self.target_w
        for start, end, w0, target in self._segments(t):
            if end >= t:
                return self._ramped(w0, target, t - start)
        return self.anchor_w  # pragma: no cover - _segments always reaches t

    def range_w(self, t0: float, t1: float) -> tuple[float, float]:
        """The lowest and highest power expected anywhere in [t0, t1]."""
        if self.steady:
            return self.target_w, self.target_w
        values = []
        for start, end, w0, target in self._segments(t1):
            a, b = max(start, t0), min(end, t1)
            if b < a:
                continue
            values += [self._ramped(w0, target, a - start), self._ramped(w0, target, b - start)]
        return (min(values), max(values)) if values else (self.power_at(t1), self.power_at(t1))

    def mean_w(self, t0: float, t1: float) -> float:
        """Expected mean power over [t0, t1]."""
        if self.steady:
            return self.target_w
        if t1 <= t0:
            return self.power_at(t1)
        energy = 0.0
        for start, end, w0, target in self._segments(t1):
            a, b = max(start, t0), min(end, t1)
            if b > a:
                energy += self._energy(w0, target, a - start, b - start)
        return energy / (t1 - t0)

    def forget_before(self, t: float) -> None:
        """Fold what happened before ``t`` into the anchor (keeps the plan short)."""
        if t <= self.anchor_t or self.steady:
            return
        while self.pending and self.pending[0][0] <= t:
            at, target = self.pending.pop(0)
            self.anchor_w = self._ramped(self.anchor_w, self.target_w, at - self.anchor_t)
            self.anchor_t, self.target_w = at, target
        self.anchor_w = self._ramped(self.anchor_w, self.target_w, t - self.anchor_t)
        self.anchor_t = t

    # --- piecewise-linear helpers ----------------------------------------------------------------------

    def _segments(self, until: float) -> list[tuple[float, float, float, float]]:
        """(start, end, power at start, target) pieces from the anchor to ``until``."""
        out = []
        t, w, target = self.anchor_t, self.anchor_w, self.target_w
        for at, nxt in self.pending:
            if at >= until:
                break
            if at > t:
                out.append((t, at, w, target))
                w = self._ramped(w, target, at - t)
                t = at
            target = nxt
        out.append((t, max(until, t), w, target))
        return out

    def _fold_all(self) -> tuple[float, float, float]:
        t, w, target = self.anchor_t, self.anchor_w, self.target_w
        for at, nxt in self.pending:
            if at > t:
                w = self._ramped(w, target, at - t)
                t = at
            target = nxt
        return t, w, target

    def _ramp(self, w0: float, target: float) -> float:
        if target < w0 and self.down_ramp_w_per_s is not None:
            return self.down_ramp_w_per_s
        return self.ramp_w_per_s

    def _ramped(self, w0: float, target: float, dt: float) -> float:
        step = self._ramp(w0, target) * max(dt, 0.0)
        return min(target, w0 + step) if target > w0 else max(target, w0 - step)

    def _energy(self, w0: float, target: float, a: float, b: float) -> float:
        """Integral of the ramp-then-hold power from a to b (seconds after the piece started)."""
        reach = abs(target - w0) / self._ramp(w0, target)
        energy = 0.0
        if a < reach:
            e = min(b, reach)
            energy += (self._ramped(w0, target, a) + self._ramped(w0, target, e)) / 2 * (e - a)
            a = e
        if b > a:
            energy += target * (b - a)
        return energy
