"""The whole service, started as a user would start it, against both simulators on 127.0.0.1.

The configuration is a real TOML file; the units are reached over RTU-over-TCP and the meter over HTTP;
the web server listens on a free loopback port. Used by the web, MQTT and browser tests.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomlkit

from smartsofar.config import load_config
from smartsofar.logbuffer import LogBuffer
from smartsofar.service import Service
from smartsofar.sim.household import ConstantHousehold, Household
from smartsofar.sim.meter_server import SimMeter, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.web.server import RunningHttpServer, start_http
from tests.conftest import SimGateway, start_gateway


@dataclass
class LiveService:
    plant: Plant
    gateway: SimGateway
    meter: SimMeter
    meter_http: RunningHttpServer
    service: Service
    config_path: Path

    @property
    def url(self) -> str:
        return self.service.url

    def battery_w(self) -> float:
        return sum(u.power_w for u in self.plant.units.values())


def merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


@asynccontextmanager
async def live_service(tmp_path: Path, *, household: Household | None = None,
                       config: dict[str, Any] | None = None, meter_password: str | None = None,
                       logs: LogBuffer | None = None, bus: dict[str, Any] | None = None) -> AsyncIterator[LiveService]:
    plant = Plant(household or ConstantHousehold(load=1300.0), unit_ids=(1, 2))
    gateway, server = await start_gateway(plant, latency_s=0.01)
    meter = SimMeter(plant, noise_w=2.0)
    meter_http = await start_http(create_meter_app(meter, "pro3em", password=meter_password))
    data: dict[str, Any] = {
        "buses": [{"url": gateway.url, "units": [{"id": 1, "name": "garage"}, {"id": 2, "name": "cellar"}],
                   **(bus or {})}],
        "meter": {"url": meter_http.url, "model": "pro3em", **({"password": meter_password} if meter_password else {})},
        "control": {"unit_read_interval_s": 1, "meter_standby_after_s": 4},
        "web": {"host": "127.0.0.1", "port": 0},
        "storage": {"data_dir": str(tmp_path / "data"), "history_flush_s": 1},
    }
    data = merge(data, config or {})
    path = tmp_path / "smartsofar.toml"
    path.write_text(tomlkit.dumps(data))
    service = Service(load_config(path), path, logs or LogBuffer())
    async with server:
        await service.start()
        try:
            yield LiveService(plant, gateway, meter, meter_http, service, path)
        finally:
            await service.stop()
            await meter_http.stop()


async def eventually(check: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll ``check`` until it holds or the time is up."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        await asyncio.sleep(0.1)
    return check()
