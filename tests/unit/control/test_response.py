"""Learning a unit's response from its own readings: episodes, the robust estimate, the bounds."""

from __future__ import annotations

import pytest

from smartsofar.control.envelope import PowerEnvelope
from smartsofar.control.response import (
    PLAUSIBLE_DEAD_S,
    PLAUSIBLE_RAMP_W_PER_S,
    Episode,
    Response,
    ResponseLearner,
    fit_episode,
)


def trajectory(t: float, dead: float, ramp: float, step: float) -> float:
    """A unit's true power t seconds after a command from 0 to ``step``."""
    moved = max(0.0, t - dead) * ramp
    return min(moved, step) if step > 0 else max(-moved, step)


def run_episode(learner: ResponseLearner, t0: float, dead: float, ramp: float, step: float, phase: float,
                every: float = 0.4, start_w: float = 0.0, lag: float = 0.0) -> None:
    learner.on_command(t0, start_w, start_w + step, steady=True)
    t = t0 + phase
    while learner.wants_readings() and t < t0 + 80:
        learner.on_power(t, round((start_w + trajectory(t - t0 - lag, dead, ramp, step)) / 10) * 10)
        t += every


def test_a_slow_ramp_read_inside_its_transition_gives_dead_time_and_ramp() -> None:
    episode = Episode("up", 0.0, 0.0, 1000.0, [(t / 2, trajectory(t / 2, 2.5, 300, 1000)) for t in range(1, 20)])
    observation = fit_episode(episode, 1000.0)
    assert observation is not None
    assert observation.dead_time_s == pytest.approx(2.5, abs=0.05)
    assert observation.ramp_w_per_s == pytest.approx(300, rel=0.05)


def test_a_unit_that_moves_the_wrong_way_teaches_nothing() -> None:
    episode = Episode("up", 0.0, 0.0, 1000.0, [(1.0, 0.0), (2.0, -600.0), (3.0, -600.0)])
    assert fit_episode(episode, 1000.0) is None


def test_a_unit_that_stops_short_is_fitted_on_what_it_did() -> None:
    # 2 kW asked, full at 800 W: the ramp and dead time are still those of the part it did
    points = [(t / 2, min(800.0, trajectory(t / 2, 1.0, 400, 2000))) for t in range(1, 16)]
    observation = fit_episode(Episode("up", 0.0, 0.0, 2000.0, points), 1000.0)
    assert observation is not None
    assert observation.dead_time_s == pytest.approx(1.0, abs=0.1)
    assert observation.ramp_w_per_s == pytest.approx(400, rel=0.1)


def test_a_unit_that_hardly_moves_teaches_nothing() -> None:
    points = [(t / 2, 50.0 if t > 3 else 0.0) for t in range(1, 16)]
    assert fit_episode(Episode("up", 0.0, 0.0, 2000.0, points), 1000.0) is None


@pytest.mark.parametrize(("dead", "ramp"), [(2.5, 300.0), (4.0, 150.0), (1.0, 1000.0), (0.3, 1000.0)],
                         ids=["slow", "slowest", "as configured", "fast"])
def test_ten_commands_learn_the_response_within_half_a_second_and_a_quarter(dead: float, ramp: float) -> None:
    learner = ResponseLearner(Response(1.0, 1000.0))
    for k in range(10):
        step = (800.0 + 100 * (k % 4)) * (1 if k % 2 == 0 else -1)
        start = 0.0 if k % 2 == 0 else -step
        run_episode(learner, 100.0 * k, dead, ramp, step, phase=(k * 0.618) % 1 * 0.4, start_w=start)
    for direction in ("up", "down"):
        estimate, samples = learner.estimate(direction)
        assert samples >= 5
        assert estimate.dead_time_s == pytest.approx(dead, abs=0.5)
        assert estimate.ramp_w_per_s == pytest.approx(ramp, rel=0.25)


