"""The HTTP API of a running service, over real HTTP on 127.0.0.1, against both simulators."""

from __future__ import annotations

import asyncio
import json
import tomllib
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


async def test_state_shows_the_site(live: LiveService, http: httpx.AsyncClient) -> None:
    state = await settled_state(http)
    assert state["mode"]["mode"] == "auto" and state["safety"] == "ok"
    assert state["battery_w"] < -1200
    assert [u["name"] for u in state["units"]] == ["garage", "cellar"]
    assert state["meter"]["model"] == "Shelly Pro 3EM" and len(state["meter"]["phases"]) == 3
    assert state["manual_min_w"] == -6000 and state["manual_max_w"] == 6000
    unit = (await http.get("/api/v1/units/2")).json()
    assert unit["reading"]["soc_pct"] == 50 and unit["info"]["serial"].startswith("SE1ES")
    assert set(unit["response"]) >= {"dead_time_s", "ramp_w_per_s", "samples", "up", "down"}
    units = (await http.get("/api/v1/units")).json()
    assert len(units) == 2 and all(u["response"]["samples"] >= 0 for u in units)
    assert (await http.get("/api/v1/units/9")).status_code == 404
    assert (await http.get("/api/v1/meter")).json()["fresh"] is True


async def test_manual_power_drives_the_units(live: LiveService, http: httpx.AsyncClient) -> None:
    assert (await http.put("/api/v1/mode", json={"mode": "manual"})).json()["mode"] == "manual"
    response = await http.put("/api/v1/power", json={"power_w": 2000})
    assert response.status_code == 200 and response.json()["manual_power_w"] == 2000
    assert await eventually(lambda: abs(live.battery_w() - 2000) < 30)
    assert (await http.post("/api/v1/standby")).json()["mode"] == "standby"
    assert await eventually(lambda: live.battery_w() == 0)


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


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/api/v1/power", {"power_w": 1500}, "switch to manual"),
    ("/api/v1/power", {"power_w": "lots"}, "power_w"),
    ("/api/v1/mode", {"mode": "turbo"}, "mode must be auto, manual or standby"),
    ("/api/v1/target", {"target_w": 99_999}, "target must be between"),
    ("/api/v1/target", {}, "target_w: Field required"),
    ("/api/v1/permissions", {}, "give allow_charge"),
], ids=["power in auto", "power not a number", "unknown mode", "target out of range", "target missing",
        "no permission given"])
async def test_bad_requests_are_4xx_naming_the_field_and_command_nothing(
        live: LiveService, http: httpx.AsyncClient, path: str, body: dict[str, object], message: str) -> None:
    await eventually(lambda: live.battery_w() < -1200)
    before = (live.service.engine.site.mode if live.service.engine else None, len(live.gateway.bus.applied))
    response = await http.put(path, json=body)
    assert response.status_code == 422
    assert message in response.json()["detail"]
    assert live.service.engine is not None and live.service.engine.site.mode == before[0]


async def test_manual_power_out_of_range_names_the_range(http: httpx.AsyncClient) -> None:
    await http.put("/api/v1/mode", json={"mode": "manual"})
    response = await http.put("/api/v1/power", json={"power_w": 7000})
    assert response.status_code == 422 and "between -6000 and 6000 W" in response.json()["detail"]


async def test_target_and_permissions(live: LiveService, http: httpx.AsyncClient) -> None:
    assert (await http.put("/api/v1/target", json={"target_w": 40})).json()["target_w"] == 40
    state = (await http.put("/api/v1/permissions", json={"allow_discharge": False})).json()
    assert state["allow_discharge"] is False and state["allow_charge"] is True
    assert await eventually(lambda: live.battery_w() == 0)  # discharging is what this house needs: no more
    assert (await http.get("/api/v1/mode")).json()["allow_discharge"] is False


async def test_settings_are_validated_saved_with_comments_and_applied_live(
        live: LiveService, http: httpx.AsyncClient) -> None:
    live.config_path.write_text("# my site\n" + live.config_path.read_text())
    groups = (await http.get("/api/v1/settings")).json()["groups"]
    deadband = next(f for g in groups for f in g["fields"] if f["key"] == "control.deadband_w")
    assert deadband["value"] == 8 and deadband["live"] and "left alone" in deadband["help"]
    password = next(f for g in groups for f in g["fields"] if f["key"] == "meter.password")
    assert password["value"] is True and "meter-secret" not in json.dumps(groups)

    bad = await http.put("/api/v1/settings", json={"values": {"control.deadband_w": -5, "control.nope": 1}})
    assert bad.status_code == 422
    assert "control.deadband_w" in bad.json()["detail"] and "control.nope: unknown key" in bad.json()["detail"]
    assert tomllib.loads(live.config_path.read_text())["control"].get("deadband_w") is None  # nothing written

    good = await http.put("/api/v1/settings", json={"values": {"control.deadband_w": 12, "web.port": 8099}})
    assert good.json()["applied_live"] == ["control.deadband_w"] and good.json()["restart_needed"] == ["web.port"]
    text = live.config_path.read_text()
    assert text.startswith("# my site") and tomllib.loads(text)["control"]["deadband_w"] == 12
    assert live.service.engine is not None and live.service.engine.site.control.deadband_w == 12


