"""The MQTT meter source against a real Mosquitto: a simulated meter publishing at 1 Hz drives the engine in
real time and the units settle; a malformed message is refused and logged, never used; a silent topic makes
the meter unavailable and the units go to standby."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from pathlib import Path

import pytest

from smartsofar.app import build_engine
from smartsofar.config import parse_config, parse_meter
from smartsofar.errors import MeterUnavailableError
from smartsofar.meter.poller import MeterState
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter
from smartsofar.sim.mqtt_meter import SIM_MQTT_QUERY, publish_meter
from smartsofar.sim.plant import Plant
from tests.conftest import start_gateway
from tests.live_service import eventually
from tests.mqtt.conftest import TlsBroker
from tests.mqtt_broker import MOSQUITTO, Broker, Listener, free_port

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto is not installed "
                                "(scripts/install --dev installs it)")


@pytest.mark.slow
async def test_a_meter_publishing_at_1_hz_drives_the_engine_and_its_silence_stops_the_units(
        tmp_path: Path, broker: Broker) -> None:
    plant = Plant(ConstantHousehold(load=1300.0), unit_ids=(1, 2))
    gateway, server = await start_gateway(plant, latency_s=0.02)
    meter = SimMeter(plant, noise_w=2.0)
    config = parse_config({
        "buses": [{"url": gateway.url, "units": [{"id": 1}, {"id": 2}]}],
        "meter": {"url": f"mqtt://127.0.0.1:{broker.port}/site/grid?{SIM_MQTT_QUERY}", "stale_after_s": 3},
        "control": {"meter_standby_after_s": 4, "unit_read_interval_s": 1},
    })
    publisher = asyncio.create_task(publish_meter(meter, "127.0.0.1", broker.port, "site/grid", interval_s=1.0))
    engine = await build_engine(config, tmp_path)
    try:
        async with server:
            await engine.runner.start()
            assert await eventually(lambda: abs(plant.advance()) < 40, 20)
            assert sum(u.power_w for u in plant.units.values()) < -1200  # the batteries cover the house
            snapshot = engine.site.snapshots.latest
            assert snapshot is not None and snapshot.meter is not None and snapshot.meter.sample is not None
            assert len(snapshot.meter.sample.phases) == 3 and snapshot.meter.sample.import_wh is not None

            meter.faults.outage = True  # the publisher goes quiet
            assert await eventually(lambda: all(u.power_w == 0 for u in plant.units.values()), 12)
            assert engine.poller is not None and engine.poller.state is MeterState.UNAVAILABLE
            assert "no message" in (engine.poller.last_error or "")
    finally:
        publisher.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await publisher
        await engine.runner.stop()
        await engine.aclose()


async def test_a_malformed_or_impossible_message_is_refused_and_logged_never_used(
        broker: Broker, caplog: pytest.LogCaptureFixture) -> None:
    meter = await open_meter_source(parse_meter({"url": f"mqtt://127.0.0.1:{broker.port}/grid?path=power"}))
    try:
        first = asyncio.create_task(meter.read())  # connects and subscribes
        async with Listener(broker.port) as publisher:
            for payload in ('{"power": "on"}', "not json", '{"power": 5e9}', '{"voltage": 230}', '{"power": -420}'):
                await asyncio.sleep(0.3)  # the first waits for the subscription
                await publisher.publish("grid", payload)
            sample = await asyncio.wait_for(first, 10)
        assert sample.power_w == -420
        refusals = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
        assert any("refused" in r and "not a number" in r for r in refusals)
        assert any("out of range" in r for r in refusals)
    finally:
        await meter.aclose()


async def test_a_retained_message_is_not_taken_for_a_fresh_one(broker: Broker) -> None:
    async with Listener(broker.port) as publisher:
        await publisher.publish("grid", "999", retain=True)
        config = parse_meter({"url": f"mqtt://127.0.0.1:{broker.port}/grid", "stale_after_s": 1})
        meter = await open_meter_source(config)
        try:
            with pytest.raises(MeterUnavailableError, match="no message for 1 s"):
                await meter.read()
        finally:
            await meter.aclose()


async def test_a_broker_that_is_not_there_is_reported_unavailable() -> None:
    meter = await open_meter_source(parse_meter({"url": f"mqtt://127.0.0.1:{free_port()}/grid"}))
    try:
        with pytest.raises(MeterUnavailableError, match=r"127\.0\.0\.1"):
            await meter.read()
    finally:
        await meter.aclose()


# paho leaves the socket of a failed TLS handshake to the garbage collector (it is closed, with a warning):
# collected here, before the test ends, so that the warning is not raised in whichever test runs next.
@pytest.mark.filterwarnings("ignore:Exception ignored in.*ssl.SSLSocket:pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore:unclosed <ssl.SSLSocket:ResourceWarning")
async def test_an_mqtts_broker_is_read_with_its_ca_and_refused_with_another(tls_broker: TlsBroker) -> None:
    url = f"mqtts://127.0.0.1:{tls_broker.broker.tls_port}/grid"
    trusted = await open_meter_source(parse_meter({"url": f"{url}?ca={tls_broker.ca}"}))
    stranger = await open_meter_source(parse_meter({"url": url, "tls_ca_file": str(tls_broker.other_ca),
                                                    "stale_after_s": 2}))
    try:
        first = asyncio.create_task(trusted.read())
        async with Listener(tls_broker.broker.port) as publisher:
            for _ in range(10):
                await asyncio.sleep(0.3)
                await publisher.publish("grid", "-640")
                if first.done():
                    break
        assert (await asyncio.wait_for(first, 5)).power_w == -640
        with pytest.raises(MeterUnavailableError):  # the certificate is not the one it trusts
            await stranger.read()
    finally:
        await trusted.aclose()
        await stranger.aclose()
        gc.collect()
