"""The engine in real time, built from a configuration, against both simulators on 127.0.0.1.

The simulated units are reached over RTU-over-TCP and the simulated Pro 3EM over HTTP, serving one plant,
so what the engine commands shows up on the meter as it would on a real site.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from smartsofar.app import build_engine
from smartsofar.config import parse_config
from smartsofar.engine.facade import Engine
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.storage.history import History
from smartsofar.storage.recorder import HistoryRecorder
from smartsofar.web.server import RunningHttpServer, start_http
from tests.conftest import SimGateway, start_gateway


@dataclass
class LiveSite:
    plant: Plant
    gateway: SimGateway
    meter: SimMeter
    http: RunningHttpServer
    engine: Engine


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveSite]:
    plant = Plant(ConstantHousehold(load=1300.0), unit_ids=(1, 2))
    gateway, server = await start_gateway(plant, latency_s=0.02)
    meter = SimMeter(plant, noise_w=2.0)
    http = await start_http(create_meter_app(meter, "pro3em", password="pw"))
    config = parse_config({
        "buses": [{"url": gateway.url, "units": [{"id": 1, "name": "garage"}, {"id": 2, "name": "cellar"}]}],
        "meter": {"url": http.url, "password": "pw", "stale_after_s": 2},
        "control": {"meter_standby_after_s": 4, "unit_read_interval_s": 1},
    })
    engine = await build_engine(config, tmp_path)
    async with server:
        yield LiveSite(plant, gateway, meter, http, engine)
        await engine.runner.stop()
        await engine.aclose()
        await http.stop()


async def wait_for(check: Callable[[], bool], timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.2)
    return False


async def test_the_engine_holds_the_grid_and_stops_safely_when_the_meter_goes_quiet(live: LiveSite) -> None:
    await live.engine.runner.start()
    assert live.engine.runner.first_decision_s is not None and live.engine.runner.first_decision_s < 2.0

    def battery() -> float:
        return sum(u.power_w for u in live.plant.units.values())

    assert await wait_for(lambda: abs(live.plant.advance() - 0) < 30, timeout_s=15)
    assert battery() < -1200  # the two units cover the house's 1300 W
    snapshot = live.engine.site.snapshots.latest
    assert snapshot is not None and snapshot.meter is not None and snapshot.meter.model == "Shelly Pro 3EM (pushed)"
    assert {u.name for u in snapshot.units} == {"garage", "cellar"}
    assert all(u.info is not None and u.info.serial.startswith("SE1ES") for u in snapshot.units)

    live.meter.faults.outage = True  # the meter stops answering
    assert await wait_for(lambda: all(u.command.kind == "standby" for u in live.plant.units.values()), 12)
    assert live.engine.site.safety == "meter_silent"
    live.meter.faults.outage = False
    assert await wait_for(lambda: battery() < -1200, timeout_s=15)  # resumes by itself


async def test_stopping_the_service_puts_the_units_in_standby(live: LiveSite) -> None:
    await live.engine.runner.start()
    assert await wait_for(lambda: sum(u.power_w for u in live.plant.units.values()) < -1200, timeout_s=15)
    await live.engine.runner.stop()
    assert all(u.command.kind == "standby" for u in live.plant.units.values())


# On Python 3.11, asyncio.wait_for returns the result and drops the cancel when both land in the same moment.
# A loop built on it would outlive stop(): the recorder is stopped while a snapshot is in flight.
# (The control loop's case: tests/unit/engine/test_runner.py.)

async def test_the_history_recorder_stops_while_a_snapshot_arrives(live: LiveSite, tmp_path: Path) -> None:
    await live.engine.runner.start()
    await live.engine.runner.stop()
    snapshots = live.engine.site.snapshots
    snapshot = snapshots.latest
    assert snapshot is not None
    recorder = HistoryRecorder(History(tmp_path / "history.sqlite"), flush_every_s=1)
    task = asyncio.create_task(recorder.run(snapshots))
    await asyncio.sleep(0.3)
    snapshots.publish(snapshot)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        async with asyncio.timeout(10):
            await task
    recorder.history.close()
