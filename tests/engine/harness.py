"""A rig for engine tests in accelerated time: the real engine on in-process ports, a scripted house."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.engine.commands import SiteCommands
from smartsofar.engine.monitor import UnitMonitor
from smartsofar.engine.site import Site
from smartsofar.engine.snapshot import Event
from smartsofar.meter.poller import MeterPoller
from smartsofar.modes import Mode, ModeState
from smartsofar.sim.battery import BatterySpec
from smartsofar.sim.simulate import Scenario, Simulation, build_site, drive
from smartsofar.storage.state_store import StateStore


@dataclass
class ScriptedHouse:
    """A constant load plus timed events (start s, end s, W), and a PV curve."""

    load: float = 400.0
    events: list[tuple[float, float, float]] = field(default_factory=list)
    pv: Callable[[float], float] = lambda _t: 0.0

    def load_w(self, second_of_day: float) -> float:
        return self.load + sum(w for start, end, w in self.events if start <= second_of_day < end)

    def pv_w(self, second_of_day: float) -> float:
        return self.pv(second_of_day)


@dataclass
class Rig:
    """One simulated site under test."""

    sim: Simulation
    site: Site
    monitor: UnitMonitor
    poller: MeterPoller
    commands: SiteCommands
    grid: dict[int, float] = field(default_factory=dict)  # true grid power per second
    events: list[Event] = field(default_factory=list)  # every event the site published, collected each second
    subscriptions: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    async def run_until(self, t: float) -> None:
        await drive(self.sim, self.site, self.monitor, self.poller, until_s=t)

    def grid_between(self, start: float, end: float) -> list[float]:
        return [w for t, w in self.grid.items() if start <= t < end]

    def setpoints(self) -> dict[int, int | None]:
        return {rt.unit_id: rt.setpoint_w for rt in self.site.units}

    def battery_w(self) -> dict[int, float]:
        return {uid: round(u.power_w) for uid, u in self.sim.plant.units.items()}

    @property
    def commands_sent(self) -> int:
        return self.sim.commands


async def make_rig(house: ScriptedHouse, *, units: int = 2, soc: float = 50.0, control: ControlConfig | None = None,
                   unit: UnitConfig | None = None, mode: ModeState | None = None, data_dir: Path | None = None,
                   duration_s: float = 3600.0, plant: list[BatterySpec] | None = None) -> Rig:
    """Build a rig and read every unit once, as the service does at start."""
    control = control or ControlConfig()
    scenario = Scenario(house, units=units, soc_pct=soc, control=control, unit=unit or UnitConfig(id=1),
                        start_s=0.0, duration_s=duration_s, noise_w=5.0, plant=plant)
    sim = Simulation(scenario)
    store = StateStore(data_dir) if data_dir else None
    first = mode or ModeState(Mode.AUTO, target_w=control.target_w)
    if store is not None:
        first = store.load(first)
    site, monitor, poller = build_site(sim, control, first)
    rig = Rig(sim, site, monitor, poller, SiteCommands(site, store, site.manual_range_w))
    sim.on_second.append(lambda t: rig.grid.__setitem__(int(t), sim.grid_w))
    subscription = rig.subscriptions.enter_context(site.events.subscribe())
    sim.on_second.append(lambda _t: rig.events.extend(iter(subscription.get_nowait, None)))
    await sim.sleep(1.0)
    await monitor.read_all()
    return rig
