"""The Home Assistant source against a WebSocket server speaking Home Assistant's protocol on 127.0.0.1:
state changes followed and converted from kW, a wrong token refused as such, an unavailable sensor refused
and logged, a sensor that goes quiet reported unavailable."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from smartsofar.config import parse_meter
from smartsofar.config_meters import HomeAssistantMeterConfig
from smartsofar.errors import ConfigError, MeterAuthError, MeterUnavailableError
from smartsofar.meter.base import Meter
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.ha_server import SimHomeAssistant, serve_home_assistant
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter
from smartsofar.sim.plant import Plant

TOKEN = "eyJhbGciOiJIUzI1NiJ9.test-token"


@pytest.fixture
async def ha() -> AsyncIterator[tuple[SimHomeAssistant, int]]:
    sim = SimHomeAssistant(SimMeter(Plant(ConstantHousehold(load=1800.0), unit_ids=()), noise_w=20.0),
                           token=TOKEN, unit="kW", interval_s=0.2)
    server = await serve_home_assistant(sim)
    port = next(iter(server.sockets)).getsockname()[1]
    yield sim, port
    server.close()
    await server.wait_closed()


async def open_ha(port: int, token: str = TOKEN, **keys: object) -> Meter:
    return await open_meter_source(parse_meter({"url": f"ha://127.0.0.1:{port}/sensor.grid_power",
                                                "token": token, **keys}))


async def test_the_sensor_is_followed_in_watts(ha: tuple[SimHomeAssistant, int]) -> None:
    _, port = ha
    meter = await open_ha(port)
    try:
        samples = [await meter.read() for _ in range(4)]
        assert all(s.power_w == pytest.approx(1800, abs=70) for s in samples)  # kW converted, noise ±3×20 W
        assert len({s.power_w for s in samples}) > 1  # changes, not one state repeated
        assert meter.model == "Home Assistant sensor.grid_power"
    finally:
        await meter.aclose()


async def test_a_wrong_token_is_refused_as_such(ha: tuple[SimHomeAssistant, int]) -> None:
    meter = await open_ha(ha[1], token="not-the-token")
    try:
        with pytest.raises(MeterAuthError, match="refused the token"):
            await meter.read()
    finally:
        await meter.aclose()


async def test_an_unavailable_or_silent_sensor_gives_no_sample(
        ha: tuple[SimHomeAssistant, int], caplog: pytest.LogCaptureFixture) -> None:
    sim, port = ha
    meter = await open_ha(port, stale_after_s=1)
    try:
        await meter.read()
        sim.unavailable = True
        with pytest.raises(MeterUnavailableError, match="no message for 1 s"):
            await meter.read()
        assert any("sensor.grid_power is unavailable" in r.getMessage() for r in caplog.records)
        sim.unavailable = False
        assert (await meter.read()).power_w == pytest.approx(1800, abs=70)  # back, on the same connection
        sim.meter.faults.outage = True
        with pytest.raises(MeterUnavailableError, match="no message for 1 s"):
            await meter.read()
    finally:
        await meter.aclose()


async def test_three_phase_sensors_make_one_sample_with_three_phases(ha: tuple[SimHomeAssistant, int],
                                                                      caplog: pytest.LogCaptureFixture) -> None:
    """Each change names only the phases that changed: the others' last states still hold."""
    sim, port = ha
    phases = "sensor.grid_power_l1,sensor.grid_power_l2,sensor.grid_power_l3"
    meter = await open_meter_source(parse_meter({"url": f"ha://127.0.0.1:{port}/{phases}", "token": TOKEN,
                                                 "stale_after_s": 1}))
    follower = await open_meter_source(parse_meter({"url": f"ha://127.0.0.1:{port}/{phases}", "token": TOKEN,
                                                    "phase": "b"}))
    try:
        samples = [await meter.read() for _ in range(4)]
        assert all(len(s.phases) == 3 and s.total_power_w == pytest.approx(1800, abs=70) for s in samples)
        assert all(s.power_w == pytest.approx(sum(p.power_w for p in s.phases)) for s in samples)
        second = await follower.read()
        assert second.power_w == second.phases[1].power_w and second.power_w < 1000  # phase L2 alone
        sim.unavailable_entity = "sensor.grid_power_l2"  # one phase gone: no sample of all three
        with pytest.raises(MeterUnavailableError, match="no message for 1 s"):
            await meter.read()
        assert any("sensor.grid_power_l2 is unavailable" in r.getMessage() for r in caplog.records)
    finally:
        await meter.aclose()
        await follower.aclose()


def test_the_url_names_host_and_entity() -> None:
    config = parse_meter({"url": "has://ha.local/sensor.p1_power", "token": "t"})
    assert isinstance(config, HomeAssistantMeterConfig) and config.entity_ids == ("sensor.p1_power",)
    assert config.websocket_url == "wss://ha.local:8123/api/websocket"
    per_phase = parse_meter({"url": "ha://ha.local:8123/sensor.a,sensor.b,sensor.c", "token": "t"})
    assert isinstance(per_phase, HomeAssistantMeterConfig)
    assert per_phase.entity_ids == ("sensor.a", "sensor.b", "sensor.c")
    with pytest.raises(ConfigError, match="names no entity"):
        parse_meter({"url": "ha://ha.local:8123/", "token": "t"})
    with pytest.raises(ConfigError, match="names 2 entities"):
        parse_meter({"url": "ha://ha.local:8123/sensor.a,sensor.b", "token": "t"})
    with pytest.raises(ConfigError, match="token: missing"):
        parse_meter({"url": "ha://ha.local:8123/sensor.grid"})
