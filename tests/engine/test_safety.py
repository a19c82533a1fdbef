"""What the engine does when the meter or the bus goes quiet, when units drop out, and on stop."""

from __future__ import annotations

import statistics

from smartsofar.config import ControlConfig
from smartsofar.modes import Mode, ModeState
from smartsofar.sofar.status import RunningState
from tests.engine.harness import ScriptedHouse, make_rig


async def test_meter_silence_holds_then_puts_every_unit_in_standby_and_resumes_when_it_is_back() -> None:
    rig = await make_rig(ScriptedHouse(load=1500), control=ControlConfig(meter_standby_after_s=10))
    await rig.run_until(200)
    assert rig.battery_w()[1] + rig.battery_w()[2] < -1400
    rig.sim.meter.silent = True  # the last sample is the one taken at t=200
    await rig.run_until(209)
    assert rig.site.safety == "hold" and sum(rig.battery_w().values()) < -1400  # 5-10 s: hold what was sent
    await rig.run_until(213)
    assert rig.site.safety == "meter_silent"
    assert set(rig.setpoints().values()) == {0}  # 10 s after the last sample: standby ...
    await rig.run_until(216)
    assert rig.battery_w() == {1: 0, 2: 0}  # ... and the units have ramped down
    rig.sim.meter.silent = False
    await rig.run_until(230)
    assert rig.site.safety == "ok"
    assert abs(statistics.mean(rig.grid_between(222, 230))) < 20  # back in control by itself


async def test_a_frozen_meter_is_treated_as_silent() -> None:
    house = ScriptedHouse(load=1500)
    rig = await make_rig(house, control=ControlConfig(meter_standby_after_s=10))
    rig.poller.frozen_after_s = 20.0
    await rig.run_until(100)
    rig.sim.meter.frozen = True
    house.events.append((110, 10_000, 1000))  # the house changes; the meter does not say so
    await rig.run_until(250)
    assert rig.poller.state.value == "frozen"
    assert rig.site.safety == "meter_silent" and set(rig.setpoints().values()) == {0}


async def test_an_offline_unit_is_excluded_and_rejoins_when_it_answers_again() -> None:
    rig = await make_rig(ScriptedHouse(load=2000))
    await rig.run_until(120)
    assert rig.battery_w()[1] < -500 and rig.battery_w()[2] < -500
    rig.sim.ports[2].offline = True
    await rig.run_until(200)
    assert not rig.site.unit(2).room
    assert rig.battery_w()[1] < -1900  # unit 1 took over while unit 2 still ran (its heartbeat gets no answer)
    await rig.run_until(300)  # more than 60 s without a keep-alive: unit 2's passive mode lapsed
    assert rig.sim.plant.units[2].command.kind == "standby"
    assert abs(statistics.mean(rig.grid_between(260, 300))) < 20  # and unit 1 covers it all
    off_target = [w for w in rig.grid_between(125, 300) if abs(w) > 30]
    assert len(off_target) <= 5  # only the seconds after the lapse, until unit 1 follows
    rig.sim.ports[2].offline = False
    await rig.run_until(420)
    assert rig.site.unit(2).room is not None and rig.site.unit(2).setpoint_w not in (None, 0)
    assert rig.battery_w()[2] < -500  # sharing again


async def test_the_whole_bus_going_quiet_lets_the_units_lapse_and_control_resumes_after() -> None:
    rig = await make_rig(ScriptedHouse(load=1200), mode=ModeState(Mode.MANUAL, manual_power_w=-2000))
    await rig.run_until(60)
    assert sum(rig.battery_w().values()) == -2000
    for port in rig.sim.ports.values():
        port.offline = True
    await rig.run_until(140)
    assert all(rt.room is None for rt in rig.site.units)
    assert rig.battery_w() == {1: 0, 2: 0}  # no keep-alive reached them: passive mode lapsed to standby
    for port in rig.sim.ports.values():
        port.offline = False
    await rig.run_until(220)
    assert sum(rig.battery_w().values()) == -2000  # re-commanded once they answer


async def test_manual_mode_with_one_unit_offline_gives_what_the_other_can() -> None:
    rig = await make_rig(ScriptedHouse(load=500), mode=ModeState(Mode.MANUAL, manual_power_w=4000))
    rig.sim.ports[2].offline = True
    rig.site.unit(2).port = rig.sim.ports[2]
    await rig.run_until(100)
    assert rig.battery_w()[1] == 3000
    assert rig.setpoints()[2] is None


