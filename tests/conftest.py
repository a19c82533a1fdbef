"""Shared fixtures: simulated ME3000 buses served over real TCP on loopback."""

from __future__ import annotations

import asyncio
import faulthandler
import io
import sys
import threading
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from smartsofar.sim.inverter_server import BusFaults, InverterBus, serve_tcp
from smartsofar.sim.plant import Plant


@dataclass
class SimGateway:
    """A simulated bus listening on 127.0.0.1."""

    bus: InverterBus
    port: int

    @property
    def url(self) -> str:
        return f"tcp://127.0.0.1:{self.port}"


async def start_gateway(plant: Plant, faults: BusFaults | None = None,
                        latency_s: float = 0.005) -> tuple[SimGateway, asyncio.Server]:
    bus = InverterBus(plant, faults, latency_s=latency_s)
    server = await serve_tcp(bus, "127.0.0.1", 0)
    return SimGateway(bus, server.sockets[0].getsockname()[1]), server


@pytest.fixture
async def gateway() -> AsyncIterator[SimGateway]:
    """Two healthy simulated units (ids 1 and 2) behind an RTU-over-TCP gateway."""
    gw, server = await start_gateway(Plant(unit_ids=(1, 2)))
    async with server:
        yield gw


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The slow tests first, so that with one worker per core the suite does not wait on one at its end."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


HANG_REPORT_S = 180.0  # a test still running this long gets its asyncio tasks' stacks written to artifacts/


@pytest.fixture(autouse=True)
async def _report_a_hang(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    """If a test hangs, write where each of its asyncio tasks waits (pytest-timeout then ends the worker)."""
    loop = asyncio.get_running_loop()
    name = request.node.nodeid.replace("/", "_").replace("::", "-")

    def dump() -> None:
        out = io.StringIO()
        for task in asyncio.all_tasks(loop):
            task.print_stack(file=out)
        path = Path(__file__).resolve().parents[1] / "artifacts" / f"hang-{name}.txt"
        path.parent.mkdir(exist_ok=True)
        path.write_text(out.getvalue())
        faulthandler.dump_traceback(file=sys.stderr)

    timer = threading.Timer(HANG_REPORT_S, loop.call_soon_threadsafe, (dump,))
    timer.daemon = True
    timer.start()
    yield
    timer.cancel()
