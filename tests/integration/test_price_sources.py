"""Every price source against a server on 127.0.0.1 that answers in its service's layout (recorded-layout
files, our own values): the prices a user's plan would use, a source that fails keeping the last known prices
and saying so, prices saved across a restart, a malformed answer refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import SecretStr
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from smartsofar.config_tariff import TariffConfig
from smartsofar.tariff.feed import PriceFeed
from smartsofar.tariff.site_tariff import SiteTariff
from smartsofar.web.server import start_http

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prices"
PARIS = ZoneInfo("Europe/Paris")


def at(text: str, zone: ZoneInfo = PARIS) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


@dataclass
class PriceServer:
    """What the server was asked, and whether it fails."""

    url: str = ""
    asked: list[str] = field(default_factory=list)
    failing: bool = False
    nordpool_area_missing: bool = False
    entsoe_published: bool = True
    tibber_queries: list[str] = field(default_factory=list)


def _fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def create_price_app(state: PriceServer) -> Starlette:
    async def nordpool(request: Request) -> Response:
        state.asked.append(str(request.url.query))
        if state.failing:
            return JSONResponse({"error": "down"}, 500)
        q = request.query_params
        if q.get("date") != "2024-01-15" or q.get("deliveryArea") != "FR" or q.get("market") != "DayAhead":
            return Response(status_code=204)  # not published
        data = _fixture("nordpool_DayAheadPrices_2024-01-15_FR.json")
        if state.nordpool_area_missing:
            assert isinstance(data, dict)
            for entry in data["multiAreaEntries"]:
                entry["entryPerArea"] = {"DE-LU": 1.0}
        return JSONResponse(data)

    async def octopus(request: Request) -> Response:
        state.asked.append(request.url.path)
        return JSONResponse(_fixture("octopus_AGILE-23-12-06_J_standard-unit-rates.json"))

    async def evcc(request: Request) -> Response:
        return JSONResponse(_fixture("evcc_tariff_grid.json"))

    async def tempo(request: Request) -> Response:
        return JSONResponse(_fixture(f"tempo_{request.path_params['which']}.json"))

    async def csv_list(request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer s3cret":
            return PlainTextResponse("no", 401)
        return PlainTextResponse("start_utc,price_eur_per_kwh\n2024-01-15T00:00:00Z,0.25\n2024-01-15T01:00:00Z,0.30\n")

    async def entsoe(request: Request) -> Response:
        q = request.query_params
        state.asked.append(str(request.url.query))
        if q.get("securityToken") != "entsoe-token":
            return PlainTextResponse("Unauthorized", 401)
        if q.get("documentType") != "A44":
            return PlainTextResponse("bad request", 400)
        if q.get("in_Domain") != "10Y1001A1001A82H":  # the platform's way of saying it has nothing for that
            text = (FIXTURES / "entsoe_acknowledgement_no_data.xml").read_text().replace("999", "999 (zone)")
            return Response(text, 400, media_type="text/xml")
        name = "entsoe_A44_2025-10-02_DE-LU.xml" if state.entsoe_published else "entsoe_acknowledgement_no_data.xml"
        return Response((FIXTURES / name).read_bytes(), media_type="text/xml")

    async def tibber(request: Request) -> Response:
        if request.headers.get("authorization") != "Bearer tibber-token":
            return JSONResponse({"errors": [{"message": "Context creation failed: invalid token"}]}, 401)
        body = await request.json()
        state.tibber_queries.append(body["query"])
        return JSONResponse(_fixture("tibber_priceInfo_quarter_hourly.json"))

    return Starlette(routes=[
        Route("/api", entsoe), Route("/v1-beta/gql", tibber, methods=["POST"]),
        Route("/api/DayAheadPrices", nordpool),
        Route("/v1/products/AGILE-23-12-06/electricity-tariffs/E-1R-AGILE-23-12-06-J/standard-unit-rates/", octopus),
        Route("/api/tariff/grid", evcc), Route("/api/jourTempo/{which}", tempo), Route("/prices.csv", csv_list)])


@pytest.fixture
async def server() -> AsyncIterator[PriceServer]:
    state = PriceServer()
    http = await start_http(create_price_app(state))
    state.url = http.url
    try:
        yield state
    finally:
        await http.stop()


async def test_nord_pool_prices_with_the_users_adder_and_what_is_not_out_yet(server: PriceServer,
                                                                           tmp_path: Path) -> None:
    config = TariffConfig(kind="dynamic", source="nordpool", area="FR", url=server.url, timezone="Europe/Paris",
                          scale=1.2, adder=0.1)
    tariff = SiteTariff(config)
    now = at("2024-01-15T09:00")
    feed = PriceFeed(tariff, tmp_path / "prices.json", clock=lambda: now)
    assert await feed.refresh() is True
    raw = _fixture("nordpool_DayAheadPrices_2024-01-15_FR.json")
    assert isinstance(raw, dict)
    evening = raw["multiAreaEntries"][18]["entryPerArea"]["FR"] / 1000  # 18:00-19:00 Paris
    assert tariff.import_prices(now, now + 86400).at(at("2024-01-15T18:30")) == pytest.approx(evening * 1.2 + 0.1)
    assert feed.status()["known_until"] == at("2024-01-16T00:00")  # tomorrow's are not out (204)
    assert any("date=2024-01-16" in q for q in server.asked)
    assert feed.changed.is_set()


async def test_a_failing_source_keeps_the_last_prices_and_they_survive_a_restart(server: PriceServer,
                                                                               tmp_path: Path) -> None:
    config = TariffConfig(kind="dynamic", source="nordpool", area="FR", url=server.url, timezone="Europe/Paris")
    now = at("2024-01-15T09:00")
    tariff = SiteTariff(config)
    feed = PriceFeed(tariff, tmp_path / "prices.json", clock=lambda: now)
    await feed.refresh()
    before = tariff.import_prices(now, now + 86400)
    server.failing = True
    assert await feed.refresh() is False
    assert "HTTP 500" in (feed.status()["error"] or "")
    assert tariff.import_prices(now, now + 86400) == before
    restarted = SiteTariff(config)
    PriceFeed(restarted, tmp_path / "prices.json", clock=lambda: now)  # no fetch: what was saved
    assert restarted.import_prices(now, now + 86400) == before


async def test_a_malformed_answer_changes_nothing(server: PriceServer, tmp_path: Path) -> None:
    server.nordpool_area_missing = True
    tariff = SiteTariff(TariffConfig(kind="dynamic", source="nordpool", area="FR", url=server.url))
    feed = PriceFeed(tariff, tmp_path / "prices.json", clock=lambda: at("2024-01-15T09:00"))
    assert await feed.refresh() is False
    assert "no price for area FR" in (feed.last_error or "")
    assert not tariff.spot
    assert not (tmp_path / "prices.json").exists()


async def test_octopus_agile_evcc_and_a_url_with_a_token(server: PriceServer) -> None:
    now = at("2024-01-15T09:00", ZoneInfo("Europe/London"))
    agile = SiteTariff(TariffConfig(kind="dynamic", source="octopus", product="AGILE-23-12-06", region="J",
                                    url=server.url, currency="GBP", timezone="Europe/London"))
    await PriceFeed(agile, None, clock=lambda: now).refresh()
    curve = agile.import_prices(now, now + 86400)
    rows = _fixture("octopus_AGILE-23-12-06_J_standard-unit-rates.json")
    assert isinstance(rows, dict)
    first = rows["results"][-1]  # oldest
    assert agile.spot.at(datetime.fromisoformat(first["valid_from"]).timestamp()) == first["value_inc_vat"] / 100
    assert all(s.end - s.start == 1800 for s in curve.slots)

    grid = SiteTariff(TariffConfig(kind="dynamic", source="evcc", url=server.url, timezone="Europe/Berlin"))
    await PriceFeed(grid, None, clock=lambda: now).refresh()
    assert len(grid.spot) == 96 and all(s.end - s.start == 900 for s in grid.spot.slots)

    listed = SiteTariff(TariffConfig(kind="dynamic", source="url", url=f"{server.url}/prices.csv", token="s3cret"))
    await PriceFeed(listed, None, clock=lambda: now).refresh()
    assert listed.spot.at(at("2024-01-15T01:30", ZoneInfo("UTC"))) == 0.30
    refused = SiteTariff(TariffConfig(kind="dynamic", source="url", url=f"{server.url}/prices.csv", token="wrong"))
    feed = PriceFeed(refused, None, clock=lambda: now)
    assert await feed.refresh() is False and "check the token" in (feed.last_error or "")


async def test_tempo_colours_from_the_colour_service(server: PriceServer) -> None:
    tariff = SiteTariff(TariffConfig(kind="tempo", colours=server.url, timezone="Europe/Paris"))
    now = at("2024-01-15T09:00")
    await PriceFeed(tariff, None, clock=lambda: now).refresh()
    prices = tariff.import_prices(now, now + 2 * 86400)
    assert prices.at(at("2024-01-15T12:00")) == tariff.config.tempo.red_hp
    assert prices.at(at("2024-01-16T12:00")) is None  # tomorrow's colour is not known yet (codeJour 0)


async def test_entsoe_day_ahead_prices_at_the_finest_resolution_published(server: PriceServer) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    now = at("2025-10-02T09:00", berlin)
    config = TariffConfig(kind="dynamic", source="entsoe", area="DE-LU", token="entsoe-token",
                          url=f"{server.url}/api", timezone="Europe/Berlin", adder=0.1)
    tariff = SiteTariff(config)
    feed = PriceFeed(tariff, None, clock=lambda: now)
    assert await feed.refresh() is True
    assert "periodStart=202510010000" in server.asked[-1] and "periodEnd=202510040000" in server.asked[-1]
    assert len(tariff.spot) == 96 and all(s.end - s.start == 900 for s in tariff.spot.slots)  # not the hourly one
    # position 1 is 00:00 Berlin (22:00Z); the fixture leaves out positions 10 and 11, which repeat position 9
    assert tariff.spot.at(at("2025-10-02T00:05", berlin)) == pytest.approx(0.061)
    assert tariff.spot.at(at("2025-10-02T02:20", berlin)) == pytest.approx(0.069)
    assert tariff.spot.at(at("2025-10-02T02:35", berlin)) == pytest.approx(0.069)
    assert tariff.spot.at(at("2025-10-02T03:00", berlin)) == pytest.approx(0.073)
    assert tariff.import_prices(now, now + 3600).at(now) == pytest.approx(0.097 + 0.1)  # 09:00 is position 37

    server.entsoe_published = False  # "no matching data": said, and the known prices are kept
    assert await feed.refresh() is False
    assert "No matching data found" in (feed.last_error or "") and len(tariff.spot) == 96
    wrong = PriceFeed(SiteTariff(config.model_copy(update={"token": SecretStr("nope")})), None, clock=lambda: now)
    assert await wrong.refresh() is False and "check the token" in (wrong.last_error or "")
    assert "entsoe-token" not in (feed.last_error or "") + (wrong.last_error or "")
    france = PriceFeed(SiteTariff(config.model_copy(update={"area": "FR"})), None, clock=lambda: now)
    assert await france.refresh() is False and "No matching data found" in (france.last_error or "")


async def test_tibber_prices_of_the_home_with_a_subscription(server: PriceServer) -> None:
    oslo = ZoneInfo("Europe/Oslo")
    now = at("2025-10-02T09:00", oslo)
    tariff = SiteTariff(TariffConfig(kind="dynamic", source="tibber", token="tibber-token",
                                     url=f"{server.url}/v1-beta/gql", timezone="Europe/Oslo", currency="NOK"))
    feed = PriceFeed(tariff, None, clock=lambda: now)
    assert await feed.refresh() is True
    assert "QUARTER_HOURLY" in server.tibber_queries[-1]
    assert len(tariff.spot) == 192  # today and tomorrow, every quarter hour
    assert tariff.spot.at(at("2025-10-02T00:20", oslo)) == pytest.approx(0.26)
    assert tariff.spot.at(at("2025-10-03T00:00", oslo)) == pytest.approx(0.30)
    other = SiteTariff(TariffConfig(kind="dynamic", source="tibber", token="tibber-token", home="not-mine",
                                    url=f"{server.url}/v1-beta/gql"))
    missing = PriceFeed(other, None, clock=lambda: now)
    assert await missing.refresh() is False and "no home not-mine" in (missing.last_error or "")
    refused = PriceFeed(SiteTariff(TariffConfig(kind="dynamic", source="tibber", token="wrong",
                                                url=f"{server.url}/v1-beta/gql")), None, clock=lambda: now)
    assert await refused.refresh() is False and "check the token" in (refused.last_error or "")
