"""Auto mode through the real engine, in accelerated time: steps, ramps, units that cannot follow."""

from __future__ import annotations

import statistics

from smartsofar.config import ControlConfig
from smartsofar.modes import Mode, ModeState
from tests.engine.harness import ScriptedHouse, make_rig


async def test_a_kettle_is_covered_within_seconds_and_released_as_fast() -> None:
    rig = await make_rig(ScriptedHouse(load=400, events=[(120, 300, 2000)]))
    await rig.run_until(119)
    before = rig.commands_sent
    await rig.run_until(400)
    assert max(abs(w) for w in rig.grid_between(60, 119)) < 30  # settled at the target
    # on within 5 s: the meter's second, the poll 0.1 s after it, dead time and ramp
    assert all(abs(w) < 30 for w in rig.grid_between(125, 300))
    assert all(abs(w) < 30 for w in rig.grid_between(305, 400))  # off within 5 s
    assert rig.commands_sent - before <= 6  # on, off, and a trim or two - not a storm


async def test_the_grid_sits_at_the_target_plus_the_lean_and_not_on_the_export_side() -> None:
    control = ControlConfig(target_w=0, lean_w=5, deadband_w=8)
    rig = await make_rig(ScriptedHouse(load=700), control=control)
    await rig.run_until(900)
    steady = rig.grid_between(300, 900)
    assert abs(statistics.mean(steady) - 5) <= 8  # the lean, give or take the deadband
    assert sum(1 for w in steady if w < -1) / len(steady) < 0.2  # hardly ever exporting


async def test_a_configured_target_is_held() -> None:
    rig = await make_rig(ScriptedHouse(load=900), control=ControlConfig(target_w=50, lean_w=0))
    await rig.run_until(600)
    assert abs(statistics.mean(rig.grid_between(200, 600)) - 50) < 5


async def test_a_pv_cloud_ramp_is_followed_without_a_command_storm() -> None:
    def pv(t: float) -> float:  # 3 kW, down to 500 W over 60 s from t=300, back up over 60 s from t=600
        if t < 300:
            return 3000.0
        if t < 360:
            return 3000.0 - 2500.0 * (t - 300) / 60
        if t < 600:
            return 500.0
        return min(3000.0, 500.0 + 2500.0 * (t - 600) / 60)

    rig = await make_rig(ScriptedHouse(load=500, pv=pv))
    await rig.run_until(299)
    before = rig.commands_sent
    await rig.run_until(800)
    ramps = rig.grid_between(300, 700)
    assert statistics.mean(abs(w) for w in ramps) < 25  # 42 W/s ramps: a 2 s causal delay alone is 84 W
    assert max(abs(w) for w in ramps) < 150
    assert rig.commands_sent - before < 60  # two 60 s ramps: about one correction every 2 s, not every second


async def test_a_unit_that_becomes_full_hands_over_to_the_other() -> None:
    equal = ControlConfig(allocation="equal")
    rig = await make_rig(ScriptedHouse(load=500, pv=lambda _t: 4500.0), soc=60.0, control=equal)
    rig.sim.plant.units[1].soc_pct = 99.6  # unit 1 is about to be full
    await rig.run_until(600)
    assert rig.sim.plant.units[1].full
    assert rig.battery_w()[1] == 0
    assert rig.battery_w()[2] == 3000  # unit 2 at its limit ...
    assert statistics.mean(rig.grid_between(400, 600)) < -900  # ... and the surplus beyond it is exported
    rig2 = await make_rig(ScriptedHouse(load=500, pv=lambda _t: 2500.0), soc=60.0, control=equal)
    rig2.sim.plant.units[1].soc_pct = 99.6
    await rig2.run_until(600)
    assert rig2.battery_w()[1] == 0
    assert abs(statistics.mean(rig2.grid_between(400, 600))) < 10  # unit 2 alone holds the target


async def test_a_unit_that_becomes_flat_hands_over_to_the_other() -> None:
    rig = await make_rig(ScriptedHouse(load=1500), soc=40.0, control=ControlConfig(allocation="equal"))
    rig.sim.plant.units[2].soc_pct = 5.4  # unit 2 is nearly flat (its BMS stops at 5 %)
    await rig.run_until(900)
    assert rig.sim.plant.units[2].flat
    assert rig.battery_w()[2] == 0
    assert rig.battery_w()[1] < -1400
    assert abs(statistics.mean(rig.grid_between(700, 900))) < 10


async def test_soc_balance_charges_the_emptier_unit_more_and_leaves_a_nearly_full_one_alone() -> None:
    rig = await make_rig(ScriptedHouse(load=500, pv=lambda _t: 2500.0), soc=60.0)
    rig.sim.plant.units[1].soc_pct = 99.6
    rig.sim.plant.units[2].soc_pct = 40.0
    await rig.run_until(120)
    assert rig.battery_w()[1] == 0  # unit 1's share would be a few watts: unit 2 takes it all
    assert 1990 <= rig.battery_w()[2] <= 2015


async def test_charge_only_never_discharges_and_discharge_only_never_charges() -> None:
    rig = await make_rig(ScriptedHouse(load=800, events=[(0, 300, -2000)]),  # PV-like surplus, then a load
                         mode=ModeState(Mode.AUTO, allow_discharge=False))
    await rig.run_until(600)
    assert all(u.power_w >= 0 for u in rig.sim.plant.units.values())
    assert abs(statistics.mean(rig.grid_between(400, 600)) - 800) < 10  # the load is left to the grid
    rig.commands.set_permissions(allow_charge=False, allow_discharge=True)
    await rig.run_until(900)
    assert abs(statistics.mean(rig.grid_between(700, 900))) < 10
