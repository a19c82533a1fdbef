"""Shared fixtures: simulated ME3000 buses served over real TCP on loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

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
