"""``smartsofar simulate``: a controller against the in-process plant, one measured day, in accelerated time.

A virtual clock drives everything. Controllers ``await sim.sleep(s)``; while time passes the plant's
physics run (the same ``Plant``/``SimUnit`` the Modbus simulator serves), and every whole second is
accounted: the meter publishes that second's mean grid power (± noise), and the metrics add up the grid
energy, what the house would have drawn with no battery, and what the zero-latency oracle achieves.

``run_smartsofar`` is the real engine (``Site``, ``UnitMonitor``, ``MeterPoller``) on in-process ports, the
same code as the service. The other controllers, and ``simulate`` that runs any of them by name, are in
``sim.controllers``.

The plant need not match what the controller is told: ``Scenario.plant`` gives each unit its own true dead
time, ramp and report lag (the registers trail the real power), while the controller starts from the
configured unit (``Scenario.unit``) and has to learn. The meter publishes every ``meter_period_s`` (a second,
or a fraction of one, as an SMA Energy Meter does) the mean grid power of that period. The poller's
``PollPhase`` steers the polls to just after the publication, from ``meter_phase_s`` after it, as in the
service; without ``steer_polls`` every sample comes ``meter_phase_s`` after it is published (a push's
transport, or a poll's unlucky phase). A sample is timed by its arrival, as the real clients time theirs.

Metrics (the JSON keys): ``import_kwh``, ``export_kwh``; ``none_*`` with no battery; ``oracle_*`` for the
oracle; ``capture`` = (none - controller) / (none - oracle) on import + export; ``mean_abs_error_w`` =
mean |grid - target| over the seconds where the oracle was not saturated; ``max_excursion_w`` the largest
|grid - target| in those seconds; ``commands_per_hour`` the accepted 0x42 writes to all units;
``sign_flips_per_min`` how often the commanded battery total turns from charge to discharge or back;
``settle_max_s`` the longest time any step of the house (a change of at least ``STEP_EVENT_W`` in one
second that the units could follow) took until the grid stayed within ``SETTLED_W`` of the target for
``SETTLED_FOR_S``, and ``unsettled_steps`` how many such steps did not settle within ``SETTLE_LIMIT_S``
(steps interrupted by the next one are not counted either way).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.engine.monitor import UnitMonitor
from smartsofar.engine.site import Site
from smartsofar.engine.units import UnitRuntime
from smartsofar.meter.poller import MeterPoller
from smartsofar.modes import Mode, ModeState
from smartsofar.sim.battery import BatterySpec
from smartsofar.sim.household import DAY_S, Household
from smartsofar.sim.inprocess import PlantUnitPort, SecondMeter
from smartsofar.sim.oracle import Oracle, OracleBattery
from smartsofar.sim.plant import Plant
from smartsofar.sim.pricing import CostMeter, SimPlanner, SimPricing

STEP_EVENT_W = 200.0
SETTLED_W = 50.0
SETTLED_FOR_S = 5
SETTLE_LIMIT_S = 120.0
FLIP_DEADBAND_W = 50.0  # a commanded total within this of zero has no sign


@dataclass(slots=True)
class StepWatch:
    """Settle times of the house's steps, and sign flips of the commanded total."""

    target_w: float
    open_at: int | None = None
    within: int = 0
    unsettled: int = 0
    settle_times: list[float] = field(default_factory=list)
    sign: int = 0
    flips: int = 0
    _last_base: float | None = None

    def second(self, t: int, base_w: float, grid_w: float, saturated: bool, commanded_w: float) -> None:
        """One second: the house's power, the grid, whether the oracle was saturated, the commanded total."""
        sign = 0 if abs(commanded_w) < FLIP_DEADBAND_W else (1 if commanded_w > 0 else -1)
        if sign and self.sign and sign != self.sign:
            self.flips += 1
        self.sign = sign or self.sign
        step = self._last_base is not None and abs(base_w - self._last_base) >= STEP_EVENT_W
        self._last_base = base_w
        if step:
            self.open_at, self.within = (None if saturated else t), 0  # a new step interrupts the last one
            return
        if self.open_at is None:
            return
        if saturated:
            self.open_at = None  # the units could not follow this one: it says nothing of the controller
            return
        self.within = self.within + 1 if abs(grid_w - self.target_w) <= SETTLED_W else 0
        if self.within >= SETTLED_FOR_S:
            self.settle_times.append(t - SETTLED_FOR_S + 1 - self.open_at)
            self.open_at = None
        elif t - self.open_at > SETTLE_LIMIT_S:
            self.unsettled += 1
            self.open_at = None

    def result(self, minutes: float) -> dict[str, float]:
        """The figures."""
        return {"sign_flips_per_min": round(self.flips / minutes, 3) if minutes else 0.0,
                "settle_max_s": max(self.settle_times, default=0.0), "settled_steps": len(self.settle_times),
                "unsettled_steps": self.unsettled}


