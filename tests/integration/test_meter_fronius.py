"""The Fronius source against a simulated Solar API on 127.0.0.1: the grid read, a wrong device number
refused with the API's reason, an inverter that stops answering reported unavailable."""

from __future__ import annotations

import pytest

from smartsofar.config import parse_meter
from smartsofar.errors import MeterReplyError, MeterUnavailableError
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.fronius_meter import create_fronius_app
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter
from smartsofar.sim.plant import Plant
from smartsofar.web.server import start_http


async def test_the_smart_meter_is_read_through_the_solar_api() -> None:
    sim = SimMeter(Plant(ConstantHousehold(load=2100.0), unit_ids=()), noise_w=0.0)
    http = await start_http(create_fronius_app(sim))
    port = http.url.rsplit(":", 1)[1]
    meter = await open_meter_source(parse_meter({"url": f"fronius://127.0.0.1:{port}"}))
    wrong = await open_meter_source(parse_meter({"url": f"fronius://127.0.0.1:{port}?device=3"}))
    try:
        sample = await meter.read()
        assert sample.power_w == pytest.approx(2100, abs=0.5) and len(sample.phases) == 3
        assert meter.model == "Fronius Smart Meter 63A-3"
        with pytest.raises(MeterReplyError, match="Device not found"):
            await wrong.read()
        sim.faults.http_500 = True
        with pytest.raises(MeterUnavailableError, match="HTTP 500"):
            await meter.read()
        await http.stop()
        with pytest.raises(MeterUnavailableError, match="cannot connect"):
            await meter.read()
    finally:
        await meter.aclose()
        await wrong.aclose()