async def test_read_now_buttons(live: LiveService, http: httpx.AsyncClient) -> None:
    unit = await http.post("/api/v1/units/1/read")
    assert unit.status_code == 200 and unit.json()["reading"]["running_state"]
    meter = await http.post("/api/v1/meter/read")
    assert meter.status_code == 200 and meter.json()["model"] == "Shelly Pro 3EM"
    live.gateway.bus.faults.offline_units.add(2)
    engine = live.service.engine
    assert engine is not None
    assert await eventually(lambda: engine.site.unit(2).link.value == "offline", 20)
    silent = await http.post("/api/v1/units/2/read")
    assert silent.status_code == 502 and "did not answer" in silent.json()["detail"]


async def test_history_logs_and_diagnostics(live: LiveService, http: httpx.AsyncClient) -> None:
    assert await eventually(lambda: live.battery_w() < -1200)
    assert await eventually(lambda: bool(live.service.history and live.service.history.count("site_10s") >= 1), 25)
    series = (await http.get("/api/v1/history", params={"range": "15m"})).json()
    assert series["t"] and len(series["grid_w"]) == len(series["t"]) and set(series["units"]) == {"1", "2"}
    days = (await http.get("/api/v1/history/days")).json()
    assert days and days[-1]["discharged_wh"] > 0
    assert (await http.get("/api/v1/history", params={"range": "1y"})).status_code == 422
    logs = (await http.get("/api/v1/logs", params={"level": "INFO"})).json()
    assert any("web page on" in line["message"] for line in logs)
    assert (await http.get("/api/v1/logs", params={"level": "LOUD"})).status_code == 422
    diagnostics = (await http.get("/api/v1/diagnostics")).json()
    assert diagnostics["buses"][0]["frames_sent"] > 0 and diagnostics["cycles"] > 0
    lag = diagnostics["control_lag"]
    assert lag["samples"] > 0 and 0 <= lag["p50_s"] <= lag["p99_s"] <= lag["max_s"]
    assert "meter-secret" not in json.dumps(diagnostics)


async def test_the_live_stream_pushes_snapshots(live: LiveService, http: httpx.AsyncClient) -> None:
    kinds = []
    async with http.stream("GET", "/api/v1/events") as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            if line.startswith("event: "):
                kinds.append(line.removeprefix("event: "))
            if kinds.count("snapshot") >= 2:
                break
    assert kinds.count("snapshot") >= 2


async def test_v1_data_json_keeps_its_keys_and_strings(live: LiveService, http: httpx.AsyncClient) -> None:
    await settled_state(http)
    response = await http.get("/data.json")
    assert response.headers["content-type"].startswith("text/plain")
    data = json.loads(response.text)
    assert list(data)[:6] == ["EnergyMeter_Power_Value", "EnergyMeter_Power_EngUnit", "SetPoint_Power_Value",
                              "SetPoint_Power_EngUnit", "SetPoint_ModeAuto_Value", "SetPoint_ModeAuto_EngUnit"]
    assert all(isinstance(v, str) for v in data.values())
    assert data["SetPoint_ModeAuto_Value"] == "1" and data["Charger2_battery_soc_Value"] == "50"
    assert data["Charger1_battery_temp_EngUnit"] == "degC" and data["Charger1_running_state_Value"] == "Dischar."
    assert int(data["SetPoint_Power_Value"]) < -1200


async def test_v1_update_keeps_its_meaning_with_real_status_codes(live: LiveService, http: httpx.AsyncClient) -> None:
    refused = await http.get("/update", params={"cmd": "setpower", "val": "1000"})
    assert refused.status_code == 422 and "while mode is set to auto" in refused.text
    bad_mode = await http.get("/update", params={"cmd": "setmode", "val": "2"})
    assert bad_mode.status_code == 422 and bad_mode.text == "value must be 0 (manual) or 1 (auto)"
    assert (await http.get("/update", params={"cmd": "setmode", "val": "0"})).text == "OK"
    assert (await http.get("/update", params={"cmd": "setpower", "val": "-1500"})).text == "OK"
    assert await eventually(lambda: abs(live.battery_w() + 1500) < 30)
    out_of_range = await http.get("/update", params={"cmd": "setpower", "val": "9000"})
    assert out_of_range.status_code == 422 and "between -6000 and 6000 W" in out_of_range.text
    assert (await http.get("/update", params={"cmd": "dance"})).status_code == 422


async def test_metrics_docs_and_page(live: LiveService, http: httpx.AsyncClient) -> None:
    assert await eventually(lambda: live.battery_w() < -1200)
    metrics = (await http.get("/metrics")).text
    assert "smartsofar_grid_power_watts " in metrics
    assert 'smartsofar_unit_soc_percent{name="cellar",unit="2"} 50.0' in metrics
    assert 'smartsofar_mode{mode="auto"} 1.0' in metrics
    assert 'smartsofar_control_lag_seconds{quantile="0.99"}' in metrics
    docs = (await http.get("/api/docs")).text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    schema = (await http.get("/api/openapi.json")).json()
    assert "/api/v1/power" in schema["paths"] and "/update" in schema["paths"]
    page = await http.get("/")
    assert page.status_code == 200 and "SmartSofar" in page.text
    assert (await http.get("/static/vendor/uplot/uPlot.iife.min.js")).status_code == 200


async def test_a_change_requested_by_another_site_is_refused(http: httpx.AsyncClient) -> None:
    response = await http.put("/api/v1/mode", json={"mode": "standby"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    image = await http.get("/update", params={"cmd": "setmode", "val": "0"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert image.status_code == 403
