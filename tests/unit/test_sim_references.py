"""The benchmarks' reference laws: what a wider deadband costs the perfect-model predictor and perfect sensing."""

from __future__ import annotations

import random

import pytest

from smartsofar.sim.controllers import simulate
from smartsofar.sim.household import SecondSeries
from smartsofar.sim.simulate import Scenario


def busy_house() -> SecondSeries:
    """Ten minutes of a house whose load moves by 20-400 W every 2-8 s (a fixed seed)."""
    rng = random.Random(5)
    loads: list[float] = []
    level = 600.0
    while len(loads) < 600:
        level = min(2500.0, max(150.0, level + rng.choice((-1, 1)) * rng.uniform(20, 400)))
        loads += [level] * rng.randint(2, 8)
    return SecondSeries(loads[:600])


@pytest.mark.parametrize("controller", ["meter-predictor", "perfect-sensing"])
async def test_a_wider_deadband_spends_fewer_commands_and_tracks_worse(controller: str) -> None:
    tight = await simulate(Scenario(busy_house(), duration_s=600), controller)
    wide = await simulate(Scenario(busy_house(), duration_s=600, reference_deadband_w=300), controller)
    assert wide["commands_per_hour"] < 0.7 * tight["commands_per_hour"]
    assert wide["mean_abs_error_w"] > 1.2 * tight["mean_abs_error_w"]