def test_before_anything_is_learned_the_bounds_span_every_plausible_unit() -> None:
    bounds = ResponseLearner(Response(1.0, 1000.0)).bounds()
    assert bounds.nominal.up == Response(1.0, 1000.0)
    fast, slow = bounds.fast.up, bounds.slow.up
    assert fast.dead_time_s <= PLAUSIBLE_DEAD_S[0] and fast.ramp_w_per_s >= PLAUSIBLE_RAMP_W_PER_S[1]
    assert slow.dead_time_s >= PLAUSIBLE_DEAD_S[1] and slow.ramp_w_per_s <= PLAUSIBLE_RAMP_W_PER_S[0]


def test_the_bounds_narrow_around_what_was_learned() -> None:
    learner = ResponseLearner(Response(1.0, 1000.0))
    for k in range(6):
        run_episode(learner, 100.0 * k, 2.5, 300.0, 1000.0 if k % 2 == 0 else -1000.0, phase=0.1 * k,
                    start_w=0.0 if k % 2 == 0 else 1000.0)
    slow, fast = learner.bounds().slow.up, learner.bounds().fast.up
    assert 2.5 < slow.dead_time_s < 3.5 and 200 < slow.ramp_w_per_s < 300
    assert 1.0 < fast.dead_time_s < 2.5 and 300 < fast.ramp_w_per_s < 450


def test_a_changed_response_is_learned_again() -> None:
    learner = ResponseLearner(Response(1.0, 1000.0))
    for k in range(10):
        run_episode(learner, 100.0 * k, 1.0, 1000.0, 1000.0, phase=0.05 * k)
    for k in range(10, 20):  # a firmware update: much slower
        run_episode(learner, 100.0 * k, 3.0, 250.0, 1000.0, phase=0.05 * (k - 10))
    estimate, _ = learner.estimate("up")
    assert estimate.dead_time_s == pytest.approx(3.0, abs=0.5)
    assert estimate.ramp_w_per_s == pytest.approx(250, rel=0.25)


def test_a_fixed_response_is_never_learned() -> None:
    learner = ResponseLearner(Response(1.0, 1000.0), fixed=True)
    run_episode(learner, 0.0, 3.0, 200.0, 1000.0, phase=0.1)
    assert learner.samples == 0
    assert learner.bounds().nominal.up == Response(1.0, 1000.0)


def test_small_steps_and_moving_starts_open_no_episode() -> None:
    learner = ResponseLearner(Response(1.0, 1000.0))
    learner.on_command(0.0, 0.0, 100.0, steady=True)
    assert not learner.wants_readings()
    learner.on_command(1.0, 0.0, 1000.0, steady=False)
    assert not learner.wants_readings()


def test_what_was_learned_survives_a_round_trip_and_bad_data_is_refused() -> None:
    learner = ResponseLearner(Response(1.0, 1000.0))
    for k in range(4):
        run_episode(learner, 100.0 * k, 2.5, 300.0, 1000.0, phase=0.1 * k)
    again = ResponseLearner(Response(1.0, 1000.0))
    again.load_json(learner.to_json())
    assert again.summary() == learner.summary()
    with pytest.raises(ValueError, match="list of numbers"):
        again.load_json({"up": {"dead_time_s": ["x"]}})
    with pytest.raises(ValueError, match="object"):
        again.load_json([1, 2])


def test_only_bounds_the_unit_was_seen_to_follow_count_as_measured() -> None:
    learner = ResponseLearner(Response(1.0, 1000.0))
    seen = {"dead_time_s": [2.5] * 5, "ramp_w_per_s": [300.0] * 5}
    learner.load_json({"up": seen, "down": seen})
    assert learner.bounds().measured
    assert not learner.plausible_bounds().measured
    assert not ResponseLearner(Response(1.0, 1000.0), fixed=True).bounds().measured
    envelope = PowerEnvelope(learner.bounds())
    assert envelope.measured
    envelope.widen(10.0, learner.plausible_bounds())  # the unit surprised us: the window's mean is no longer bounded
    assert not envelope.measured
