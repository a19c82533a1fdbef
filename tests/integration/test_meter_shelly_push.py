"""Shelly Gen2+ meters pushed: the simulated device's WebSocket RPC channel over real HTTP on 127.0.0.1 sends
status notifications, which arrive as samples as soon as the device measures; a password is answered with
Shelly's digest; a device without the channel is polled instead."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from smartsofar.config import parse_meter
from smartsofar.errors import MeterAuthError
from smartsofar.meter.poller import MeterPoller, MeterState
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter, SimModel, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.web.server import RunningHttpServer, start_http


async def serve(model: SimModel = "pro3em", password: str | None = None, push: bool = True,
                update_period_s: float = 0.25) -> tuple[SimMeter, RunningHttpServer, asyncio.Task[None]]:
    sim = SimMeter(Plant(ConstantHousehold(load=1100.0), unit_ids=()), noise_w=3.0, update_period_s=update_period_s)
    updates = asyncio.create_task(sim.run_updates())
    return sim, await start_http(create_meter_app(sim, model, password, push=push)), updates


@pytest.mark.parametrize(("model", "phases"), [("pro3em", 3), ("proem", 1), ("pro3em-monophase", 3)])
async def test_notifications_arrive_as_samples_at_each_update(model: SimModel, phases: int) -> None:
    _, http, updates = await serve(model)
    meter = await open_meter_source(parse_meter({"url": http.url}))
    try:
        samples = [await meter.read() for _ in range(5)]
        assert meter.model.endswith("(pushed)")
        assert all(s.power_w == pytest.approx(1100, abs=10) and len(s.phases) == phases for s in samples)
        gaps = [b.taken_at - a.taken_at for a, b in itertools.pairwise(samples[1:])]  # [0]: the read
        assert all(0.1 < gap < 0.5 for gap in gaps)  # one per 0.25 s update, not per poll interval
        assert samples[0].lag_s is None and all(s.lag_s == 0.2 for s in samples[1:])  # the read, then pushes
        assert samples[-1].import_wh is not None
    finally:
        await meter.aclose()
        updates.cancel()
        await http.stop()


async def test_a_password_is_answered_and_a_wrong_one_refused() -> None:
    _, http, updates = await serve(password="s3cret")
    right = await open_meter_source(parse_meter({"url": http.url, "model": "pro3em", "password": "s3cret",
                                                 "push": "on"}))
    wrong = await open_meter_source(parse_meter({"url": http.url, "model": "pro3em", "password": "nope",
                                                 "push": "on"}))
    try:
        assert (await right.read()).power_w == pytest.approx(1100, abs=10)
        with pytest.raises(MeterAuthError, match="refused the password"):
            await wrong.read()
    finally:
        await right.aclose()
        await wrong.aclose()
        updates.cancel()
        await http.stop()


async def test_a_device_without_the_channel_is_polled_and_the_poller_paces_itself(
        caplog: pytest.LogCaptureFixture) -> None:
    _, http, updates = await serve(push=False)
    meter = await open_meter_source(parse_meter({"url": http.url, "model": "pro3em"}))
    poller = MeterPoller(meter, interval_s=0.5)
    try:
        with caplog.at_level(logging.WARNING):
            assert await poller.poll_once() is not None
        assert meter.model == "Shelly Pro 3EM (polled)" and poller.state is MeterState.OK
        assert any("push does not work" in r.getMessage() for r in caplog.records)
        task = asyncio.create_task(poller.run())
        await asyncio.sleep(1.2)
        task.cancel()
        assert 2 <= poller.reads <= 5  # paced at 0.5 s while polling, not back to back
    finally:
        await meter.aclose()
        updates.cancel()
        await http.stop()
