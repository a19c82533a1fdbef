"""Meter clients decode real Shelly bodies (served over httpx.MockTransport) and refuse bad ones clearly."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import httpx
import pytest

from smartsofar.errors import MeterAuthError, MeterReplyError, MeterUnavailableError
from smartsofar.meter.base import MeterOptions
from smartsofar.meter.factory import detect_model, open_meter

FIXTURES = Path(__file__).parents[2] / "fixtures" / "shelly"


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def transport(routes: Mapping[str, bytes | int]) -> httpx.MockTransport:
    """Answer ``path?query`` (or ``path``) from the table: bytes -> 200 with that body, int -> that status."""

    def handle(request: httpx.Request) -> httpx.Response:
        key = request.url.path + (f"?{request.url.query.decode()}" if request.url.query else "")
        answer = routes.get(key, routes.get(request.url.path, 404))
        if isinstance(answer, int):
            return httpx.Response(answer, json={"code": answer})
        return httpx.Response(200, content=answer)

    return httpx.MockTransport(handle)


PRO3EM = {"/shelly": fixture("pro3em_shelly.json"), "/rpc/EM.GetStatus?id=0": fixture("pro3em_em_status.json"),
          "/rpc/EMData.GetStatus?id=0": fixture("pro3em_emdata_status.json")}


async def test_pro3em_real_payload() -> None:
    meter = await open_meter("http://meter.test", transport=transport(PRO3EM))
    sample = await meter.read()
    assert meter.model == "Shelly Pro 3EM"
    assert sample.power_w == pytest.approx(558.965)
    assert [p.power_w for p in sample.phases] == [375.5, 170.8, 12.7]
    assert sample.phases[0].voltage_v == 229.0 and sample.phases[0].current_a == 2.392
    assert sample.frequency_hz == 50.0
    assert sample.import_wh == pytest.approx(2589773.39) and sample.export_wh == pytest.approx(1026.61)


async def test_export_is_negative_and_invert_fixes_a_reversed_meter() -> None:
    routes = {**PRO3EM, "/rpc/EM.GetStatus?id=0": fixture("pro3em_em_status_exporting.json")}
    plain = await (await open_meter("http://m.test", model="pro3em", transport=transport(routes))).read()
    assert plain.power_w == pytest.approx(-1229.2)
    inverted = await (await open_meter("http://m.test", model="pro3em", options=MeterOptions(invert=True),
                                       transport=transport(routes))).read()
    assert inverted.power_w == pytest.approx(1229.2)
    assert inverted.phases[0].power_w == pytest.approx(1712.4)
    assert inverted.import_wh == pytest.approx(1026.61)  # the counters swap too


async def test_one_phase_can_be_followed() -> None:
    meter = await open_meter("http://m.test", model="pro3em", options=MeterOptions(phase="b"),
                             transport=transport(PRO3EM))
    sample = await meter.read()
    assert sample.power_w == 170.8 and sample.total_power_w == pytest.approx(558.965)


async def test_reported_errors_make_the_reading_unusable() -> None:
    routes = {**PRO3EM, "/rpc/EM.GetStatus?id=0": fixture("pro3em_em_status_errors.json")}
    meter = await open_meter("http://m.test", model="pro3em", transport=transport(routes))
    with pytest.raises(MeterReplyError, match=r"phase_sequence|out_of_range"):
        await meter.read()


async def test_pro_em_grid_channel() -> None:
    routes = {"/rpc/EM1.GetStatus?id=1": fixture("proem_em1_status_1.json"),
              "/rpc/EM1Data.GetStatus?id=1": fixture("proem_em1data_status_1.json")}
    meter = await open_meter("http://m.test", model="proem", channel=1, transport=transport(routes))
    sample = await meter.read()
    assert sample.power_w == 5080.3 and len(sample.phases) == 1
    assert sample.phases[0].voltage_v == 224.6
    assert sample.import_wh == pytest.approx(6644.90) and sample.export_wh == pytest.approx(2595.26)


async def test_gen1_3em_status() -> None:
    routes = {"/shelly": fixture("gen1_3em_shelly.json"), "/status": fixture("gen1_3em_status.json")}
    assert await detect_model("http://m.test", transport=transport(routes)) == "3em-gen1"
    meter = await open_meter("http://m.test", transport=transport(routes))
    sample = await meter.read()
    assert sample.power_w == pytest.approx(212.85)
    assert [p.power_w for p in sample.phases] == [51.08, 155.02, 6.75]
    assert sample.export_wh == pytest.approx(428958.4 + 4.1)


async def test_gen1_invalid_phase_is_refused() -> None:
    body = json.loads(fixture("gen1_3em_status.json"))
    body["emeters"][1]["is_valid"] = False
    routes: dict[str, bytes | int] = {"/status": json.dumps(body).encode()}
    meter = await open_meter("http://m.test", model="3em-gen1", transport=transport(routes))
    with pytest.raises(MeterReplyError, match="phase b"):
        await meter.read()


def _mutate(edit: Callable[[dict[str, object]], object]) -> bytes:
    body = json.loads(fixture("pro3em_em_status.json"))
    edit(body)
    return json.dumps(body).encode()


@pytest.mark.parametrize(("body", "error", "message"), [
    (b"<html>not json</html>", MeterReplyError, "not JSON"),
    (b"[1, 2]", MeterReplyError, "not a JSON object"),
    (_mutate(lambda b: b.pop("total_act_power")), MeterReplyError, "total_act_power"),
    (_mutate(lambda b: b.update(a_act_power="12")), MeterReplyError, "a_act_power"),
    (_mutate(lambda b: b.update(total_act_power=math.inf)), MeterReplyError, "finite"),
    (b'{"total_act_power": NaN}', MeterReplyError, r"finite|a_act_power"),
], ids=["html", "array", "missing total", "string power", "infinite", "NaN"])
async def test_malformed_bodies_are_clear_errors(body: bytes, error: type[Exception], message: str) -> None:
    routes = {**PRO3EM, "/rpc/EM.GetStatus?id=0": body}
    meter = await open_meter("http://m.test", model="pro3em", transport=transport(routes))
    with pytest.raises(error, match=message):
        await meter.read()


@pytest.mark.parametrize(("status", "error", "message"), [
    (401, MeterAuthError, "password"), (500, MeterUnavailableError, "HTTP 500"), (404, MeterUnavailableError, "404"),
])
async def test_http_errors(status: int, error: type[Exception], message: str) -> None:
    meter = await open_meter("http://m.test", model="pro3em",
                             transport=transport({"/rpc/EM.GetStatus?id=0": status}))
    with pytest.raises(error, match=message):
        await meter.read()


@pytest.mark.parametrize(("shelly", "message"), [
    (b'{"gen": 2, "app": "Plus1PM"}', "without an energy meter"),
    (b'{"type": "SHSW-1"}', "SHSW-1, not an energy meter"),
    (b'{"hello": "world"}', "does not answer like a Shelly"),
])
async def test_detection_refuses_devices_that_are_not_meters(shelly: bytes, message: str) -> None:
    with pytest.raises(MeterReplyError, match=message):
        await open_meter("http://m.test", transport=transport({"/shelly": shelly}))


async def test_an_unknown_gen2_app_is_read_by_the_component_it_has() -> None:
    newer = json.dumps({"gen": 3, "app": "S3EM63"}).encode()
    em_only = transport({"/shelly": newer, "/rpc/EM.GetStatus?id=0": b'{"id": 0}'})
    assert await detect_model("http://m.test", transport=em_only) == "pro3em"
    em1_only = transport({"/shelly": newer, "/rpc/EM.GetStatus?id=0": 404, "/rpc/EM1.GetStatus?id=0": b'{"id": 0}'})
    assert await detect_model("http://m.test", transport=em1_only) == "proem"
    gen1_em = json.dumps({"type": "SHEM", "mac": "C45BBE6A0E21"}).encode()
    assert await detect_model("http://m.test", transport=transport({"/shelly": gen1_em})) == "em-gen1"


async def test_detection_picks_em1_for_monophase_and_pro_em() -> None:
    mono = json.dumps({"gen": 2, "app": "Pro3EM", "profile": "monophase"}).encode()
    assert await detect_model("http://m.test", transport=transport({"/shelly": mono})) == "pro3em-monophase"
    proem = json.dumps({"gen": 2, "app": "ProEM"}).encode()
    assert await detect_model("http://m.test", transport=transport({"/shelly": proem})) == "proem"
