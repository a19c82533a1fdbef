"""Safety rules: meter verdicts, SoC limits with hysteresis, unit rooms and grid limits."""

from __future__ import annotations

from typing import Any

import pytest

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.control.safety import (
    MeterVerdict,
    SocGates,
    UnitCondition,
    grid_limits,
    meter_verdict,
    soc_gates,
    unavailable_reason,
    unit_room,
)
from smartsofar.link import LinkHealth


@pytest.mark.parametrize(("age", "verdict"), [(0.5, MeterVerdict.USE), (5.0, MeterVerdict.USE),
                                              (6.0, MeterVerdict.HOLD), (10.0, MeterVerdict.HOLD),
                                              (10.5, MeterVerdict.STANDBY), (None, MeterVerdict.STANDBY)],
                         ids=["fresh", "at the stale limit", "stale: hold", "at the silence limit",
                              "silent: standby", "no sample or frozen: standby"])
def test_meter_verdict(age: float | None, verdict: MeterVerdict) -> None:
    assert meter_verdict(age, stale_after_s=5.0, standby_after_s=10.0) is verdict


def test_soc_limits_stop_with_hysteresis() -> None:
    unit = UnitConfig(id=1, min_soc_pct=10, reserve_soc_pct=20, max_soc_pct=90)
    gates = SocGates()
    gates = soc_gates(gates, 20, unit, auto=True)
    assert gates.discharge_stopped  # auto keeps the reserve
    gates = soc_gates(gates, 21, unit, auto=True)
    assert gates.discharge_stopped  # within the 2 % hysteresis
    gates = soc_gates(gates, 22.5, unit, auto=True)
    assert not gates.discharge_stopped
    assert not soc_gates(SocGates(), 15, unit, auto=False).discharge_stopped  # manual may use the reserve
    assert soc_gates(SocGates(), 90, unit, auto=True).charge_stopped


def test_limits_at_0_and_100_are_left_to_the_battery() -> None:
    unit = UnitConfig(id=1)  # min 0, max 100
    assert soc_gates(SocGates(), 100, unit, auto=True) == SocGates()
    assert soc_gates(SocGates(), 0, unit, auto=True) == SocGates()


def condition(**changes: Any) -> UnitCondition:
    base = UnitCondition(unit=UnitConfig(id=1, max_charge_w=2500), link=LinkHealth.OK, has_reading=True,
                         in_fault=False, passive_refused=False, battery_full=False, battery_flat=False,
                         gates=SocGates(), soc_pct=50.0)
    return base._replace(**changes)


@pytest.mark.parametrize(("changes", "reason"), [
    ({"link": LinkHealth.OFFLINE}, "offline"), ({"has_reading": False}, "not read yet"),
    ({"in_fault": True}, "in fault"), ({"passive_refused": True}, "Passive mode"), ({}, None),
], ids=["offline", "never read", "fault", "not in passive mode", "usable"])
def test_unavailable_reasons(changes: dict[str, object], reason: str | None) -> None:
    result = unavailable_reason(condition(**changes))
    assert (result is None) if reason is None else (result is not None and reason in result)
    assert (unit_room(condition(**changes), 0.0) is None) is (reason is not None)


@pytest.mark.parametrize(("changes", "allow", "charge", "discharge"), [
    ({}, (True, True), 2500, 3000),
    ({"battery_full": True}, (True, True), 0, 3000),
    ({"battery_flat": True}, (True, True), 2500, 0),
    ({"gates": SocGates(discharge_stopped=True)}, (True, True), 2500, 0),
    ({}, (False, True), 0, 3000),
    ({"charge_cap_w": 800.0}, (True, True), 800, 3000),
], ids=["configured limits", "full flag", "flat flag", "SoC floor", "charging not allowed", "fell short before"])
def test_unit_room(changes: dict[str, object], allow: tuple[bool, bool], charge: float, discharge: float) -> None:
    room = unit_room(condition(**changes), 0.0, allow_charge=allow[0], allow_discharge=allow[1])
    assert room is not None and (room.charge_w, room.discharge_w) == (charge, discharge)


def test_grid_limits() -> None:
    config = ControlConfig(grid_import_limit_w=4000, grid_export_limit_w=600)
    assert grid_limits(1000.0, config) == (-1600.0, 3000.0)  # charge <= 3000, discharge <= 1600
    assert grid_limits(5000.0, config) == (-5600.0, 0.0)  # already above the import limit: never charge
    assert grid_limits(None, config) == (float("-inf"), float("inf"))
