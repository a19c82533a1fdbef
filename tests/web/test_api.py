"""The HTTP API end to end: a running service over real HTTP on 127.0.0.1, against both simulators.

Only the paths that need the whole chain are here (a request moving real simulated units, a meter or a bus
going quiet, the live stream over a real connection); what the web layer does by itself is tested
in-process in ``test_routes.py``, ``test_auth.py`` and ``test_guard.py``.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_service import LiveService, eventually, live_service


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveService]:
    async with live_service(tmp_path, meter_password="meter-secret") as site:
        yield site


@pytest.fixture
async def http(live: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as client:
        yield client


async def settled_state(http: httpx.AsyncClient) -> dict[str, Any]:
    """The state once the meter shows the house covered (the units ramp for a second or two after start)."""
    for _ in range(100):
        state: dict[str, Any] = (await http.get("/api/v1/state")).json()
        settled = all(u["reading"] and u["reading"]["running_state"] == "discharging" for u in state["units"])
        settled = settled and state["battery_w"] is not None and state["battery_w"] < -1200
        if state["grid_w"] is not None and abs(state["grid_w"]) < 60 and settled:
            return state
        await asyncio.sleep(0.1)
    raise AssertionError(f"the grid never settled: {state['grid_w']} W")


async def test_requests_move_the_units_and_the_page_sees_it(live: LiveService, http: httpx.AsyncClient) -> None:
    state = await settled_state(http)  # auto mode: the house's 1300 W comes from the batteries
    assert state["safety"] == "ok" and all(u["reading"]["running_state"] == "discharging" for u in state["units"])
    data = json.loads((await http.get("/data.json")).text)
    assert data["Charger1_running_state_Value"] == "Dischar." and int(data["SetPoint_Power_Value"]) < -1200
    assert (await http.put("/api/v1/mode", json={"mode": "manual"})).json()["mode"] == "manual"
    # read after write: the state, v1's data.json and the stream say so before the next cycle
    assert json.loads((await http.get("/data.json")).text)["SetPoint_ModeAuto_Value"] == "0"
    assert (await http.get("/api/v1/state")).json()["mode"]["mode"] == "manual"
    response = await http.put("/api/v1/power", json={"power_w": 2000})
    assert response.status_code == 200 and response.json()["manual_power_w"] == 2000
    assert (await http.get("/api/v1/state")).json()["mode"]["manual_power_w"] == 2000
    assert await eventually(lambda: abs(live.battery_w() - 2000) < 30)
    refused = await http.put("/api/v1/power", json={"power_w": 7000})
    assert refused.status_code == 422 and abs(live.battery_w() - 2000) < 30
    kinds = []
    async with http.stream("GET", "/api/v1/events") as stream:  # the live stream, over a real connection
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))
            if line.startswith("data: ") and kinds[-1] == "snapshot" and json.loads(line[6:])["battery_w"] > 1900:
                break
    assert (await http.post("/api/v1/standby")).json()["mode"] == "standby"
    assert await eventually(lambda: live.battery_w() == 0)
    assert (await http.post("/api/v1/units/1/read")).json()["reading"]["running_state"] == "wait"  # standby


@pytest.mark.slow
async def test_a_quiet_meter_stands_the_units_by_and_the_state_says_why(live: LiveService,
                                                                         http: httpx.AsyncClient) -> None:
    await settled_state(http)
    live.meter.faults.outage = True  # the meter stops answering: the service's limit is 4 s here
    assert await eventually(lambda: live.battery_w() == 0, 15)
    state = (await http.get("/api/v1/state")).json()
    assert state["safety"] == "meter_silent" and "meter" in state["message"].lower()
    assert state["mode"]["mode"] == "auto"  # the user's choice is kept ...
    live.meter.faults.outage = False
    assert (await settled_state(http))["safety"] == "ok"  # ... and control resumes by itself


@pytest.mark.slow
async def test_a_quiet_bus_shows_the_units_offline_and_read_now_brings_them_back(tmp_path: Path) -> None:
    quick = {"timeout_s": 0.5, "retries": 0}  # a dead line is declared within seconds
    async with live_service(tmp_path, bus=quick) as live, httpx.AsyncClient(base_url=live.url, timeout=10) as http:
        await http.put("/api/v1/mode", json={"mode": "manual"})
        await http.put("/api/v1/power", json={"power_w": 2000})
        assert await eventually(lambda: abs(live.battery_w() - 2000) < 30)
        live.gateway.bus.faults.offline_units.update({1, 2})  # the RS485 line goes quiet
        states: list[dict[str, Any]] = []

        async def poll() -> None:
            states.append((await http.get("/api/v1/state")).json())

        for _ in range(150):
            await poll()
            if all(u["link"] == "offline" for u in states[-1]["units"]):
                break
            await asyncio.sleep(0.1)
        state = states[-1]
        assert all(u["link"] == "offline" for u in state["units"]), "the page never said the units were offline"
        assert state["safety"] == "no_units" and "no unit" in state["message"].lower()
        # No keep-alive reaches them any more: their passive mode lapses to standby within 60 s by itself
        # (the accelerated test of this: tests/engine/test_safety.py).
        assert (await http.put("/api/v1/power", json={"power_w": 1000})).status_code == 200  # kept for later
        assert live.battery_w() == 2000  # nothing reached them
        live.gateway.bus.faults.offline_units.clear()  # the line is repaired ...
        for unit_id in (1, 2):  # ... and the user presses "read unit now" on each card
            assert (await http.post(f"/api/v1/units/{unit_id}/read")).status_code == 200
        assert await eventually(lambda: abs(live.battery_w() - 1000) < 30, 15)  # the new power is applied
        await poll()
        assert states[-1]["safety"] == "ok" and all(u["link"] == "ok" for u in states[-1]["units"])
