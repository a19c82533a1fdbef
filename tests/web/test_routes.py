"""The JSON API, v1's endpoints, metrics and the docs, in-process in front of a stub engine.

What the web layer itself does: the payloads it returns, the status codes and messages, that a refused
request changes nothing, that settings are validated and saved with their comments, what it asks of the
engine. The end-to-end paths (real units, a real meter, real HTTP) are in ``test_api.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tomlkit

from smartsofar.engine.snapshot import Event
from smartsofar.logbuffer import LogBuffer
from smartsofar.modes import Mode, ModeState
from smartsofar.storage.history import SiteRow, UnitRow
from smartsofar.web.live import stream
from tests.web.stub import Web, web_client


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async with web_client(tmp_path, history=True) as client:
        yield client


async def test_state_units_and_meter_show_the_site(web: Web) -> None:
    state = (await web.http.get("/api/v1/state")).json()
    assert state["mode"]["mode"] == "auto" and state["modes"] == ["auto", "manual", "standby"]
    assert state["safety"] == "ok" and state["grid_w"] == 12.0 and state["battery_w"] == -1400
    assert [u["name"] for u in state["units"]] == ["garage", "cellar"]
    assert state["meter"]["model"] == "Shelly Pro 3EM" and len(state["meter"]["phases"]) == 3
    assert state["manual_min_w"] == -6000 and state["control_lag"]["samples"] == 40
    unit = (await web.http.get("/api/v1/units/2")).json()
    assert unit["reading"]["soc_pct"] == 50 and unit["reading"]["running_state"] == "discharging"
    assert unit["info"]["serial"] == "SE1ES230M2000" and unit["status"]["result"] == "accepted"
    assert unit["response"]["up"]["samples"] == 2
    assert len((await web.http.get("/api/v1/units")).json()) == 2
    assert (await web.http.get("/api/v1/units/9")).status_code == 404
    assert (await web.http.get("/api/v1/meter")).json()["fresh"] is True


async def test_a_silent_meter_shows_no_values_never_stale_ones(web: Web) -> None:
    web.engine.grid_w = None
    state = (await web.http.get("/api/v1/state")).json()
    meter = state["meter"]
    assert state["grid_w"] is None and meter["power_w"] is None and meter["phases"] == []
    assert meter["fresh"] is False and meter["error"] == "timed out"


@pytest.mark.parametrize(("path", "body", "message"), [
    ("/api/v1/power", {"power_w": 1500}, "switch to manual"),
    ("/api/v1/power", {"power_w": "lots"}, "power_w"),
    ("/api/v1/mode", {"mode": "turbo"}, "mode must be auto, manual or standby"),
    ("/api/v1/target", {"target_w": 99_999}, "target must be between"),
    ("/api/v1/target", {}, "target_w: Field required"),
    ("/api/v1/permissions", {}, "give allow_charge"),
], ids=["power in auto", "power not a number", "unknown mode", "target out of range", "target missing",
        "no permission given"])
async def test_bad_requests_are_422_naming_the_field_and_change_nothing(web: Web, path: str, body: dict[str, object],
                                                                        message: str) -> None:
    before = web.engine.holder.mode
    response = await web.http.put(path, json=body)
    assert response.status_code == 422 and message in response.json()["detail"]
    assert web.engine.holder.mode == before and not web.engine.commands.wake.is_set()


async def test_modes_power_target_and_permissions_go_through_the_commands(web: Web) -> None:
    assert (await web.http.put("/api/v1/mode", json={"mode": "manual"})).json()["mode"] == "manual"
    assert (await web.http.put("/api/v1/power", json={"power_w": 2000})).json()["manual_power_w"] == 2000
    assert web.engine.commands.wake.is_set()  # the engine acts at once
    refused = await web.http.put("/api/v1/power", json={"power_w": 7000})
    assert refused.status_code == 422 and "between -6000 and 6000 W" in refused.json()["detail"]
    assert (await web.http.post("/api/v1/standby")).json()["mode"] == "standby"
    assert (await web.http.put("/api/v1/target", json={"target_w": 40})).json()["target_w"] == 40
    state = (await web.http.put("/api/v1/permissions", json={"allow_discharge": False})).json()
    assert state["allow_discharge"] is False and state["allow_charge"] is True
    assert web.engine.holder.mode == ModeState(Mode.STANDBY, 2000, 40, True, False)
    assert (await web.http.get("/api/v1/mode")).json()["allow_discharge"] is False


async def test_settings_are_validated_saved_with_comments_and_handed_to_the_engine(web: Web) -> None:
    web.config_path.write_text("# my site\n" + web.config_path.read_text())
    groups = (await web.http.get("/api/v1/settings")).json()["groups"]
    fields = {f["key"]: f for g in groups for f in g["fields"]}
    assert fields["control.deadband_w"]["value"] == 8 and fields["control.deadband_w"]["live"]
    assert "left alone" in fields["control.deadband_w"]["help"] and not fields["web.port"]["live"]
    assert fields["control.mode"]["kind"] == "choice" and fields["control.mode"]["choices"] == list(Mode.names())
    assert fields["meter.password"]["value"] is True and "meter-secret" not in json.dumps(groups)

    bad = await web.http.put("/api/v1/settings", json={"values": {"control.deadband_w": -5, "control.nope": 1}})
    assert bad.status_code == 422
    assert "control.deadband_w" in bad.json()["detail"] and "control.nope: unknown key" in bad.json()["detail"]
    assert "deadband_w" not in tomllib.loads(web.config_path.read_text()).get("control", {})
    assert web.engine.reconfigured == []  # nothing written, nothing applied

    good = await web.http.put("/api/v1/settings", json={"values": {"control.deadband_w": 12, "web.port": 8099}})
    assert good.json()["applied_live"] == ["control.deadband_w"] and good.json()["restart_needed"] == ["web.port"]
    text = web.config_path.read_text()
    assert text.startswith("# my site") and tomllib.loads(text)["control"]["deadband_w"] == 12
    assert web.engine.config.control.deadband_w == 12


@pytest.mark.parametrize(("path", "body"), [
    ("/api/v1/power", {"power_w": "1500"}), ("/api/v1/power", {"power_w": True}), ("/api/v1/power", {"power_w": 1.5}),
    ("/api/v1/target", {"target_w": "20"}), ("/api/v1/permissions", {"allow_charge": "t"}),
    ("/api/v1/permissions", {"allow_discharge": 1}),
])
async def test_numbers_and_switches_in_json_are_json_numbers_and_booleans(web: Web, path: str,
                                                                          body: dict[str, object]) -> None:
    await web.http.put("/api/v1/mode", json={"mode": "manual"})
    before = web.engine.holder.mode
    refused = await web.http.put(path, json=body)
    assert refused.status_code == 422
    assert web.engine.holder.mode == before  # nothing changed
    assert (await web.http.put("/api/v1/power", json={"power_w": 1500.0})).json()["manual_power_w"] == 1500


@pytest.mark.parametrize(("values", "words"), [
    ({"control.allow_charge": "t"}, "control.allow_charge: must be true or false"),
    ({"control.deadband_w": "5"}, "control.deadband_w: must be a number"),
    ({"web.port": True}, "web.port: must be a whole number"),
    ({"storage.data_dir": "/var/lib/smart\x00sofar"}, "storage.data_dir: has a control character"),
    ({"web.host": "0.0.0.0\n[web]"}, "web.host: '0.0.0.0\\n[web]' is not a host name"),
])
async def test_a_setting_of_the_wrong_kind_is_refused_and_nothing_is_written(
        web: Web, values: dict[str, object], words: str) -> None:
    before = web.config_path.read_bytes()
    refused = await web.http.put("/api/v1/settings", json={"values": values})
    assert refused.status_code == 422 and words in refused.json()["detail"]
    assert web.config_path.read_bytes() == before and web.engine.reconfigured == []


@pytest.mark.parametrize("values", [{"web": None}, {"web": {}}, {"web": {"password_hash": None}},
                                    {"web.password_hash": ""}, {"": 1}, {"web.": None}])
async def test_a_secret_cannot_be_removed_through_a_whole_table(web: Web, values: dict[str, object]) -> None:
    document = tomlkit.parse(web.config_path.read_text())
    document["web"]["password_hash"] = "scrypt$kept"
    web.config_path.write_text(tomlkit.dumps(document))
    before = web.config_path.read_bytes()
    refused = await web.http.put("/api/v1/settings", json={"values": values})
    assert refused.status_code == 422, refused.text
    assert web.config_path.read_bytes() == before


async def test_a_failed_write_of_the_settings_is_a_503_and_changes_nothing(
        web: Web, monkeypatch: pytest.MonkeyPatch) -> None:
    def full_disk(*args: object, **kwargs: object) -> None:
        raise OSError(28, "No space left on device")
    monkeypatch.setattr("smartsofar.web.settings.atomic_write", full_disk)
    before = web.config_path.read_bytes()
    refused = await web.http.put("/api/v1/settings", json={"values": {"control.deadband_w": 12}})
    assert refused.status_code == 503 and "(No space left on device); nothing was changed" in refused.json()["detail"]
    assert web.config_path.read_bytes() == before and web.engine.reconfigured == []


@pytest.mark.parametrize("params", [{"start": "-inf", "end": "inf"}, {"start": "nan"}, {"end": "inf"}])
async def test_a_history_range_of_infinities_is_refused(tmp_path: Path, params: dict[str, str]) -> None:
    async with web_client(tmp_path, history=True) as web:
        refused = await web.http.get("/api/v1/history", params=params)
        assert refused.status_code == 422 and "infinities" in refused.json()["detail"]


@pytest.mark.parametrize(("params", "words"), [
    ({"last": "0001-01-01"}, "too early a date"), ({"first": "0001-01-01", "last": "9999-12-31"}, "at most 3660 days"),
])
async def test_a_day_range_out_of_bounds_is_refused(tmp_path: Path, params: dict[str, str], words: str) -> None:
    async with web_client(tmp_path, history=True) as web:  # found by schemathesis: it was a 500
        refused = await web.http.get("/api/v1/history/days", params=params)
        assert refused.status_code == 422 and words in refused.json()["detail"]


async def test_a_meter_url_of_another_kind_turns_the_section_into_that_kind(web: Web) -> None:
    url = "mqtt://meter:pw@127.0.0.1/tele/sml/SENSOR?path=SML.Power_curr"
    saved = await web.http.put("/api/v1/settings", json={"values": {"meter.url": url, "meter.invert": True}})
    assert saved.status_code == 200, saved.text
    meter = tomllib.loads(web.config_path.read_text())["meter"]
    assert meter["url"] == url and meter["invert"] is True
    assert "password" not in meter and "model" not in meter  # the Shelly's keys went with it
    groups = (await web.http.get("/api/v1/settings")).json()["groups"]
    fields = {f["key"]: f for g in groups for f in g["fields"]}
    assert fields["meter.url"]["value"] == "mqtt://meter:***@127.0.0.1/tele/sml/SENSOR?path=SML.Power_curr"
    assert "meter.scale" in fields and "meter.model" not in fields


async def test_read_only_access_follows_the_setting_at_once(tmp_path: Path) -> None:
    async with web_client(tmp_path, password="correct horse battery", read_only_without_login=True) as web:
        assert (await web.http.get("/api/v1/state")).status_code == 200
        web.engine.reconfigure(web.engine.config.model_copy(
            update={"web": web.engine.config.web.model_copy(update={"read_only_without_login": False})}))
        assert (await web.http.get("/api/v1/state")).status_code == 401


async def test_read_now_buttons(web: Web) -> None:
    unit = await web.http.post("/api/v1/units/1/read")
    assert unit.status_code == 200 and unit.json()["reading"]["running_state"] == "discharging"
    meter = await web.http.post("/api/v1/meter/read")
    assert meter.status_code == 200 and meter.json()["model"] == "Shelly Pro 3EM" and meter.json()["power_w"] == 12
    web.engine.offline.add(2)
    silent = await web.http.post("/api/v1/units/2/read")
    assert silent.status_code == 502 and "did not answer" in silent.json()["detail"]
    assert (await web.http.post("/api/v1/units/9/read")).status_code == 404
    web.engine.meter_answers = False
    assert (await web.http.post("/api/v1/meter/read")).status_code == 502
    assert web.engine.reads == [1, 2]


async def test_history_logs_and_diagnostics(tmp_path: Path) -> None:
    logs = LogBuffer()
    async with web_client(tmp_path, history=True, logs=logs) as web:
        history = web.context.history
        assert history is not None
        now = int(time.time()) // 10 * 10
        history.write([SiteRow(now - 60, 5.0, -1400.0, 50.0, 1405.0, 0.0)],
                      [UnitRow(now - 60, 1, -700.0, 50.0, 4), UnitRow(now - 60, 2, -700.0, 50.0, 4)],
                      {time.strftime("%Y-%m-%d"): {"discharged_wh": 900.0, "load_wh": 1200.0}})
        series = (await web.http.get("/api/v1/history", params={"range": "15m"})).json()
        assert series["t"] == [now - 60] and series["battery_w"] == [-1400.0] and set(series["units"]) == {"1", "2"}
        days = (await web.http.get("/api/v1/history/days")).json()
        assert days[-1]["discharged_wh"] == 900 and days[-1]["self_sufficiency"] == 1.0
        assert (await web.http.get("/api/v1/history", params={"range": "1y"})).status_code == 422
        logs.emit(_record("web page on http://127.0.0.1:8080"))
        lines = (await web.http.get("/api/v1/logs", params={"level": "INFO"})).json()
        assert [line["message"] for line in lines] == ["web page on http://127.0.0.1:8080"]
        assert (await web.http.get("/api/v1/logs", params={"level": "LOUD"})).status_code == 422
        diagnostics = (await web.http.get("/api/v1/diagnostics")).json()
        assert diagnostics["buses"][0]["frames_sent"] == 300 and diagnostics["cycles"] == 120
        assert diagnostics["history_rows"]["site_10s"] == 1
        assert "meter-secret" not in json.dumps(diagnostics)


def _record(message: str) -> logging.LogRecord:
    return logging.LogRecord("smartsofar.service", logging.INFO, __file__, 1, message, None, None)


async def test_the_live_stream_sends_what_the_engine_publishes_and_ends_when_it_closes(web: Web) -> None:
    engine = web.engine
    messages = stream(web.context)
    first = await anext(messages)
    assert first.startswith("event: snapshot\n") and '"grid_w":12.0' in first
    engine.snapshots.publish(engine.latest())
    engine.events.publish(Event(1.0, "mode", "mode manual", None, {"mode": "manual"}))
    pushed = await asyncio.wait_for(anext(messages), 1.0)
    assert pushed.count("event: snapshot") == 1 and "event: event" in pushed and '"mode":"manual"' in pushed
    engine.snapshots.close()
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(messages), 1.0)


async def test_v1_data_json_keeps_its_keys_and_strings(web: Web) -> None:
    response = await web.http.get("/data.json")
    assert response.headers["content-type"].startswith("text/plain")
    data = json.loads(response.text)
    assert list(data)[:6] == ["EnergyMeter_Power_Value", "EnergyMeter_Power_EngUnit", "SetPoint_Power_Value",
                              "SetPoint_Power_EngUnit", "SetPoint_ModeAuto_Value", "SetPoint_ModeAuto_EngUnit"]
    assert all(isinstance(v, str) for v in data.values())
    assert data["SetPoint_ModeAuto_Value"] == "1" and data["Charger2_battery_soc_Value"] == "50"
    assert data["Charger1_battery_temp_EngUnit"] == "degC" and data["Charger1_running_state_Value"] == "Dischar."
    assert data["SetPoint_Power_Value"] == "-1400" and data["EnergyMeter_Power_Value"] == "12"
    web.engine.offline.add(1)
    web.engine.grid_w = None
    data = json.loads((await web.http.get("/data.json")).text)
    assert data["Charger1_battery_soc_Value"] == "" and data["EnergyMeter_Power_Value"] == ""  # never stale


async def test_v1_update_keeps_its_meaning_with_real_status_codes(web: Web) -> None:
    refused = await web.http.get("/update", params={"cmd": "setpower", "val": "1000"})
    assert refused.status_code == 422 and "while mode is set to auto" in refused.text
    bad_mode = await web.http.get("/update", params={"cmd": "setmode", "val": "2"})
    assert bad_mode.status_code == 422 and bad_mode.text == "value must be 0 (manual) or 1 (auto)"
    assert (await web.http.get("/update", params={"cmd": "setmode", "val": "0"})).text == "OK"
    assert (await web.http.get("/update", params={"cmd": "setpower", "val": "-1500"})).text == "OK"
    assert web.engine.holder.mode.manual_power_w == -1500
    out_of_range = await web.http.get("/update", params={"cmd": "setpower", "val": "9000"})
    assert out_of_range.status_code == 422 and "between -6000 and 6000 W" in out_of_range.text
    assert (await web.http.get("/update", params={"cmd": "dance"})).status_code == 422


async def test_metrics_docs_schemas_and_page(web: Web) -> None:
    metrics = (await web.http.get("/metrics")).text
    assert "smartsofar_grid_power_watts 12.0" in metrics
    assert 'smartsofar_unit_soc_percent{name="cellar",unit="2"} 50.0' in metrics
    assert 'smartsofar_unit_running_state{name="garage",unit="1"} 4.0' in metrics
    assert 'smartsofar_mode{mode="auto"} 1.0' in metrics
    assert 'smartsofar_control_lag_seconds{quantile="0.99"} 0.01' in metrics
    docs = (await web.http.get("/api/docs")).text
    assert "/static/vendor/swagger-ui/swagger-ui-bundle.js" in docs and "cdn" not in docs.lower()
    schema = (await web.http.get("/api/openapi.json")).json()
    assert "/api/v1/power" in schema["paths"] and "/update" in schema["paths"]
    state = schema["paths"]["/api/v1/state"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert state["$ref"].endswith("/SitePayload")
    site = schema["components"]["schemas"]["SitePayload"]["properties"]
    assert {"grid_w", "units", "meter", "modes"} <= set(site)
    assert "UnitPayload" in schema["components"]["schemas"] and "HistoryPayload" in schema["components"]["schemas"]
    page = await web.http.get("/")
    assert page.status_code == 200 and 'type="module" src="static/js/main.js"' in page.text
    assert (await web.http.get("/static/js/main.js")).headers["content-type"].startswith("text/javascript")
    assert (await web.http.get("/static/vendor/uplot/uPlot.iife.min.js")).status_code == 200


async def test_a_change_requested_by_another_site_is_refused(web: Web) -> None:
    response = await web.http.put("/api/v1/mode", json={"mode": "standby"}, headers={"Origin": "http://evil.example"})
    assert response.status_code == 403
    image = await web.http.get("/update", params={"cmd": "setmode", "val": "0"},
                               headers={"Sec-Fetch-Site": "cross-site"})
    assert image.status_code == 403 and web.engine.holder.mode.mode is Mode.AUTO


async def test_units_and_buses_are_added_and_removed_whole_and_checked(tmp_path: Path) -> None:
    async with web_client(tmp_path) as web:
        added = await web.http.post("/api/v1/settings/buses/1/units", json={"id": 3, "name": "attic"})
        assert added.status_code == 200 and added.json()["restart_needed"]
        assert [u["id"] for u in tomllib.loads(web.config_path.read_text())["buses"][0]["units"]] == [1, 2, 3]
        before = web.config_path.read_text()
        for method, path, body, status, words in [
            ("POST", "/api/v1/settings/buses/1/units", {"id": 2}, 422, "already used"),
            ("POST", "/api/v1/settings/buses/1/units", {"id": 136}, 422, "broadcast"),
            ("POST", "/api/v1/settings/buses/4/units", {"id": 9}, 404, "no bus 4"),
            ("POST", "/api/v1/settings/buses", {"url": "ftp://x", "id": 9}, 422, "url"),
            ("DELETE", "/api/v1/settings/buses/1", None, 422, "needs a bus"),
            ("DELETE", "/api/v1/settings/buses/1/units/7", None, 404, "no unit 7"),
        ]:
            answer = await web.http.request(method, path, json=body)
            assert (answer.status_code, words in answer.text) == (status, True), (path, answer.text)
        assert web.config_path.read_text() == before  # a refused change writes nothing
        assert (await web.http.post("/api/v1/settings/buses", json={"url": "tcp://127.0.0.1:1503", "id": 9})
                ).status_code == 200
        assert (await web.http.delete("/api/v1/settings/buses/1/units/3")).status_code == 200
        assert (await web.http.delete("/api/v1/settings/buses/2")).status_code == 200
        assert [u["id"] for u in tomllib.loads(web.config_path.read_text())["buses"][0]["units"]] == [1, 2]
        only = await web.http.delete("/api/v1/settings/buses/1/units/2")
        assert only.status_code == 200
        last = await web.http.delete("/api/v1/settings/buses/1/units/1")
        assert last.status_code == 422 and "needs a unit" in last.text
