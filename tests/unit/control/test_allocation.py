"""Sharing a total between units: strategies, limits, hand-over, and the fewest commands."""

from __future__ import annotations

import pytest

from smartsofar.control.allocation import UnitRoom, allocate, ideal_split


def room(uid: int, current: float = 0.0, soc: float = 50.0, charge: float = 3000.0,
         discharge: float = 3000.0) -> UnitRoom:
    return UnitRoom(uid, charge, discharge, current, soc)


@pytest.mark.parametrize(("total", "rooms", "strategy", "expected"), [
    (2000, [room(1), room(2)], "equal", {1: 1000, 2: 1000}),
    (200, [room(1), room(2)], "equal", {1: 200, 2: 0}),
    (5000, [room(1, charge=1000), room(2)], "equal", {1: 1000, 2: 3000}),
    (9000, [room(1), room(2)], "equal", {1: 3000, 2: 3000}),
    (-2000, [room(1, soc=80), room(2, soc=20)], "soc_balance", {1: -1600, 2: -400}),
    (2000, [room(1, soc=80), room(2, soc=20)], "soc_balance", {1: 400, 2: 1600}),
    (2000, [room(1, charge=0), room(2)], "soc_balance", {1: 0, 2: 2000}),
    (-1000, [room(1, discharge=0), room(2)], "equal", {1: 0, 2: -1000}),
    (2000, [room(1), room(2)], "fewest_units", {1: 2000, 2: 0}),
    (4000, [room(1), room(2)], "fewest_units", {1: 3000, 2: 1000}),
    (-1000, [room(1, soc=30), room(2, soc=70)], "fewest_units", {1: 0, 2: -1000}),
    (1000, [room(1, soc=30), room(2, soc=70)], "fewest_units", {1: 1000, 2: 0}),
], ids=["equal split", "small total stays on one unit", "a capped unit hands the rest on", "clamped to the units",
        "soc_balance: fuller discharges more", "soc_balance: emptier charges more", "full unit takes nothing",
        "flat unit gives nothing", "fewest: one unit", "fewest: second unit joins", "fewest: fullest discharges",
        "fewest: emptiest charges"])
def test_ideal_split(total: float, rooms: list[UnitRoom], strategy: str, expected: dict[int, float]) -> None:
    assert ideal_split(total, rooms, strategy) == pytest.approx(expected)  # type: ignore[arg-type]


def test_fewest_units_keeps_a_running_helper_until_the_others_have_a_margin() -> None:
    both = [room(1, 3000), room(2, 1000)]
    assert ideal_split(2600, both, "fewest_units") == {1: 2500, 2: 100}  # keeps unit 2 at a floor
    assert ideal_split(2300, both, "fewest_units") == {1: 2300, 2: 0}  # 2300 < 80 % of 3000: it leaves


def test_fewest_units_hands_over_when_the_running_unit_is_much_emptier() -> None:
    assert ideal_split(-1000, [room(1, -900, soc=35), room(2, soc=40)], "fewest_units") == {1: -1000, 2: 0}
    assert ideal_split(-1000, [room(1, -900, soc=25), room(2, soc=40)], "fewest_units") == {1: 0, 2: -1000}


def test_a_small_change_moves_one_unit_only() -> None:
    result = allocate(2100, [room(1, 1000), room(2, 1000)], "equal", tolerance_w=300, min_change_w=15)
    assert result.setpoints == {1: 1100, 2: 1000} and result.changed == (1,)


def test_a_change_beyond_the_tolerance_rebalances_every_unit() -> None:
    result = allocate(2900, [room(1, 1000), room(2, 1000)], "equal", tolerance_w=300, min_change_w=15)
    assert result.setpoints == {1: 1450, 2: 1450} and set(result.changed) == {1, 2}


def test_a_reversal_reuses_the_running_unit() -> None:
    result = allocate(-500, [room(1, 1000), room(2, 0)], "fewest_units", min_change_w=15)
    assert result.setpoints == {1: -500, 2: 0} and result.changed == (1,)


def test_never_charges_one_unit_while_discharging_another() -> None:
    result = allocate(-200, [room(1, 900), room(2, 900)], "equal", tolerance_w=3000, min_change_w=15)
    assert all(w <= 0 for w in result.setpoints.values())


def test_a_unit_that_can_no_longer_hold_its_setpoint_is_moved() -> None:
    result = allocate(2000, [room(1, 1000, charge=0), room(2, 1000)], "equal", tolerance_w=300)
    assert result.setpoints == {1: 0, 2: 2000}


def test_whole_watts_add_up_to_the_total() -> None:
    result = allocate(1001, [room(1), room(2), room(3)], "equal")
    assert sum(result.setpoints.values()) == 1001
