"""PowerPlan: what a unit is expected to deliver after the commands it accepted."""

from __future__ import annotations

import pytest

from smartsofar.control.model import PowerPlan


def _plan() -> PowerPlan:
    return PowerPlan(dead_time_s=1.0, ramp_w_per_s=1000.0)


@pytest.mark.parametrize(("t", "expected"), [(0.5, 0), (1.0, 0), (1.5, 500), (2.0, 1000), (2.5, 1500), (9, 1500)],
                         ids=["dead time", "end of dead time", "ramping", "ramping more", "arrived", "stays"])
def test_a_command_acts_after_the_dead_time_then_ramps(t: float, expected: float) -> None:
    plan = _plan()
    plan.command(0.0, 1500)
    assert plan.power_at(t) == pytest.approx(expected)


def test_mean_over_the_second_a_meter_averaged() -> None:
    plan = _plan()
    plan.command(0.0, 1500)
    assert plan.mean_w(0.0, 1.0) == 0
    assert plan.mean_w(1.0, 2.0) == pytest.approx(500)  # a triangle from 0 to 1000 W
    assert plan.mean_w(2.0, 3.0) == pytest.approx(1375)  # 1000 -> 1500 in 0.5 s, then 1500
    assert plan.final_w == 1500
    assert plan.settled_at() == pytest.approx(2.5)


def test_a_new_command_replaces_what_had_not_taken_effect_yet() -> None:
    plan = _plan()
    plan.command(0.0, 1500)
    plan.command(0.5, -800)  # arrives before the first one acted
    assert plan.pending == [(1.0, 1500), (1.5, -800)]
    plan.command(0.2, 300)  # acts at 1.2: drops the later one
    assert plan.pending == [(1.0, 1500), (1.2, 300)]
    assert plan.final_w == 300


def test_rebase_forgets_what_the_unit_did_not_do() -> None:
    plan = _plan()
    plan.command(0.0, 3000)
    plan.rebase(10.0, 800)  # the unit reports only 800 W (full, derated)
    assert plan.power_at(11.0) == 800 and plan.final_w == 800 and plan.steady


def test_forgetting_the_past_does_not_change_the_future() -> None:
    plan, copy = _plan(), _plan()
    for p in (plan, copy):
        p.command(0.0, 1500)
        p.command(3.0, -500)
    plan.forget_before(3.6)
    for t in (3.6, 4.0, 4.2, 5.0, 8.0):
        assert plan.power_at(t) == pytest.approx(copy.power_at(t))
    assert plan.mean_w(4.0, 5.0) == pytest.approx(copy.mean_w(4.0, 5.0))


@pytest.mark.parametrize(("window", "moving"), [((0.0, 0.4), False), ((0.6, 1.2), True), ((2.0, 3.0), True),
                                                  ((3.5, 4.5), False)],
                         ids=["before the dead time ends", "around the start", "ramping", "long settled"])
def test_moving_between(window: tuple[float, float], moving: bool) -> None:
    plan = _plan()
    plan.command(0.0, 1500)  # moves from 1.0 to 2.5
    assert plan.moving_between(*window) is moving