@dataclass(slots=True)
class Metrics:
    """Energy and tracking figures, added up second by second."""

    target_w: float
    seconds: int = 0
    import_wh: float = 0.0
    export_wh: float = 0.0
    none_import_wh: float = 0.0
    none_export_wh: float = 0.0
    oracle_import_wh: float = 0.0
    oracle_export_wh: float = 0.0
    abs_error_sum: float = 0.0
    tracked_seconds: int = 0
    max_excursion_w: float = 0.0

    def add(self, grid_w: float, base_w: float, oracle_grid_w: float, saturated: bool) -> None:
        """One second."""
        self.seconds += 1
        if grid_w > 0:
            self.import_wh += grid_w / 3600
        else:
            self.export_wh -= grid_w / 3600
        if base_w > 0:
            self.none_import_wh += base_w / 3600
        else:
            self.none_export_wh -= base_w / 3600
        if oracle_grid_w > 0:
            self.oracle_import_wh += oracle_grid_w / 3600
        else:
            self.oracle_export_wh -= oracle_grid_w / 3600
        if not saturated:
            error = abs(grid_w - self.target_w)
            self.abs_error_sum += error
            self.tracked_seconds += 1
            self.max_excursion_w = max(self.max_excursion_w, error)

    def result(self, commands: int) -> dict[str, float]:
        """The summary figures."""
        none = self.none_import_wh + self.none_export_wh
        oracle = self.oracle_import_wh + self.oracle_export_wh
        ours = self.import_wh + self.export_wh
        hours = self.seconds / 3600
        return {
            "import_kwh": round(self.import_wh / 1000, 3), "export_kwh": round(self.export_wh / 1000, 3),
            "none_import_kwh": round(self.none_import_wh / 1000, 3),
            "none_export_kwh": round(self.none_export_wh / 1000, 3),
            "oracle_import_kwh": round(self.oracle_import_wh / 1000, 3),
            "oracle_export_kwh": round(self.oracle_export_wh / 1000, 3),
            "capture": round((none - ours) / (none - oracle), 4) if none - oracle > 1e-9 else 1.0,
            "mean_abs_error_w": round(self.abs_error_sum / self.tracked_seconds, 2) if self.tracked_seconds else 0.0,
            "max_excursion_w": round(self.max_excursion_w, 1),
            "commands_per_hour": round(commands / hours, 1) if hours else 0.0,
            "tracked_share": round(self.tracked_seconds / self.seconds, 3) if self.seconds else 0.0,
        }


@dataclass(slots=True)
class Scenario:
    """What to simulate."""

    household: Household
    units: int = 2
    soc_pct: float = 50.0
    control: ControlConfig = field(default_factory=ControlConfig)
    unit: UnitConfig = field(default_factory=lambda: UnitConfig(id=1))
    start_s: float = 0.0
    duration_s: float = DAY_S
    noise_w: float = 5.0
    seed: int = 11
    plant: list[BatterySpec] | None = None  # each unit's true response; None: what ``unit`` says
    meter_phase_s: float = 0.1  # the engine gets a sample this long after the meter publishes it
    meter_period_s: float = 1.0  # the meter publishes this often (1 s, or a fraction of a second)
    meter_lag_s: float | None = None  # what each sample says of its age (a push as measured: the client's value)
    steer_polls: bool = True  # polls steered by the poller's PollPhase, starting at meter_phase_s
    pricing: SimPricing | None = None  # the tariff and the planner (None: no bill)
    responses: dict[int, dict[str, Any]] | None = None  # each unit's learner as kept across restarts, by unit id
    reference_deadband_w: float = 10.0  # the predictor's and perfect sensing's: wider spends fewer commands

    def plant_specs(self) -> list[BatterySpec]:
        """Each unit's true spec."""
        if self.plant is not None:
            return list(self.plant)
        unit = self.unit
        spec = BatterySpec(capacity_wh=unit.capacity_wh, max_charge_w=unit.max_charge_w,
                           max_discharge_w=unit.max_discharge_w, dead_time_s=unit.dead_time_s,
                           ramp_w_per_s=unit.ramp_w_per_s)
        return [spec] * self.units

    def unit_configs(self) -> list[UnitConfig]:
        """One config per unit, ids 1..N, from the template."""
        return [self.unit.model_copy(update={"id": i, "name": ""}) for i in range(1, self.units + 1)]


