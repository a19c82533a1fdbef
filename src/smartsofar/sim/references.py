"""Reference controllers for the benchmarks: what others do, and what the best possible would do.

They drive the same ``Simulation`` (plant, in-process ports, meter) as SmartSofar's engine, so every
figure comes from the same plant in the same run. Each shares its total equally between the units.

- ``opendtu-dpl``: an OpenDTU-OnBattery-style dynamic power limiter. Each meter sample taken at least
  ``DPL_SETTLE_S`` after its last command: new total = the units' reported power + (target - grid),
  changed only past a ``DPL_HYSTERESIS_W`` hysteresis. It waits for the plant instead of modelling it.
- ``meter-predictor``: a meter-driven law that knows the plant perfectly. It reads each meter sample
  ``PREDICTOR_DELAY_S`` after the meter publishes it, knows exactly what the batteries delivered over that
  second, and so the house's power to the meter's noise, and commands target - house at once. No
  controller that only sees the meter can beat it without predicting the house.
- ``perfect-sensing``: knows the house's power the instant it changes and commands at once: the bound set
  by the plant's own dead time and ramp.

The predictor and perfect sensing command whenever what they want moves past ``Scenario.reference_deadband_w``
(10 W unless a benchmark widens it to see what a budget of commands costs them).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from smartsofar.sim.simulate import Simulation
from smartsofar.sofar.limits import MAX_UNIT_POWER_W
from smartsofar.sofar.passive import PassiveCommand

DPL_SETTLE_S = 3.0
DPL_HYSTERESIS_W = 20.0
PREDICTOR_DELAY_S = 0.1


HEARTBEAT_S = 20.0


class _Units:
    """Commands a total, shared equally, and keeps passive mode alive between commands."""

    def __init__(self, sim: Simulation) -> None:
        self.sim = sim
        self.last_sent = sim.t

    async def command_total(self, total_w: float) -> None:
        ports = list(self.sim.ports.values())
        limit = MAX_UNIT_POWER_W * len(ports)
        share = round(max(-limit, min(limit, total_w)) / len(ports))
        for port in ports:
            await port.command(PassiveCommand.battery(share))
        self.last_sent = self.sim.t

    async def keep_alive(self) -> None:
        if self.sim.t - self.last_sent >= HEARTBEAT_S:
            for port in self.sim.ports.values():
                await port.heartbeat()
            self.last_sent = self.sim.t


async def run_opendtu_dpl(sim: Simulation) -> None:
    """OpenDTU-style: wait for the plant to settle after each change, then close the gap in one go."""
    target = sim.scenario.control.target_w
    total = 0.0
    units = _Units(sim)
    last_command = -DPL_SETTLE_S
    await sim.sleep(PREDICTOR_DELAY_S)
    while not sim.done:
        sample = await sim.meter.read()
        if sample.taken_at - last_command >= DPL_SETTLE_S:
            reported = sum([(await port.read()).battery_w for port in sim.ports.values()])
            wanted = reported + (target - sample.power_w)
            if abs(wanted - total) > DPL_HYSTERESIS_W:
                total = wanted
                await units.command_total(total)
                last_command = sim.t
        await units.keep_alive()
        await sim.sleep(1.0)


async def _follow_house(sim: Simulation, house_w: Callable[[], Awaitable[float]], delay_s: float) -> None:
    """Each second, ``delay_s`` after it: command target - house whenever that moves past the deadband."""
    target = sim.scenario.control.target_w
    deadband = sim.scenario.reference_deadband_w
    total = 0.0
    units = _Units(sim)
    await sim.sleep(delay_s)
    while not sim.done:
        wanted = target - await house_w()
        if abs(wanted - total) > deadband:
            total = wanted
            await units.command_total(total)
        await units.keep_alive()
        await sim.sleep(1.0)


async def run_meter_predictor(sim: Simulation) -> None:
    """Perfect knowledge of the plant, the meter's view of the house, no prediction of the house."""

    async def house() -> float:
        sample = await sim.meter.read()
        return sample.power_w - sim.battery_w  # exact battery energy over the meter's second

    await _follow_house(sim, house, PREDICTOR_DELAY_S)


async def run_perfect_sensing(sim: Simulation) -> None:
    """Knows the house's power the instant it changes (each whole second) and commands at once."""
    plant = sim.plant

    async def house() -> float:
        second = plant.second_of_day(sim.t)
        return plant.household.load_w(second) - plant.household.pv_w(second)

    await _follow_house(sim, house, 0.0)


REFERENCES: dict[str, Callable[[Simulation], Awaitable[None]]] = {
    "opendtu-dpl": run_opendtu_dpl, "meter-predictor": run_meter_predictor, "perfect-sensing": run_perfect_sensing}
