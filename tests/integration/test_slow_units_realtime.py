"""A slow unit in real time: the engine against both simulators on 127.0.0.1, told nothing of the plant.

The simulated units take 2.5 s to start and ramp at 300 W/s (the engine assumes 1 s and 1000 W/s at
first). The house swings from importing 1.3 kW to exporting 1.2 kW and back: the batteries must follow
without oscillating, and learn the units' response on the way.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from smartsofar.app import build_engine
from smartsofar.config import parse_config
from smartsofar.payloads import UnitPayload
from smartsofar.sim.battery import BatterySpec
from smartsofar.sim.meter_server import SimMeter, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.web.server import start_http
from tests.conftest import start_gateway

PHASE_S = 30  # each state of the house lasts this long: settled, and a command learned from, within it


@dataclass
class SwitchedHouse:
    load: float = 1300.0
    pv: float = 0.0

    def load_w(self, second_of_day: float) -> float:
        return self.load

    def pv_w(self, second_of_day: float) -> float:
        return self.pv


@pytest.mark.slow
async def test_slow_units_follow_the_house_without_oscillating(tmp_path: Path) -> None:
    house = SwitchedHouse()
    slow = BatterySpec(dead_time_s=2.5, ramp_w_per_s=300.0)
    plant = Plant(house, unit_ids=(1, 2), specs={1: slow, 2: slow})
    gateway, server = await start_gateway(plant, latency_s=0.02)
    meter = SimMeter(plant, noise_w=2.0)
    http = await start_http(create_meter_app(meter, "pro3em"))
    config = parse_config({
        "buses": [{"url": gateway.url, "units": [{"id": 1}, {"id": 2}]}],
        "meter": {"url": http.url},
        "control": {"unit_read_interval_s": 2},
    })
    engine = await build_engine(config, tmp_path)
    signs: list[int] = []
    grid: list[tuple[float, float]] = []
    try:
        async with server:
            await engine.runner.start()
            started = time.monotonic()
            for phase, (load, pv) in enumerate([(1300.0, 0.0), (300.0, 1500.0), (1300.0, 0.0)]):
                house.load, house.pv = load, pv
                while time.monotonic() - started < PHASE_S * (phase + 1):
                    await asyncio.sleep(0.5)
                    total = sum(u.command.battery_w for u in plant.units.values())
                    signs.append(1 if total > 50 else -1 if total < -50 else 0)
                    grid.append((time.monotonic() - started, plant.advance()))
            summary = engine.site.units[0].response.summary()
            snapshot = UnitPayload.of(engine.site.snapshot().units[0]).model_dump(mode="json")
            await engine.runner.stop()
    finally:
        await engine.aclose()
        await http.stop()
    nonzero = [s for s in signs if s]
    flips = sum(1 for a, b in itertools.pairwise(nonzero) if a != b)
    assert flips <= 3  # discharge -> charge -> discharge, and at most one more: no oscillation
    for end in (PHASE_S, 2 * PHASE_S, 3 * PHASE_S):  # every phase has settled at the target by its last seconds
        assert all(abs(w) < 80 for t, w in grid if end - 4 <= t < end - 0.5), end
    assert summary["samples"] >= 2
    assert abs(summary["dead_time_s"] - 2.5) <= 0.7
    assert snapshot["response"]["samples"] == summary["samples"]
