"""``smartsofar sim-meter --as KIND`` plays each meter source, and ``smartsofar meter`` reads it back with the
URL the simulator prints: both as processes, as a user would try a source before buying the hardware."""

from __future__ import annotations

import asyncio
import json
import shlex
import sys

import pytest

from tests.cli_process import smartsofar
from tests.mqtt_broker import free_port


@pytest.mark.parametrize(("kind", "listen"), [
    ("shelly", "127.0.0.1:{port}"), ("fronius", "127.0.0.1:{port}"), ("p1", "127.0.0.1:{port}"),
    ("homeassistant", "127.0.0.1:{port}"), ("sma", "239.12.255.254:{port}"),
])
async def test_each_simulated_source_is_read_with_the_url_it_prints(kind: str, listen: str) -> None:
    sim = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smartsofar.cli", "sim-meter", "--as", kind, "--listen", listen.format(port=free_port()),
        "--noise", "0", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        assert sim.stdout is not None
        line = (await asyncio.wait_for(sim.stdout.readline(), 20)).decode()
        words = shlex.split(line.split("--meter ", 1)[1])
        args = ["--url", words[0]]
        if kind == "homeassistant":
            args += ["--token", "demo-token"]
        code, out, err = await smartsofar("meter", *args, "--json")
        assert code == 0, err
        assert json.loads(out)["power_w"] == pytest.approx(400, abs=1)  # the default house: 400 W, no PV
    finally:
        sim.terminate()
        await sim.wait()
