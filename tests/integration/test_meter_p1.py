"""The P1 source on a real transport: recorded-layout telegrams written to a pty standing in for the serial
cable, a simulated meter behind a TCP bridge, a broken telegram among good ones, and a cable pulled."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from smartsofar.config import parse_meter
from smartsofar.errors import MeterUnavailableError
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter
from smartsofar.sim.p1_meter import serve_p1
from smartsofar.sim.plant import Plant
from tests.cli_process import smartsofar

FIXTURES = Path(__file__).parents[1] / "fixtures" / "p1"


@pytest.fixture
def pty() -> Iterator[tuple[int, str]]:
    master, slave = os.openpty()
    name = os.ttyname(slave)
    yield master, name
    os.close(master)
    os.close(slave)


async def test_telegrams_on_a_serial_line_are_read_and_a_broken_one_skipped(
        pty: tuple[int, str], caplog: pytest.LogCaptureFixture) -> None:
    master, device = pty
    good = (FIXTURES / "dsmr5_nl_exporting.txt").read_bytes()
    broken = good.replace(b"02.315*kW", b"09.315*kW")
    meter = await open_meter_source(parse_meter({"url": f"serial://{device}"}))
    try:
        first = asyncio.create_task(meter.read())
        await asyncio.sleep(0.3)  # the port is opened by the first read
        os.write(master, b"\x00garbage before the first telegram\r\n" + broken)
        os.write(master, good[:100])  # a telegram arriving in pieces, as it does at 115200 baud
        await asyncio.sleep(0.05)
        os.write(master, good[100:])
        sample = await asyncio.wait_for(first, 5)
        assert sample.power_w == pytest.approx(-2315) and len(sample.phases) == 3
        assert any("CRC" in r.getMessage() for r in caplog.records)
    finally:
        await meter.aclose()


async def test_a_tcp_bridge_feeds_a_live_meter_and_its_silence_is_noticed() -> None:
    sim = SimMeter(Plant(ConstantHousehold(load=1750.0), unit_ids=()), noise_w=0.0)
    server = await serve_p1(sim, interval_s=0.2)
    port = server.sockets[0].getsockname()[1]
    meter = await open_meter_source(parse_meter({"url": f"p1://127.0.0.1:{port}", "stale_after_s": 1}))
    try:
        async with server:
            samples = [await meter.read() for _ in range(3)]
            assert all(s.power_w == pytest.approx(1750, abs=1) for s in samples)
            assert samples[0].import_wh is not None and len(samples[0].phases) == 3
            sim.faults.outage = True
            with pytest.raises(MeterUnavailableError, match="no message for 1 s"):
                await meter.read()
    finally:
        await meter.aclose()


async def test_a_device_that_is_not_there_is_unavailable_with_its_name() -> None:
    meter = await open_meter_source(parse_meter({"url": "serial:///dev/ttyNOSUCHP1"}))
    try:
        with pytest.raises(MeterUnavailableError, match="ttyNOSUCHP1"):
            await meter.read()
    finally:
        await meter.aclose()


async def test_smartsofar_meter_and_the_probe_read_a_p1_bridge(tmp_path: Path) -> None:
    sim = SimMeter(Plant(ConstantHousehold(load=640.0), unit_ids=()), noise_w=0.0)
    server = await serve_p1(sim, interval_s=0.3)
    url = f"p1://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    config = tmp_path / "smartsofar.toml"
    config.write_text(f'[control]\nmode = "standby"\n[meter]\nurl = "{url}"\n')
    async with server:
        code, out, err = await smartsofar("meter", "--url", url, "--json")
        assert code == 0, err
        assert json.loads(out)["power_w"] == pytest.approx(640, abs=1) and len(json.loads(out)["phases"]) == 3
        code, out, err = await smartsofar("config", "check", str(config), "--probe")
        assert code == 0, err
        assert "P1 port (DSMR 5): grid 640 W import" in out
