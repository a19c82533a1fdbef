"""Polling a meter that updates on its own clock: the poll instant settles just after the meter's update,
so samples arrive fresh instead of as old as chance made them, at one poll per interval on average."""

from __future__ import annotations

import math

import pytest

from smartsofar.meter.base import MeterSample, PhaseSample
from smartsofar.meter.poll_phase import PollPhase


def run(update_offset_s: float, start_s: float, polls: int = 400, period_s: float = 1.0) -> tuple[float, float, float]:
    """Poll a meter updating at k + offset: (mean age of the last 100 samples, share of early polls, polls per
    update over the last 100)."""
    phase = PollPhase()
    t = start_s
    ages = []
    starts = []
    for _ in range(polls):
        updated_at = math.floor((t - update_offset_s) / period_s) * period_s + update_offset_s
        value = float(round(updated_at / period_s))  # a new value at each update
        sample = MeterSample(value, value, (PhaseSample(value),), t)
        ages.append(t - updated_at)
        starts.append(t)
        t += phase.after(sample, period_s)
    recent = ages[-100:]
    span = starts[-1] - starts[-len(recent)]
    return sum(recent) / len(recent), phase.early_polls / phase.polls, (len(recent) - 1) / span * period_s


@pytest.mark.parametrize("offset", [0.05, 0.37, 0.93])
def test_samples_settle_fresh_whatever_the_meter_phase(offset: float) -> None:
    unsteered_age = (0.0 - offset) % 1.0  # polling at whole seconds, the age chance gives
    age, early, rate = run(offset, start_s=0.0)
    assert age < 0.15, f"steered samples are {age:.2f} s old (unsteered: {unsteered_age:.2f} s)"
    assert early < 0.15  # few polls come before the update
    assert 1.0 <= rate < 1.12  # about one poll per update: an early one's quick follow-up now and then


def test_a_failed_poll_keeps_the_interval() -> None:
    phase = PollPhase()
    assert phase.after(None, 2.0) == 2.0 and phase.polls == 0


def test_a_frozen_meter_only_slows_the_polls_a_little() -> None:
    phase = PollPhase()
    frozen = MeterSample(5.0, 5.0, (PhaseSample(5.0),), 0.0)
    waits = [phase.after(frozen, 1.0) for _ in range(10)]
    assert all(w <= 1.1 for w in waits)


def test_the_update_is_found_within_half_a_minute_wherever_the_polls_start() -> None:
    for start in (0.0, 0.3, 0.6, 0.9):
        age, _, _ = run(update_offset_s=0.95, start_s=start, polls=30)  # up to 0.95 s late at first
        assert age < 0.45, f"starting at {start}: still {age:.2f} s old on average over 30 polls"


@pytest.mark.parametrize("offset", [0.05, 0.37, 0.93])
def test_once_the_update_is_found_each_new_sample_says_how_old_it_is_at_most(offset: float) -> None:
    phase = PollPhase()
    assert phase.lag_s(0.0) is None  # not known yet: a poll may land up to a second after the update
    t, previous, bounded = 0.0, math.nan, 0
    for _ in range(300):
        updated_at = math.floor(t - offset) + offset
        value = float(round(updated_at))
        lag = phase.lag_s(0.02)
        if lag is not None and value != previous:  # a repeat (an early poll) is as old as ever: it is not bounded
            assert t - updated_at <= lag, f"a sample {t - updated_at:.2f} s old was said to be at most {lag:.2f} s"
            bounded += 1
        previous = value
        t += phase.after(MeterSample(value, value, (PhaseSample(value),), t), 1.0)
    assert bounded > 250


def test_a_failed_poll_forgets_the_update_until_it_is_found_again() -> None:
    phase = PollPhase()
    for at, value in ((0.0, 1.0), (0.99, 1.0), (1.09, 2.0)):  # early, then new values: the update is found
        phase.after(MeterSample(value, value, (PhaseSample(value),), at), 1.0)
    assert phase.lag_s(0.0) is not None
    phase.after(None, 1.0)  # the meter did not answer: it may come back on another phase
    assert phase.lag_s(0.0) is None


def test_a_value_repeated_by_chance_is_not_taken_for_the_update() -> None:
    """A steady house on a coarse meter gives the same value twice now and then. The poll that brings it looks
    early; its quick follow-up brings the same again, and the polls that follow land later after the update than
    the found phase allowed: they must not claim to be fresher than they are."""
    offset, phase = 0.37, PollPhase()
    t, previous, bounded = 0.0, math.nan, 0
    for _ in range(400):
        updated_at = math.floor(t - offset) + offset
        update = round(updated_at)
        value = float(update - update // 7)  # every seventh update repeats the value before it
        lag = phase.lag_s(0.02)
        if lag is not None and value != previous:
            age = t - updated_at
            assert age <= lag + 1e-9, f"a sample {age:.2f} s old was said to be at most {lag:.2f} s"
            bounded += 1
        previous = value
        t += phase.after(MeterSample(value, value, (PhaseSample(value),), t), 1.0)
    assert bounded > 120  # found again within a few polls of each repeat (one in seven here: far more than usual)


@pytest.mark.parametrize("new_offset", [0.6, 0.45])
def test_a_meter_that_moves_its_update_between_two_polls_is_sought_again(new_offset: float) -> None:
    """The meter restarts between two polls on another phase, so that the polls now land most of a second after
    its update: every poll still brings new values, only older ones. The samples may claim to be fresh for a
    minute at most, not for the 100-180 polls the slow creep would take to reach the update again."""
    phase, t, previous = PollPhase(), 0.0, math.nan
    overclaimed, bounded_late = 0, 0
    for poll in range(500):
        offset = 0.37 if poll < 200 else new_offset
        updated_at = math.floor(t - offset) + offset
        value = float(round(updated_at * 100))  # a new value at each update, before and after the restart
        lag = phase.lag_s(0.02)
        if lag is not None and value != previous:
            if t - updated_at > lag + 1e-9:
                assert poll >= 200, "before the restart every claim holds"
                overclaimed += 1
            elif poll >= 300:
                bounded_late += 1
        previous = value
        t += phase.after(MeterSample(value, value, (PhaseSample(value),), t), 1.0)
    assert overclaimed <= 62, f"{overclaimed} samples after the restart claimed to be fresher than they were"
    assert bounded_late > 150  # found again: the polls follow the new update and say so
