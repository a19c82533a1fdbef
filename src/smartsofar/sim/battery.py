"""Physics of one simulated ME3000SP: battery, command dead time and ramp, passive-mode rules, registers.

Time is passed in (``now`` in seconds on any monotonic scale), never read, so the same model runs in real
time behind the Modbus simulator and in accelerated time inside the control simulation.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from smartsofar.sofar.passive import PassiveCommand, StatusWord
from smartsofar.sofar.status import RunningState

PASSIVE_LAPSE_S = 60.0


@dataclass(frozen=True, slots=True)
class BatterySpec:
    """What one unit and its battery can do."""

    capacity_wh: float = 4800.0
    max_charge_w: float = 3000.0
    max_discharge_w: float = 3000.0
    dead_time_s: float = 1.0
    ramp_w_per_s: float = 1000.0
    min_soc_pct: float = 5.0  # the BMS's flat point (depth of discharge)
    efficiency: float = 0.95  # one way
    report_lag_s: float = 0.0  # the battery power the registers report trails the real one by this much


@dataclass(slots=True)
class SimUnit:
    """State of one simulated unit."""

    spec: BatterySpec = field(default_factory=BatterySpec)
    soc_pct: float = 50.0
    passive_selected: bool = True  # the "Passive" work mode chosen on the unit's screen
    fault_word_1: int = 0  # injected fault bits (0x0201); non-zero puts the unit in FaultState
    command: PassiveCommand = field(default_factory=lambda: PassiveCommand("standby"))
    power_w: float = 0.0  # actual battery power, charge positive
    target_w: float = 0.0  # where the power is ramping to
    _pending: list[tuple[float, float]] = field(default_factory=list)  # (effective at, target)
    last_keepalive: float = 0.0
    last_advance: float | None = None
    charged_wh: float = 0.0
    discharged_wh: float = 0.0
    battery_temp_c: float = 22.0
    inverter_temp_c: float = 30.0
    cycles: int = 12
    switching_until: float = 0.0  # checking state after leaving standby
    _history: deque[tuple[float, float]] = field(default_factory=lambda: deque(maxlen=64))  # (t, power) for the lag

    @property
    def in_fault(self) -> bool:
        """The unit is in FaultState and will not move power."""
        return bool(self.fault_word_1)

    @property
    def full(self) -> bool:
        """Charging prohibited."""
        return self.soc_pct >= 100.0

    @property
    def flat(self) -> bool:
        """Discharging prohibited."""
        return self.soc_pct <= self.spec.min_soc_pct

    def status(self, result: int = 0) -> StatusWord:
        """The status word this unit would answer with."""
        bits = 0
        if not self.in_fault and not self.full:
            bits |= 0x01
        if not self.in_fault and not self.flat:
            bits |= 0x02
        if self.full:
            bits |= 0x04
        if self.flat:
            bits |= 0x08
        return StatusWord((bits << 8) | result)

    def apply(self, command: PassiveCommand, now: float) -> StatusWord:
        """A 0x42 command arriving now: refuse it (result code) or schedule its effect after the dead time."""
        if not self.passive_selected:
            return self.status(1)
        if command.kind in ("charge", "discharge") and command.power_w > max(self.spec.max_charge_w,
                                                                              self.spec.max_discharge_w):
            return self.status(4)
        self.advance(now)
        self.command = command
        self.last_keepalive = now
        if command.kind != "auto":
            if self.target_w == 0 and command.battery_w != 0:
                self.switching_until = now + self.spec.dead_time_s
            self._pending.append((now + self.spec.dead_time_s, float(command.battery_w)))
        return self.status(0)

    def heartbeat(self, now: float) -> StatusWord:
        """A 0x49 keep-alive."""
        self.last_keepalive = now
        return self.status(0)

    def advance(self, now: float, grid_import_w: float = 0.0) -> None:
        """Move the model to ``now``. ``grid_import_w`` is what the unit's own CT sees (for auto mode).

        Exact for any step size: a command takes effect at its own time (after the dead time), not at the
        start or end of the step that contains it, and the energy of a ramp that ends mid-step is integrated
        piece by piece.
        """
        if self.last_advance is None:
            self.last_advance = now
            self.last_keepalive = now
            return
        t = self.last_advance
        if now <= t:
            return
        lapse_at = self.last_keepalive + PASSIVE_LAPSE_S
        if self.command.kind != "standby" and now > lapse_at:
            self.command = PassiveCommand("standby")
            self._pending = [(max(lapse_at, t), 0.0)]
        while self._pending and self._pending[0][0] <= now:
            at, target = self._pending.pop(0)
            if at > t:
                self._ramp(t, at)
                t = at
            self.target_w = target
        if self.command.kind == "auto":
            self.target_w = self.power_w + grid_import_w - self.command.power_w
        self._ramp(t, now)
        self.last_advance = now
        if self.spec.report_lag_s > 0:
            self._history.append((now, self.power_w))

    def reported_power_w(self, now: float) -> float:
        """The battery power the unit's registers show at ``now``: the real one, ``report_lag_s`` ago."""
        lag = self.spec.report_lag_s
        if lag <= 0 or not self._history:
            return self.power_w
        when = now - lag
        previous: tuple[float, float] | None = None
        for t, w in reversed(self._history):
            if t <= when:
                if previous is None:
                    return w
                t1, w1 = previous
                return w + (w1 - w) * (when - t) / (t1 - t) if t1 > t else w
            previous = (t, w)
        return self._history[0][1]

    def _ramp(self, start: float, end: float) -> None:
        """Ramp towards the (limited) target from ``start`` to ``end``, integrating energy exactly."""
        dt = end - start
        target = self._limited(self.target_w)
        begin = self.power_w
        reach_s = abs(target - begin) / self.spec.ramp_w_per_s
        if reach_s >= dt:
            self.power_w = begin + (dt * self.spec.ramp_w_per_s if target > begin else -dt * self.spec.ramp_w_per_s)
            self._integrate((begin + self.power_w) / 2, dt)
            return
        if reach_s > 0:
            self._integrate((begin + target) / 2, reach_s)
        self.power_w = target
        self._integrate(target, dt - reach_s)

    def _limited(self, target: float) -> float:
        if self.in_fault:
            return 0.0
        if target > 0:
            return 0.0 if self.full else min(target, self.spec.max_charge_w)
        if target < 0:
            return 0.0 if self.flat else max(target, -self.spec.max_discharge_w)
        return 0.0

    def _integrate(self, mean_w: float, dt: float) -> None:
        if dt <= 0:
            return
        energy_wh = mean_w * dt / 3600
        if energy_wh >= 0:
            self.charged_wh += energy_wh
            stored = energy_wh * self.spec.efficiency
        else:
            self.discharged_wh -= energy_wh
            stored = energy_wh / self.spec.efficiency
        self.soc_pct = min(100.0, max(0.0, self.soc_pct + 100 * stored / self.spec.capacity_wh))
        alpha = min(1.0, dt / 600)
        self.battery_temp_c += (22 + abs(mean_w) / 300 - self.battery_temp_c) * alpha
        self.inverter_temp_c += (30 + abs(mean_w) / 150 - self.inverter_temp_c) * alpha

    def running_state(self, now: float) -> RunningState:
        """What register 0x0200 says now."""
        if self.in_fault:
            return RunningState.FAULT
        heading = self._pending[-1][1] if self._pending else self.target_w
        if now < self.switching_until:
            return RunningState.CHECK if heading > 0 else RunningState.CHECK_DISCHARGE
        if self.power_w > 5:
            return RunningState.CHARGING
        if self.power_w < -5:
            return RunningState.DISCHARGING
        return RunningState.WAIT

    @property
    def battery_v(self) -> float:
        """A 16-cell LFP pack's voltage, loaded."""
        return 48.0 + 0.06 * self.soc_pct + self.power_w / 3000 * 0.8
