"""On a real (simulated) RS485 gateway: a setpoint is not held up by reads a person asked for, and many
"Read now" of one unit make one read (issue 17, finding 9)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from smartsofar.app import build_engine
from smartsofar.bus.client import Bus
from smartsofar.bus.priority import on_demand
from smartsofar.config import parse_config
from smartsofar.sofar.passive import PassiveCommand
from smartsofar.sofar.unit import SofarUnit
from tests.conftest import SimGateway


async def test_a_setpoint_goes_ahead_of_forty_queued_reads(gateway: SimGateway) -> None:
    done: list[str] = []
    finished_before: list[int] = []
    async with Bus(gateway.url) as bus:
        units = {uid: SofarUnit(bus, uid) for uid in (1, 2)}

        async def click(uid: int) -> None:
            with on_demand():
                await units[uid].read()
            done.append("read")

        async def setpoint() -> None:
            finished_before.append(len(done))
            status = await units[1].command(PassiveCommand("charge", 800))
            assert status.accepted
            done.append("setpoint")

        reads = [asyncio.create_task(click(1 + i % 2)) for i in range(40)]
        await asyncio.sleep(0.05)  # a read or two are done, one is on the line, the rest are queued
        await asyncio.gather(setpoint(), *reads)
    assert finished_before[0] < 10
    assert done.index("setpoint") <= finished_before[0] + 1  # only the read already on the line went first


async def test_many_read_now_of_one_unit_make_one_read(gateway: SimGateway, tmp_path: Path) -> None:
    config = parse_config({"buses": [{"url": gateway.url, "units": [{"id": 1}, {"id": 2}]}],
                           "control": {"mode": "standby"}})
    engine = await build_engine(config, tmp_path)
    try:
        before = gateway.bus.requests_seen
        readings = await asyncio.gather(*(engine.read_unit(1) for _ in range(40)))
        assert len({id(r) for r in readings}) == 1  # one reading, shared by all who asked
        assert gateway.bus.requests_seen - before <= 2  # one read (and maybe a retry), not forty
    finally:
        await engine.aclose()
