"""The tracking law on its own: samples in, decisions out."""

from __future__ import annotations

import random

import pytest

from smartsofar.config import ControlConfig, StabilityFilterConfig
from smartsofar.control.law import TrackingLaw

WIDE = (-6000.0, 6000.0)


def feed(law: TrackingLaw, base_w: float, battery_w: float, t: float, heading_w: float | None = None,
         in_transition: bool = False) -> tuple[bool, float]:
    """One sample of a house at base_w with the batteries at battery_w; (act, desired)."""
    raw = law.observe(base_w + battery_w, t, battery_w, in_transition)
    decision = law.decide(0.0, battery_w if heading_w is None else heading_w, WIDE, t, raw)
    return decision.act, decision.desired_w


def test_a_large_step_is_corrected_at_the_first_sample_that_shows_it() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0))
    for t in range(10):
        feed(law, 300.0, -300.0, float(t))
    act, desired = feed(law, 2300.0, -300.0, 10.0)  # a 2 kW kettle
    assert act and desired == pytest.approx(-2300.0)


def test_meter_noise_is_not_chased() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0))
    rng = random.Random(1)
    acts = 0
    for t in range(600):
        act, _ = feed(law, 500.0 + rng.uniform(-5, 5), -500.0, float(t))
        acts += act
    assert acts == 0


def test_a_small_lasting_error_is_corrected_once_it_has_cost_enough() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0, deadband_w=3, step_w=50, persistence_ws=120))
    for t in range(5):
        feed(law, 500.0, -500.0, float(t))
    acted_at = None
    for t in range(5, 60):
        act, desired = feed(law, 520.0, -500.0, float(t))  # 20 W more, for good
        if act:
            acted_at = t
            break
    assert acted_at is not None and 5 < acted_at <= 15
    assert desired == pytest.approx(-520.0, abs=3)


def test_an_error_inside_the_deadband_is_left_alone() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0, deadband_w=10))
    assert not any(feed(law, 505.0 if t > 3 else 500.0, -500.0, float(t))[0] for t in range(300))


def test_samples_during_a_transition_are_set_aside_unless_they_show_a_large_step() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0))
    feed(law, 500.0, -500.0, 0.0)
    assert law.observe(30.0, 1.0, -500.0, in_transition=True) is None  # house 530 W: small, ignored
    assert law.state.base_w == 500.0
    assert law.observe(2500.0, 2.0, -500.0, in_transition=True) == 3000.0  # a kettle: taken at once
    assert law.state.base_w == 3000.0


def test_lean_holds_the_grid_slightly_on_the_import_side_while_the_batteries_work() -> None:
    law = TrackingLaw(ControlConfig(lean_w=5))
    feed(law, 800.0, -800.0, 0.0)
    act, desired = feed(law, 1800.0, -800.0, 1.0)
    assert act and desired == pytest.approx(-1795.0)
    idle = TrackingLaw(ControlConfig(lean_w=5))
    feed(idle, 0.0, 0.0, 0.0)
    act, desired = feed(idle, 1000.0, 0.0, 1.0, heading_w=0.0)
    assert act and desired == pytest.approx(-1000.0)  # not working yet: no lean


def test_the_total_is_kept_within_what_the_units_and_rules_allow() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0))
    raw = law.observe(5000.0, 0.0, 0.0, False)
    assert law.decide(0.0, 0.0, (-3000.0, 0.0), 0.0, raw).desired_w == -3000.0


def test_v1_stability_filter_waits_for_agreeing_readings_and_acts_on_their_mean() -> None:
    config = ControlConfig(lean_w=0, stability_filter=StabilityFilterConfig(enabled=True))
    law = TrackingLaw(config)
    feed(law, 500.0, -500.0, 0.0)
    assert not feed(law, 700.0, -500.0, 1.0)[0]  # 200 W off, below 500 W: wait
    act, desired = feed(law, 710.0, -500.0, 2.0)  # two readings within 30 W
    assert act and desired == pytest.approx(-705.0)
    act, _ = feed(law, 1500.0, -705.0, 3.0)  # 795 W off: above 500 W, at once
    assert act


def test_v1_stability_filter_gives_up_waiting_after_max_cycles() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0, stability_filter=StabilityFilterConfig(enabled=True, max_cycles=3)))
    feed(law, 0.0, 0.0, 0.0)
    decisions = [feed(law, 200.0 + 100 * (t % 2), 0.0, float(t), heading_w=0.0)[0] for t in range(1, 5)]
    assert decisions == [False, False, True, False]


def test_a_step_seen_split_over_two_samples_is_not_taken_for_a_ramp() -> None:
    # A 1000 W load that starts in the middle of the meter's second shows up as +500 W, then +1000 W.
    law = TrackingLaw(ControlConfig(lean_w=0))
    for t in range(5):
        feed(law, 300.0, 0.0, float(t), heading_w=-300.0)
    desired = [feed(law, base, 0.0, float(t), heading_w=-300.0)[1]
               for t, base in ((5, 800.0), (6, 1300.0), (7, 1300.0), (8, 1300.0))]
    assert law.state.slope_w_per_s == 0
    assert min(desired) >= -1300.0  # never more than the house needs: no overshoot


def test_a_steady_ramp_is_followed_ahead() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0))
    for t in range(10):  # PV falling by 40 W every second: the house's net power rises
        feed(law, 100.0 + 40 * t, 0.0, float(t), heading_w=0.0)
    assert law.state.slope_w_per_s == pytest.approx(40.0)
    _, desired = feed(law, 100.0 + 40 * 10, 0.0, 10.0, heading_w=0.0)
    assert desired < -(100 + 40 * 10)  # aims ahead of where the house is now


def test_with_confirmation_a_one_sample_spike_costs_no_command() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0, confirm_below_w=300))
    for t in range(10):
        feed(law, 300.0, -300.0, float(t))
    act, desired = feed(law, 500.0, -300.0, 10.0)  # a fridge's start surge ...
    assert not act and desired == pytest.approx(-500.0)
    act, _ = feed(law, 300.0, -300.0, 11.0)  # ... over a second later
    assert not act
    assert not feed(law, 300.0, -300.0, 12.0)[0]


def test_with_confirmation_a_small_step_that_lasts_is_taken_a_sample_later_and_a_large_one_at_once() -> None:
    law = TrackingLaw(ControlConfig(lean_w=0, confirm_below_w=300))
    for t in range(10):
        feed(law, 300.0, -300.0, float(t))
    assert not feed(law, 500.0, -300.0, 10.0)[0]
    act, desired = feed(law, 500.0, -300.0, 11.0)
    assert act and desired == pytest.approx(-500.0)
    act, desired = feed(law, 2500.0, -500.0, 12.0)  # a kettle: no waiting
    assert act and desired == pytest.approx(-2500.0)