async def test_manual_mode_needs_no_meter_and_keeps_its_units_alive_with_heartbeats() -> None:
    rig = await make_rig(ScriptedHouse(load=500), mode=ModeState(Mode.MANUAL, manual_power_w=-1000))
    rig.sim.meter.silent = True
    await rig.run_until(400)
    assert sum(rig.battery_w().values()) == -1000  # six minutes: heartbeats kept passive mode alive
    assert rig.commands_sent == 2  # 500 W to each unit once, nothing more


async def test_manual_mode_keeps_the_grid_limits_and_stops_when_it_cannot_check_them() -> None:
    control = ControlConfig(grid_import_limit_w=3000)
    rig = await make_rig(ScriptedHouse(load=1000), control=control, mode=ModeState(Mode.MANUAL, manual_power_w=5000))
    await rig.run_until(60)
    assert abs(max(rig.grid_between(30, 60)) - 3000) < 30  # charging capped at 2000 W by the 3 kW import limit
    rig.sim.meter.silent = True
    await rig.run_until(80)
    assert rig.site.safety == "manual_needs_meter" and set(rig.setpoints().values()) == {0}


async def test_a_unit_in_fault_is_left_out() -> None:
    rig = await make_rig(ScriptedHouse(load=2500))
    await rig.run_until(60)
    rig.sim.plant.units[1].fault_word_1 = 0x0001  # grid over-voltage: the unit stops
    await rig.run_until(150)
    assert rig.site.unit(1).unavailable == "in fault"
    assert rig.battery_w()[2] < -2400
    assert [e.data["fault"] for e in rig.events if e.kind == "fault"] == ["ID01 GridOVP"]
    rig.sim.plant.units[1].fault_word_1 = 0
    await rig.run_until(250)
    assert rig.site.unit(1).room is not None
    assert [e.data["fault"] for e in rig.events if e.kind == "fault_cleared"] == ["ID01 GridOVP"]


async def test_a_unit_not_in_passive_mode_is_reported_and_retried() -> None:
    rig = await make_rig(ScriptedHouse(load=2500))
    rig.sim.plant.units[2].passive_selected = False
    await rig.run_until(30)
    reason = rig.site.unit(2).unavailable
    assert reason is not None and "Passive mode" in reason
    assert rig.battery_w()[1] < -2400
    rig.sim.plant.units[2].passive_selected = True  # someone fixed the screen setting
    await rig.run_until(150)
    assert rig.site.unit(2).room is not None


async def test_shutdown_puts_every_unit_in_standby() -> None:
    rig = await make_rig(ScriptedHouse(load=2500))
    await rig.run_until(60)
    await rig.site.shutdown()
    await rig.sim.sleep(5)
    assert rig.battery_w() == {1: 0, 2: 0}
    assert all(u.running_state(rig.sim.t) is RunningState.WAIT for u in rig.sim.plant.units.values())


async def test_shutdown_can_hand_over_to_the_inverters_own_control() -> None:
    rig = await make_rig(ScriptedHouse(load=2500), control=ControlConfig(shutdown_action="inverter_auto"))
    await rig.run_until(60)
    await rig.site.shutdown()
    assert {u.command.kind for u in rig.sim.plant.units.values()} == {"auto"}


async def test_heartbeats_go_out_only_while_the_last_cycle_was_good_and_recent() -> None:
    rig = await make_rig(ScriptedHouse(load=400))
    await rig.run_until(30)
    port = rig.sim.ports[1]
    unit = rig.sim.plant.units[1]
    await rig.site.step(rig.sim.t, keep_alive=False)
    for rt in rig.site.units:
        rt.last_keepalive_at = -1e9  # every heartbeat is due
    await rig.site.keep_alive_if_healthy(rig.sim.t + 1)
    assert unit.last_keepalive == rig.sim.t
    await rig.sim.sleep(5)  # no cycle for 5 s: a stuck controller
    for rt in rig.site.units:
        rt.last_keepalive_at = -1e9
    await rig.site.keep_alive_if_healthy()
    assert unit.last_keepalive < rig.sim.t - 4  # none went out: the units will lapse to standby by themselves
    assert not port.offline
