"""The control loop's lag: each meter sample counted once, from its arrival to the first decision on it."""

from __future__ import annotations

from smartsofar.engine.lag import KEEP, LagMeter


def test_each_sample_counts_once_at_its_first_decision() -> None:
    lag = LagMeter()
    assert lag.summary() == {"samples": 0}
    lag.record(10.0, 10.02)
    lag.record(10.0, 10.9)  # a later cycle on the same sample (after a command): not a new lag
    lag.record(11.0, 11.5)
    assert lag.summary() == {"p50_s": 0.5, "p99_s": 0.5, "max_s": 0.5, "samples": 2}


def test_the_99th_percentile_shows_a_rare_stall_and_old_lags_drop_out() -> None:
    lag = LagMeter()
    for i in range(KEEP):
        lag.record(float(i), i + (2.0 if i % 50 == 0 else 0.01))
    summary = lag.summary()
    assert summary["p50_s"] == 0.01 and summary["max_s"] == 2.0 and summary["p99_s"] == 2.0
    for i in range(KEEP, 2 * KEEP):
        lag.record(float(i), i + 0.01)
    assert lag.summary()["max_s"] == 0.01
