"""Hold, grid charge and export in the real engine, in accelerated time: what another system, a schedule or the
plan asks of auto mode, and that none of it outlives the meter, the bus or its own lease."""

from __future__ import annotations

import statistics
from zoneinfo import ZoneInfo

import pytest

from smartsofar.config import ControlConfig
from smartsofar.control.intent import BatteryMode
from smartsofar.engine.steering import Steering
from tests.engine.harness import Rig, ScriptedHouse, make_rig

UTC = ZoneInfo("UTC")


def steer(rig: Rig, grid_charge_w: float = 4000.0, export_w: float = 4000.0) -> Steering:
    steering = Steering([], UTC, grid_charge_w=lambda: grid_charge_w, export_w=lambda: export_w, clock=rig.sim.now)
    rig.site.steer = steering
    return steering


async def test_hold_keeps_the_energy_and_lapses_back_to_zero_export() -> None:
    rig = await make_rig(ScriptedHouse(load=1500))
    steering = steer(rig)
    await rig.run_until(60)
    assert sum(rig.battery_w().values()) < -1400  # zero export: the batteries cover the house
    steering.request(BatteryMode.HOLD, lease_s=60, who="evcc")
    await rig.run_until(100)
    assert sum(rig.battery_w().values()) == 0  # held: the house draws from the grid
    assert statistics.mean(rig.grid_between(90, 100)) > 1400
    await rig.run_until(150)  # the lease ran out at 120 s and evcc did not renew it
    assert rig.site.intent.mode is BatteryMode.NORMAL
    assert abs(statistics.mean(rig.grid_between(140, 150))) < 20


async def test_a_grid_charge_charges_at_its_power_within_the_import_limit_then_holds_at_its_soc() -> None:
    rig = await make_rig(ScriptedHouse(load=800), soc=50.0,
                         control=ControlConfig(grid_import_limit_w=3000))
    steering = steer(rig)
    steering.request(BatteryMode.CHARGE, lease_s=3600, soc_pct=52.0)
    await rig.run_until(60)
    total = sum(rig.battery_w().values())
    assert 2100 <= total <= 2200  # 3000 W import limit - 800 W of house: the limit wins over 4000 W
    assert max(rig.grid_between(40, 60)) < 3060
    await rig.run_until(400)  # 2 points of 9.6 kWh at ~2.1 kW: about 5 minutes
    assert rig.site.intent.mode is BatteryMode.HOLD and "52 % reached" in rig.site.intent.reason
    assert sum(rig.battery_w().values()) == 0


@pytest.mark.parametrize("mode", [BatteryMode.CHARGE, BatteryMode.EXPORT])
async def test_a_grid_charge_or_an_export_stops_when_the_meter_goes_quiet(mode: BatteryMode) -> None:
    rig = await make_rig(ScriptedHouse(load=800), control=ControlConfig(meter_standby_after_s=10))
    steering = steer(rig)
    steering.request(mode, lease_s=3600)
    await rig.run_until(60)
    # charging at 4 kW, or 4 kW out of the batteries: 800 W to the house, the rest exported
    assert abs(sum(rig.battery_w().values())) >= 3990
    rig.sim.meter.silent = True
    await rig.run_until(75)
    assert rig.site.safety == "meter_silent" and set(rig.setpoints().values()) == {0}
    await rig.run_until(80)
    assert rig.battery_w() == {1: 0, 2: 0}


@pytest.mark.parametrize("mode", [BatteryMode.CHARGE, BatteryMode.EXPORT])
async def test_a_grid_charge_or_an_export_does_not_outlive_the_bus(mode: BatteryMode) -> None:
    rig = await make_rig(ScriptedHouse(load=800))
    steering = steer(rig)
    steering.request(mode, lease_s=3600)
    await rig.run_until(60)
    assert abs(sum(rig.battery_w().values())) > 3000
    for port in rig.sim.ports.values():
        port.offline = True
    await rig.run_until(150)  # no keep-alive reaches them: passive mode lapses to standby
    assert rig.battery_w() == {1: 0, 2: 0}


@pytest.mark.parametrize("mode", [BatteryMode.CHARGE, BatteryMode.EXPORT])
async def test_the_users_forbidden_direction_wins_over_a_grid_charge_or_an_export(mode: BatteryMode) -> None:
    rig = await make_rig(ScriptedHouse(load=800))
    charging = mode is BatteryMode.CHARGE
    rig.commands.set_permissions(**{"allow_charge" if charging else "allow_discharge": False})
    steering = steer(rig)
    steering.request(mode, lease_s=3600)
    await rig.run_until(60)
    powers = rig.battery_w().values()
    assert (max(powers) <= 0) if charging else (min(powers) >= 0)


async def test_an_export_discharges_beyond_the_house_within_the_export_limit_then_stops_at_its_soc() -> None:
    rig = await make_rig(ScriptedHouse(load=800), soc=50.0, control=ControlConfig(grid_export_limit_w=2500))
    steering = steer(rig)
    steering.request(BatteryMode.EXPORT, lease_s=3600, soc_pct=48.0)
    await rig.run_until(60)
    total = sum(rig.battery_w().values())
    assert -3350 <= total <= -3250  # 2500 W export limit + 800 W of house: the limit wins over 4000 W
    assert min(rig.grid_between(40, 60)) > -2560
    await rig.run_until(400)  # 2 points of 9.6 kWh at ~3.3 kW: about 3.5 minutes
    assert rig.site.intent.mode is BatteryMode.NORMAL and "down to 48 %" in rig.site.intent.reason
    assert abs(statistics.mean(rig.grid_between(390, 400))) < 20  # zero export again