class Simulation:
    """The virtual clock, the plant, the meter, the oracle and the metrics of one run."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.t = 0.0
        self.end = scenario.duration_s
        unit = scenario.unit
        specs = scenario.plant_specs()
        if len(specs) != scenario.units:
            raise ValueError(f"{len(specs)} plant specs for {scenario.units} units")
        spec = specs[0]
        self.plant = Plant(scenario.household, range(1, scenario.units + 1), soc_pct=scenario.soc_pct,
                           clock=self.now, day_start_s=scenario.start_s,
                           specs={i + 1: sp for i, sp in enumerate(specs)})
        self.plant.advance(0.0)
        self.meter = SecondMeter(noise_w=scenario.noise_w, seed=scenario.seed, clock=self.now,
                                 lag_s=scenario.meter_lag_s)
        self.ports = {uid: PlantUnitPort(self.plant, uid) for uid in self.plant.units}
        floor = max(unit.reserve_soc_pct, spec.min_soc_pct)
        self.oracle = Oracle([OracleBattery(scenario.soc_pct, unit.capacity_wh, unit.max_charge_w,
                                            unit.max_discharge_w, floor, unit.max_soc_pct, spec.efficiency)
                              for _ in range(scenario.units)], scenario.control.target_w)
        self.metrics = Metrics(scenario.control.target_w)
        self.steps = StepWatch(scenario.control.target_w)
        self.battery_w = 0.0  # the true battery total over the last accounted second
        self.base_w = 0.0  # the true house power (load - PV) over the last accounted second
        self.pv_w = 0.0  # the PV's over that second
        self._next_second = 1.0
        self._battery_wh = 0.0
        period = scenario.meter_period_s
        if not 0 < period <= 1.0 or abs(round(1.0 / period) * period - 1.0) > 1e-9:
            raise ValueError(f"meter_period_s must divide a second, got {period}")
        self._publish_index = 1
        self._meter_wh = 0.0  # battery energy at the last publish, for sub-second meters
        self._pv_end: float | None = None  # PV at the end of the last accounted second
        self.grid_w = 0.0  # the true grid power over the last accounted second
        self.on_second: list[Callable[[float], None]] = []
        self.learned: dict[int, dict[str, Any]] = {}  # each unit's learned response, when the engine ran
        self.responses: dict[int, dict[str, Any]] = {}  # each unit's learner as it would be kept, when the engine ran
        self.costs: CostMeter | None = None
        if scenario.pricing is not None:
            scenario.pricing.cover(scenario.duration_s)
            self.costs = CostMeter(scenario.pricing)
        self.stored_at_start_wh = self.stored_wh()
        self.planner: SimPlanner | None = None
        self.backoffs = 0  # how often the engine's oscillation watch backed off

    def now(self) -> float:
        """Simulated time, seconds since the start."""
        return self.t

    def wall(self) -> float:
        """The wall clock the engine sees: the priced run's dates, else simulated time."""
        pricing = self.scenario.pricing
        return self.t + (pricing.epoch0 if pricing is not None else 0.0)

    def stored_wh(self) -> float:
        """The energy the batteries hold now."""
        return sum(u.soc_pct / 100 * u.spec.capacity_wh for u in self.plant.units.values())

    @property
    def commands(self) -> int:
        """Accepted 0x42 writes so far, all units."""
        return sum(p.commands for p in self.ports.values())

    async def sleep(self, seconds: float) -> None:
        """Let ``seconds`` of simulated time pass."""
        end = min(self.t + seconds, self.end)
        period = self.scenario.meter_period_s
        while True:
            next_publish = self._publish_index * period if period < 1.0 else math.inf
            if min(self._next_second, next_publish) > end:
                break
            if self._next_second <= next_publish + 1e-9:
                self.t = self._next_second
                self._account_second(self.t)
                self._next_second += 1.0
                if abs(next_publish - self.t) < 1e-9:  # a publish on the whole second: after its accounting
                    self._publish(self.t, period)
                    self._publish_index += 1
            else:
                self.t = next_publish
                self._publish(self.t, period)
                self._publish_index += 1
        self.t = max(self.t, end)

    def _publish(self, t: float, period: float) -> None:
        """A sub-second meter finished averaging the period that ends at ``t``."""
        plant = self.plant
        plant.advance(t)
        net_wh = sum(u.charged_wh - u.discharged_wh for u in plant.units.values())
        battery_w = (net_wh - self._meter_wh) * 3600 / period
        self._meter_wh = net_wh
        second = plant.second_of_day(t - period)
        base = plant.household.load_w(second) - plant.household.pv_w(second)
        self.meter.publish(base + battery_w, t)

    def _account_second(self, t: float) -> None:
        plant = self.plant
        plant.advance(t)
        net_wh = sum(u.charged_wh - u.discharged_wh for u in plant.units.values())
        battery_w = (net_wh - self._battery_wh) * 3600
        self._battery_wh = net_wh
        start = plant.second_of_day(t - 1.0)
        household = plant.household
        if getattr(household, "held", False):
            base = household.load_w(start) - household.pv_w(start)
        else:
            pv_end = household.pv_w(start + 1.0)
            pv_start = self._pv_end if self._pv_end is not None else household.pv_w(start)
            self._pv_end = pv_end
            base = household.load_w(start) - (pv_start + pv_end) / 2
        grid = base + battery_w
        self.grid_w, self.battery_w, self.base_w = grid, battery_w, base
        self.pv_w = household.load_w(start) - base
        if self.scenario.meter_period_s >= 1.0:
            self.meter.publish(grid, t)
        if self.costs is not None:
            self.costs.second(t, grid, base, battery_w)
        oracle_grid, saturated = self.oracle.second(base)
        self.metrics.add(grid, base, oracle_grid, saturated)
        commanded = sum(float(u.command.battery_w) for u in plant.units.values() if u.command.kind != "auto")
        self.steps.second(int(t), base, grid, saturated, commanded)
        for callback in self.on_second:
            callback(t)

    @property
    def done(self) -> bool:
        """True once the scenario's duration has passed."""
        return self.t >= self.end


