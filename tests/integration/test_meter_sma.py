"""The SMA source against a simulated Energy Meter 2.0 multicasting Speedwire from 127.0.0.1: samples several
times a second, the configured serial chosen among two meters, silence reported as unavailable."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import pytest

from smartsofar.config import parse_meter
from smartsofar.errors import MeterUnavailableError
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter
from smartsofar.sim.plant import Plant
from smartsofar.sim.sma_meter import send_speedwire
from tests.mqtt_broker import free_port

GROUP = "239.12.255.254"


@contextlib.asynccontextmanager
async def sending(meter: SimMeter, port: int, serial: int, interval_s: float = 0.2) -> AsyncIterator[None]:
    task = asyncio.create_task(send_speedwire(meter, GROUP, port, serial=serial, interval_s=interval_s))
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def site(load_w: float) -> SimMeter:
    return SimMeter(Plant(ConstantHousehold(load=load_w), unit_ids=()), noise_w=0.0)


async def test_the_meter_is_heard_several_times_a_second_and_its_serial_picked() -> None:
    port = free_port()
    ours, neighbours = site(1500.0), site(-700.0)
    config = parse_meter({"url": f"sma://{GROUP}:{port}?serial=1900000001&interface=127.0.0.1"})
    meter = await open_meter_source(config)
    try:
        async with sending(neighbours, port, serial=1900000002), sending(ours, port, serial=1900000001):
            samples = [await meter.read() for _ in range(6)]
        assert all(s.power_w == pytest.approx(1500, abs=0.5) for s in samples)  # never the neighbour's -700
        assert samples[-1].taken_at - samples[0].taken_at < 2.0  # 5 intervals of 0.2 s, with slack
        assert len(samples[0].phases) == 3 and samples[0].import_wh is not None
        assert all(s.lag_s == 0.2 for s in samples)  # multicast as measured: the controller knows how old
        assert meter.model == "SMA Energy Meter 2.0 1900000001"
    finally:
        await meter.aclose()


async def test_a_silent_meter_is_unavailable() -> None:
    port = free_port()
    quiet = site(800.0)
    meter = await open_meter_source(parse_meter({"url": f"sma://{GROUP}:{port}", "interface": "127.0.0.1",
                                                 "stale_after_s": 1}))
    try:
        async with sending(quiet, port, serial=5):
            assert (await meter.read()).power_w == pytest.approx(800, abs=0.5)
            quiet.faults.outage = True
            with pytest.raises(MeterUnavailableError, match="no message for 1 s"):
                await meter.read()
    finally:
        await meter.aclose()
