"""The plan, battery modes and the schedule over the API: what a script, evcc or the page sees and changes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tomlkit

from tests.web.stub import Web, web_client

HC = {"tariff": {"kind": "time_of_use", "timezone": "Europe/Paris", "price": 0.27, "preset": "heures_creuses",
                 "offpeak_price": 0.2068}}


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async with web_client(tmp_path, extra=HC) as client:
        yield client


async def test_the_plan_view_shows_the_tariffs_prices(web: Web) -> None:
    view = (await web.http.get("/api/v1/plan")).json()
    assert view["tariff"] == "time_of_use" and view["currency"] == "EUR"
    assert view["price_now"] in (0.27, 0.2068)
    assert {p["import"] for p in view["prices"]} == {0.27, 0.2068}
    assert view["battery_mode"]["mode"] == "normal" and view["external"] is None


async def test_an_evcc_battery_mode_is_granted_for_its_lease_and_normal_ends_it(web: Web) -> None:
    granted = (await web.http.put("/api/v1/battery_mode", json={"mode": 2, "who": "evcc"})).json()  # evcc's 2: hold
    assert granted["external"]["mode"] == "hold" and granted["external"]["who"] == "evcc"
    assert granted["battery_mode"]["mode"] == "hold"  # read after write: in force now
    assert 55 < granted["external"]["expires_at"] - web.engine.planning.clock() <= 60
    ended = (await web.http.put("/api/v1/battery_mode", json={"mode": "normal"})).json()
    assert ended["external"] is None and ended["battery_mode"]["mode"] == "normal"


@pytest.mark.parametrize(("body", "message"), [
    ({"mode": "boost"}, "battery mode must be normal, hold, charge or export"),
    ({"mode": "hold", "lease_s": 0}, "a battery mode lasts"),
    ({"mode": "charge", "soc_pct": 140}, "SoC must be"),
    ({"mode": "charge", "charge_w": "lots"}, "charge_w"),
])
async def test_bad_battery_modes_are_refused_and_change_nothing(web: Web, body: dict[str, object],
                                                                message: str) -> None:
    await web.http.put("/api/v1/battery_mode", json={"mode": "hold", "lease_s": 600})
    response = await web.http.put("/api/v1/battery_mode", json=body)
    assert response.status_code == 422 and message in response.text
    assert (await web.http.get("/api/v1/plan")).json()["external"]["mode"] == "hold"


async def test_the_schedule_is_saved_to_the_file_and_in_force_at_once(web: Web) -> None:
    entries = [{"hours": "00:00-24:00", "days": "all", "mode": "charge", "soc_pct": 80}]
    saved = (await web.http.put("/api/v1/schedule", json={"entries": entries})).json()
    assert saved[0]["mode"] == "charge" and saved[0]["soc_pct"] == 80
    assert tomlkit.parse(web.config_path.read_text())["schedule"][0]["hours"] == "00:00-24:00"
    view = (await web.http.get("/api/v1/plan")).json()
    assert view["battery_mode"]["source"] == "schedule" and view["schedule"] == ["charge to 80 % 00:00-24:00 all"]
    assert (await web.http.get("/api/v1/schedule")).json() == saved
    assert (await web.http.put("/api/v1/schedule", json={"entries": []})).json() == []
    assert "schedule" not in tomlkit.parse(web.config_path.read_text())


async def test_a_bad_schedule_entry_names_itself_and_writes_nothing(web: Web) -> None:
    before = web.config_path.read_text()
    response = await web.http.put("/api/v1/schedule", json={"entries": [
        {"hours": "01:00-05:00", "mode": "hold"}, {"hours": "25:00-05:00", "mode": "charge"}]})
    assert response.status_code == 422 and "schedule entry 2" in response.text and "HH:MM" in response.text
    assert web.config_path.read_text() == before and web.engine.config.schedule == []