def build_site(sim: Simulation, control: ControlConfig, mode: ModeState) -> tuple[Site, UnitMonitor, MeterPoller]:
    """The service's engine, wired to the simulation's in-process peers."""
    runtimes = [UnitRuntime(cfg, sim.ports[cfg.id], "simulated bus", i + 1)
                for i, cfg in enumerate(sim.scenario.unit_configs())]
    poller = MeterPoller(sim.meter, interval_s=1.0, stale_after_s=5.0, clock=sim.now)
    site = Site(control, runtimes, poller, mode, clock=sim.now, wall_clock=sim.wall)
    return site, UnitMonitor(site), poller


async def drive(sim: Simulation, site: Site, monitor: UnitMonitor, poller: MeterPoller,
                until_s: float | None = None) -> None:
    """``engine.runner``'s schedule in simulated time: a meter poll ``meter_phase_s`` after each second the
    meter publishes, then the units due for a read and one control cycle; short power reads in between
    while a command settles."""
    end = sim.end if until_s is None else min(until_s, sim.end)
    period = sim.scenario.meter_period_s
    next_poll = math.floor(sim.t / period) * period + sim.scenario.meter_phase_s
    if next_poll < sim.t:
        next_poll += period
    while sim.t < end:
        power_read = monitor.next_power_read_at()
        if power_read is not None and power_read < next_poll:
            await sim.sleep(max(0.0, power_read - sim.t))
            if sim.t >= end:
                break
            await monitor.read_due(sim.t)
            continue
        await sim.sleep(next_poll - sim.t)
        if sim.t >= end:
            break
        sample = await poller.poll_once()
        next_poll += poller.phase.after(sample, period) if sim.scenario.steer_polls else period
        await monitor.read_due(sim.t)
        if sim.planner is not None:
            sim.planner.maybe_plan(sim.t)
        await site.step(sim.t)


async def run_smartsofar(sim: Simulation) -> None:
    """The real engine, one cycle per meter sample, as ``engine.runner`` runs it."""
    control = sim.scenario.control
    mode = ModeState(Mode.AUTO, target_w=control.target_w, allow_charge=control.allow_charge,
                     allow_discharge=control.allow_discharge)
    site, monitor, poller = build_site(sim, control, mode)
    for rt in site.units:  # what the service's response store gives back after a restart
        kept = (sim.scenario.responses or {}).get(rt.unit_id)
        if kept is not None:
            rt.restore_response(kept)
    pricing = sim.scenario.pricing
    if pricing is not None and pricing.planner is not None:
        planner = sim.planner = SimPlanner(pricing, site, pricing.planner)
        sim.on_second.append(lambda t: planner.second(t, sim.base_w, sim.pv_w))
    await monitor.read_all()
    await drive(sim, site, monitor, poller)
    sim.learned = {rt.unit_id: rt.response.summary() for rt in site.units}
    sim.responses = {rt.unit_id: rt.response.to_json() for rt in site.units}
    sim.backoffs = site.memory.oscillation.engagements
