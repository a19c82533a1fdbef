"""Meter clients against the simulated Shelly over real HTTP on 127.0.0.1, for every model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from smartsofar.errors import MeterAuthError, MeterUnavailableError
from smartsofar.meter.factory import open_meter
from smartsofar.meter.poller import MeterPoller, MeterState
from smartsofar.meter.window import SecondWindow
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SIM_MODELS, SimMeter, SimModel, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.sofar.passive import PassiveCommand
from smartsofar.web.server import RunningHttpServer, start_http
from tests.cli_process import smartsofar


def _plant() -> Plant:
    plant = Plant(ConstantHousehold(load=900.0, pv=2000.0), unit_ids=(1, 2))
    unit = plant.units[1]
    unit.command = PassiveCommand("charge", 300)
    unit.power_w = unit.target_w = 300.0  # charging, settled
    return plant


async def _serve(model: SimModel, password: str | None = None) -> tuple[SimMeter, RunningHttpServer]:
    sim = SimMeter(_plant(), noise_w=0.0)
    return sim, await start_http(create_meter_app(sim, model, password))


@pytest.fixture
async def pro3em() -> AsyncIterator[tuple[SimMeter, RunningHttpServer]]:
    sim, server = await _serve("pro3em", password="s3cret")
    yield sim, server
    await server.stop()


@pytest.mark.parametrize("model", SIM_MODELS)
async def test_every_model_is_detected_and_reads_the_site(model: SimModel) -> None:
    _sim, server = await _serve(model)
    try:
        meter = await open_meter(server.url)
        sample = await meter.read()
        await meter.aclose()
    finally:
        await server.stop()
    # grid = load 900 - PV 2000 + battery 300 = -800 W (exporting); the EMs' channel 0 sees the sum
    assert sample.power_w == pytest.approx(-800.0, abs=0.5)
    assert len(sample.phases) == {"proem": 1, "em-gen1": 1}.get(model, 3)
    assert sample.import_wh is not None and sample.import_wh > 0


async def test_digest_auth_right_and_wrong_password(pro3em: tuple[SimMeter, RunningHttpServer]) -> None:
    _sim, server = pro3em
    good = await open_meter(server.url, password="s3cret")
    assert (await good.read()).power_w == pytest.approx(-800.0, abs=0.5)
    await good.aclose()
    for password in ("wrong", None):
        bad = await open_meter(server.url, password=password)
        with pytest.raises(MeterAuthError):
            await bad.read()
        await bad.aclose()


async def test_gen1_basic_auth() -> None:
    _sim, server = await _serve("3em-gen1", password="pw")
    good = await open_meter(server.url, password="pw")
    bad = await open_meter(server.url, password="nope")
    try:
        assert (await good.read()).power_w == pytest.approx(-800, abs=0.5)
        with pytest.raises(MeterAuthError):
            await bad.read()
    finally:
        await good.aclose()
        await bad.aclose()
        await server.stop()


async def test_slow_meter_times_out_and_http_500_is_unavailable(pro3em: tuple[SimMeter, RunningHttpServer]) -> None:
    sim, server = pro3em
    meter = await open_meter(server.url, password="s3cret", timeout_s=0.3)
    sim.faults.delay_s = 0.6
    with pytest.raises(MeterUnavailableError, match=r"no answer within 0\.3"):
        await meter.read()
    sim.faults.delay_s = 0.0
    sim.faults.http_500 = True
    with pytest.raises(MeterUnavailableError, match="HTTP 500"):
        await meter.read()
    await meter.aclose()


async def test_outage_makes_the_sample_stale_within_the_limit_then_recovers(
        pro3em: tuple[SimMeter, RunningHttpServer]) -> None:
    sim, server = pro3em
    meter = await open_meter(server.url, password="s3cret", timeout_s=0.2)
    poller = MeterPoller(meter, interval_s=0.1, stale_after_s=0.5)
    assert await poller.poll_once() is not None
    sim.faults.outage = True
    started = asyncio.get_running_loop().time()
    while poller.fresh() is not None:
        await poller.poll_once()
    assert asyncio.get_running_loop().time() - started < 0.5 + 0.3
    assert poller.state is MeterState.UNAVAILABLE
    sim.faults.outage = False
    assert await poller.poll_once() is not None
    assert poller.fresh() is not None
    assert str(poller.state) == "ok"
    await meter.aclose()


async def test_frozen_simulated_meter_is_detected(pro3em: tuple[SimMeter, RunningHttpServer]) -> None:
    sim, server = pro3em
    meter = await open_meter(server.url, password="s3cret")
    poller = MeterPoller(meter, interval_s=0.1, frozen_after_s=0.3)  # polled every 0.1 s, as below
    poller.window = SecondWindow(0.05)  # polls 0.1 s apart, each its own sample
    await poller.poll_once()
    sim.faults.frozen = True
    for _ in range(6):
        poller.note_battery_power(1000.0)
        await poller.poll_once()
        await asyncio.sleep(0.1)
    assert poller.state is MeterState.FROZEN and poller.fresh() is None
    await meter.aclose()




async def test_cli_meter_json(pro3em: tuple[SimMeter, RunningHttpServer]) -> None:
    _sim, server = pro3em
    code, out, _ = await smartsofar("meter", "--url", server.url, "--password", "s3cret", "--json")
    data = json.loads(out)
    assert code == 0
    assert data["power_w"] == pytest.approx(-800.0, abs=0.5)
    assert {"power_w", "voltage_v", "current_a"} <= set(data["phases"][0])
    assert len(data["phases"]) == 3


async def test_cli_meter_errors_are_one_line_exit_2(pro3em: tuple[SimMeter, RunningHttpServer]) -> None:
    _sim, server = pro3em
    not_shelly = await start_http(Starlette(routes=[Route("/shelly", lambda _r: JSONResponse({"hi": 1}))]))
    try:
        for args, message in (((server.url, "--password", "bad"), "refused"), ((server.url,), "password"),
                              (("http://127.0.0.1:9",), "cannot connect"), ((not_shelly.url,), "like a Shelly")):
            code, out, err = await smartsofar("meter", "--url", *args)
            assert code == 2 and out == ""
            assert len(err.strip().splitlines()) == 1 and message in err
    finally:
        await not_shelly.stop()
