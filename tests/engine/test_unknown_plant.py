"""The engine on units it is not told about: slow and fast ones, one that changes, in accelerated time.

The controller starts from the configured 1 s and 1000 W/s; the simulated units are something else.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.modes import Mode, ModeState
from smartsofar.payloads import UnitPayload
from smartsofar.sim.battery import BatterySpec
from smartsofar.storage.response_store import ResponseStore
from tests.engine.harness import ScriptedHouse, make_rig

CYCLE_S = 360


def step_test() -> ScriptedHouse:
    """300 W; +2 kW from 60 s to 120 s; 2.5 kW of PV from 180 s to 300 s; every 6 minutes."""
    events = [(c * CYCLE_S + 60.0, c * CYCLE_S + 120.0, 2000.0) for c in range(8)]
    return ScriptedHouse(load=300, events=events, pv=lambda t: 2500.0 if 180 <= t % CYCLE_S < 300 else 0.0)


def plant(dead: float, ramp: float, lag: float = 0.0) -> list[BatterySpec]:
    return [BatterySpec(dead_time_s=dead, ramp_w_per_s=ramp, report_lag_s=lag)] * 2



@pytest.mark.parametrize(("dead", "ramp"), [(2.5, 300.0), (4.0, 150.0), (0.3, 3000.0)], ids=["slow", "slowest", "fast"])
async def test_no_oscillation_and_every_step_settles_on_a_plant_it_was_not_told(dead: float, ramp: float) -> None:
    rig = await make_rig(step_test(), plant=plant(dead, ramp), duration_s=4 * CYCLE_S)
    await rig.run_until(4 * CYCLE_S)
    steps = rig.sim.steps
    # 2 true changes of sign a cycle (discharge for the kettle, charge for the PV, discharge after it)
    assert steps.flips <= 2 * 4 + 1
    assert steps.unsettled == 0
    # dead time + ramp + 4 s (each unit takes half of the 2.5 kW PV step), and 1 s for a step that lands across
    # two meter samples: every step, the first ones (while the response is learned) included
    assert max(steps.settle_times) <= dead + 1250 / ramp + 4 + 1
    assert rig.commands_sent <= 4 * 4 * 5  # a few commands per step for the two units, not a storm


async def test_a_slow_unit_is_never_taken_for_a_capped_or_broken_one(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, "smartsofar")
    rig = await make_rig(step_test(), plant=plant(4.0, 150.0), duration_s=2 * CYCLE_S)
    for t in range(10, 2 * CYCLE_S, 10):
        await rig.run_until(t)
        assert all(rt.charge_cap is None and rt.discharge_cap is None for rt in rig.site.units), t
    assert "delivers" not in caplog.text and "does not follow" not in caplog.text


@pytest.mark.parametrize(("dead", "ramp"), [(2.5, 300.0), (0.3, 1000.0)], ids=["slow", "fast"])
async def test_the_engine_learns_each_units_response(dead: float, ramp: float) -> None:
    rig = await make_rig(step_test(), plant=plant(dead, ramp), duration_s=3 * CYCLE_S)
    await rig.run_until(3 * CYCLE_S)
    for rt in rig.site.units:
        summary = rt.response.summary()
        assert summary["samples"] >= 5
        assert summary["dead_time_s"] == pytest.approx(dead, abs=0.5)
        assert summary["ramp_w_per_s"] == pytest.approx(ramp, rel=0.25)
    unit_json = UnitPayload.of(rig.site.snapshot().units[0]).model_dump(mode="json")
    assert unit_json["response"]["samples"] == rig.site.units[0].response.samples


async def test_a_unit_that_becomes_slower_is_learned_again_and_stays_stable() -> None:
    rig = await make_rig(step_test(), plant=plant(0.5, 1500.0), duration_s=7 * CYCLE_S)
    await rig.run_until(2 * CYCLE_S)
    assert rig.site.units[0].response.summary()["dead_time_s"] == pytest.approx(0.5, abs=0.3)
    for unit in rig.sim.plant.units.values():  # a firmware update
        unit.spec = dataclasses.replace(unit.spec, dead_time_s=3.0, ramp_w_per_s=300.0)
    flips_before = rig.sim.steps.flips
    await rig.run_until(7 * CYCLE_S)
    summary = rig.site.units[0].response.summary()
    assert summary["dead_time_s"] == pytest.approx(3.0, abs=0.5)
    assert summary["ramp_w_per_s"] == pytest.approx(300, rel=0.25)
    assert rig.sim.steps.flips - flips_before <= 2 * 5 + 2


async def test_a_report_that_trails_the_real_power_does_not_make_it_oscillate() -> None:
    rig = await make_rig(step_test(), plant=plant(1.0, 1000.0, lag=1.0), duration_s=3 * CYCLE_S)
    await rig.run_until(3 * CYCLE_S)
    assert rig.sim.steps.flips <= 2 * 3 + 1
    assert rig.sim.steps.unsettled == 0


async def test_a_silent_meter_during_a_slow_ramp_stands_every_unit_by() -> None:
    rig = await make_rig(step_test(), plant=plant(4.0, 150.0), control=ControlConfig(meter_standby_after_s=10))
    await rig.run_until(62)  # the kettle's command is on its way, the units ramp slowly
    assert any(rt.setpoint_w for rt in rig.site.units)
    rig.sim.meter.silent = True
    await rig.run_until(62 + 12)
    assert all(rt.setpoint_w == 0 for rt in rig.site.units)
    assert rig.site.safety == "meter_silent"


async def test_what_a_unit_learned_is_kept_across_a_restart(tmp_path: Path) -> None:
    rig = await make_rig(step_test(), plant=plant(2.5, 300.0), duration_s=2 * CYCLE_S)
    await rig.run_until(2 * CYCLE_S)
    store = ResponseStore(tmp_path)
    assert store.changed(rig.site.units)
    store.save(rig.site.units)
    assert not store.changed(rig.site.units)
    again = await make_rig(step_test(), plant=plant(2.5, 300.0))
    ResponseStore(tmp_path).load(again.site.units)
    assert again.site.units[0].response.summary() == rig.site.units[0].response.summary()
    assert again.site.units[0].plan.nominal.dead_time_s == pytest.approx(2.5, abs=0.3)


async def test_an_unreadable_response_file_is_set_aside_and_the_units_learn_again(tmp_path: Path) -> None:
    (tmp_path / "responses.json").write_text("{not json", encoding="utf-8")
    rig = await make_rig(step_test())
    ResponseStore(tmp_path).load(rig.site.units)
    assert (tmp_path / "responses.json.bad").exists() and not (tmp_path / "responses.json").exists()
    assert rig.site.units[0].response.samples == 0
    (tmp_path / "responses.json").write_text(json.dumps({"simulated bus#1": {"up": {"dead_time_s": [-1]}}}))
    ResponseStore(tmp_path).load(rig.site.units)
    assert rig.site.units[0].response.samples == 0


async def test_a_wrong_fixed_response_oscillates_less_once_the_watch_backs_off(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, "smartsofar")
    fixed = UnitConfig(id=1, learn_response=False)  # told 1 s and 1000 W/s, and not allowed to learn
    rig = await make_rig(step_test(), plant=plant(4.0, 150.0), unit=fixed, duration_s=3 * CYCLE_S)
    await rig.run_until(3 * CYCLE_S)
    assert rig.site.memory.oscillation.engagements >= 1
    assert "corrections keep reversing" in caplog.text
    assert rig.sim.steps.flips / (3 * CYCLE_S / 60) <= 1.0
    assert rig.sim.steps.unsettled == 0


async def test_the_watch_never_backs_off_on_a_learned_plant() -> None:
    rig = await make_rig(step_test(), plant=plant(2.5, 300.0), duration_s=3 * CYCLE_S)
    await rig.run_until(3 * CYCLE_S)
    assert rig.site.memory.oscillation.engagements == 0


async def test_short_reads_stop_once_the_units_have_settled_whatever_the_mode() -> None:
    manual = ModeState(Mode.MANUAL, manual_power_w=1500)
    rig = await make_rig(ScriptedHouse(load=300), plant=plant(2.5, 300.0), mode=manual)
    reads: list[float] = []
    for port in rig.sim.ports.values():
        original = port.read_power

        async def counted(original: Callable[[], Awaitable[float]] = original) -> float:
            reads.append(rig.sim.t)
            return await original()

        port.read_power = counted  # type: ignore[method-assign]
    await rig.run_until(120)
    assert any(t < 30 for t in reads)  # while the command settled, the units were read ...
    assert not [t for t in reads if t > 60]  # ... and not once they had


async def test_a_silent_meter_while_backing_off_still_stands_every_unit_by() -> None:
    fixed = UnitConfig(id=1, learn_response=False)
    rig = await make_rig(step_test(), plant=plant(4.0, 150.0), unit=fixed, duration_s=3 * CYCLE_S,
                         control=ControlConfig(meter_standby_after_s=10))
    for t in range(30, 3 * CYCLE_S, 10):
        await rig.run_until(t)
        if rig.site.memory.oscillation.active(rig.sim.t):
            break
    assert rig.site.memory.oscillation.active(rig.sim.t)
    rig.sim.meter.silent = True
    await rig.run_until(rig.sim.t + 12)
    assert all(rt.setpoint_w == 0 for rt in rig.site.units)
    assert rig.site.safety == "meter_silent"


async def test_a_unit_that_goes_quiet_while_its_command_settles_is_left_out_and_not_read_in_a_loop() -> None:
    rig = await make_rig(step_test(), plant=plant(2.5, 300.0))
    await rig.run_until(62)  # the kettle's command is on its way: an episode is open on each unit
    assert any(rt.response.wants_readings() for rt in rig.site.units)
    port = rig.sim.ports[2]
    port.offline = True
    calls = 0
    original = port.read_power

    async def counted() -> float:
        nonlocal calls
        calls += 1
        return await original()

    port.read_power = counted  # type: ignore[method-assign]
    await rig.run_until(120)
    unit = rig.site.unit(2)
    assert unit.link.value == "offline" and unit.room is None
    assert not unit.response.wants_readings()  # the episode was dropped, nothing learned from silence
    assert calls <= 3  # tried while it still seemed to be settling, then left to the offline retries
    assert abs(sum(w for w in rig.grid_between(100, 120)) / 20) < 100  # the other unit holds the grid
