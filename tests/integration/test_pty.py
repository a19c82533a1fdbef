"""The bus over a serial line: a socat pty pair (as a USB adapter would appear), and the simulator's own pty."""

from __future__ import annotations

import asyncio
import json
import shutil
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from smartsofar.bus.client import Bus
from smartsofar.errors import BusUnavailableError
from smartsofar.sim.inverter_server import InverterBus, SerialLink
from smartsofar.sim.plant import Plant
from smartsofar.sofar.passive import PassiveCommand
from smartsofar.sofar.unit import SofarUnit

pytestmark = pytest.mark.skipif(shutil.which("socat") is None, reason="socat is installed by scripts/install")


@pytest.fixture
async def pty_pair(tmp_path: Path) -> AsyncIterator[tuple[str, str]]:
    a, b = tmp_path / "sim", tmp_path / "client"
    proc = await asyncio.create_subprocess_exec(
        "socat", f"pty,raw,echo=0,link={a}", f"pty,raw,echo=0,link={b}",
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL)
    for _ in range(100):
        if a.exists() and b.exists():
            break
        await asyncio.sleep(0.02)
    yield str(a), str(b)
    proc.terminate()
    await proc.wait()


async def test_read_and_command_over_a_socat_pty_pair(pty_pair: tuple[str, str]) -> None:
    sim_end, client_end = pty_pair
    sim = InverterBus(Plant(unit_ids=(1, 3)), latency_s=0.01)
    link = SerialLink.open_path(sim_end)
    server = asyncio.create_task(sim.serve_link(link.read, link.write))
    try:
        async with Bus(f"serial://{client_end}?baudrate=9600") as bus:
            reading = await SofarUnit(bus, 3).read()
            status = await SofarUnit(bus, 1).command(PassiveCommand("discharge", 700))
    finally:
        server.cancel()
        link.close()
    assert reading.soc_pct == 50
    assert status.accepted
    assert [(a.unit_id, a.command) for a in sim.applied] == [(1, PassiveCommand("discharge", 700))]


async def test_cli_read_against_sim_inverter_on_its_own_pty() -> None:
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smartsofar.cli", "sim-inverter", "--listen", "pty", "--units", "4",
        "--soc", "66", "--latency", "0.01", "--late-rate", "0", stdout=asyncio.subprocess.PIPE)
    try:
        assert sim.stdout is not None
        line = (await asyncio.wait_for(sim.stdout.readline(), 10)).decode()
        url = line.split(" on ")[1].strip()
        assert url.startswith("serial:///dev/")
        read = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "smartsofar.cli", "read", "--bus", url, "--unit", "4", "--json",
            stdout=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(read.communicate(), 30)
    finally:
        sim.terminate()
        await sim.wait()
    assert read.returncode == 0
    assert json.loads(out)["soc_pct"] == 66


async def test_a_serial_port_that_cannot_be_opened_says_why(pty_pair: tuple[str, str], tmp_path: Path) -> None:
    _, client_end = pty_pair
    with pytest.raises(BusUnavailableError, match="no such device"):
        await Bus(f"serial://{tmp_path / 'ttyUSB9'}").open()
    async with Bus(f"serial://{client_end}"):  # the service has the port ...
        with pytest.raises(BusUnavailableError, match="in use by another program"):
            await Bus(f"serial://{client_end}").open()  # ... so a second program cannot garble its frames
