"""PV forecast sources against a server on 127.0.0.1 that answers in Forecast.Solar's and evcc's layouts (our
own values): the energies the Plan page shows, two planes of panels added up, the user's API key in the path and
never in a message, a source that fails keeping the last forecast and saying so, the forecast saved across a
restart, and a malformed answer refused."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from smartsofar.config import Config
from smartsofar.config_tariff import PvForecastConfig
from smartsofar.engine.site import Site
from smartsofar.modes import ModeState
from smartsofar.plan.pv_feed import PvFeed
from smartsofar.plan.service import Planning
from smartsofar.web.server import start_http

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "pv"
PARIS = ZoneInfo("Europe/Paris")
NOW = datetime.fromisoformat("2024-03-11T10:15:00+01:00").timestamp()
FIXTURE_KWP = 4.2


@dataclass
class ForecastServer:
    """What the server was asked, and how it answers."""

    url: str = ""
    asked: list[str] = field(default_factory=list)
    answer: str = "ok"  # ok, limit (429), broken (a malformed answer)


def _fixture(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"))


def create_app(state: ForecastServer) -> Starlette:
    async def estimate(request: Request) -> Response:
        state.asked.append(request.url.path)
        if state.answer == "limit":
            return JSONResponse({"result": None, "message": {"code": 429, "type": "error",
                                                             "text": "Rate limit for API calls reached."}}, 429)
        if state.answer == "broken":
            return JSONResponse({"result": {"watts": {"2024-03-11 07:00:00": "lots"}}})
        answer = _fixture("forecast_solar_estimate.json")
        scale = float(request.url.path.rsplit("/", 1)[-1]) / FIXTURE_KWP  # the fixture is for a 4.2 kWp plane
        answer["result"]["watts"] = {k: v * scale for k, v in answer["result"]["watts"].items()}  # type: ignore[index]
        return JSONResponse(answer)

    async def evcc(request: Request) -> Response:
        if state.answer != "ok":
            return JSONResponse({"error": "down"}, 500)
        return JSONResponse(_fixture("evcc_tariff_solar.json"))

    return Starlette(routes=[Route("/estimate/{plane:path}", estimate), Route("/{key}/estimate/{plane:path}", estimate),
                             Route("/api/tariff/solar", evcc)])


@pytest.fixture
async def server() -> AsyncIterator[ForecastServer]:
    state = ForecastServer()
    http = await start_http(create_app(state))
    state.url = http.url
    try:
        yield state
    finally:
        await http.stop()


def forecast_solar(server: ForecastServer, **more: object) -> PvForecastConfig:
    return PvForecastConfig.model_validate({"source": "forecast_solar", "latitude": 48.8566, "longitude": 2.3522,
                                            "declination": 35, "azimuth": -10, "kwp": 4.2, "url": server.url, **more})


async def test_the_plan_page_shows_forecast_solars_today_and_tomorrow(server: ForecastServer, tmp_path: Path) -> None:
    config = Config.model_validate({"tariff": {"kind": "time_of_use", "timezone": "Europe/Paris", "price": 0.27,
                                               "preset": "heures_creuses", "offpeak_price": 0.2068},
                                    "pv_forecast": forecast_solar(server).model_dump()})
    planning = Planning(config, Site(config.control, [], None, ModeState()), tmp_path, clock=lambda: NOW)
    assert planning.pv_feed is not None
    assert await planning.pv_feed.refresh() is True
    assert server.asked == ["/estimate/48.8566/2.3522/35/-10/4.2"]
    view = planning.view()["pv_forecast"]
    days = _fixture("forecast_solar_estimate.json")["result"]["watt_hours_day"]  # type: ignore[index]
    assert view["today_kwh"] == pytest.approx(days["2024-03-11"] / 1000, abs=0.01)
    assert view["tomorrow_kwh"] == pytest.approx(days["2024-03-12"] / 1000, abs=0.01)
    assert view["error"] is None and view["last_ok"] == NOW
    assert view["used"] is False  # no history with PV yet: said on the page
    assert planning.pv_feed.changed.is_set()  # the planner plans again with it


async def test_an_east_west_roof_is_two_planes_added_up(server: ForecastServer, tmp_path: Path) -> None:
    one = PvFeed(forecast_solar(server), PARIS, tmp_path / "one.json", clock=lambda: NOW)
    assert await one.refresh() is True
    two = PvFeed(forecast_solar(server, azimuth=-90, second_azimuth=90, second_declination=20, second_kwp=2.1), PARIS,
                 tmp_path / "two.json", clock=lambda: NOW)
    assert await two.refresh() is True
    assert server.asked[-2:] == ["/estimate/48.8566/2.3522/35/-90/4.2", "/estimate/48.8566/2.3522/20/90/2.1"]
    day = datetime.fromisoformat("2024-03-11T00:00:00+01:00").timestamp()
    alone = one.curve.integrate(day, day + 86400)
    assert alone[0] > 1000
    assert two.curve.integrate(day, day + 86400) == pytest.approx((1.5 * alone[0], alone[1]))  # 4.2 + 2.1 kWp
    server.answer = "limit"
    assert await two.refresh() is False  # refused: the last forecast of both planes stays
    assert "rate limit" in (two.last_error or "")
    assert two.curve.integrate(day, day + 86400) == pytest.approx((1.5 * alone[0], alone[1]))


async def test_the_api_key_goes_in_the_path_and_never_in_a_message(server: ForecastServer, tmp_path: Path) -> None:
    feed = PvFeed(forecast_solar(server, token="my-secret-key"), PARIS, tmp_path / "pv.json", clock=lambda: NOW)
    assert await feed.refresh() is True
    assert server.asked[-1].startswith("/my-secret-key/estimate/")
    before = feed.curve
    server.answer = "limit"
    assert await feed.refresh() is False
    assert "rate limit" in (feed.last_error or "") and "my-secret-key" not in (feed.last_error or "")
    assert feed.curve == before  # the last forecast is kept


async def test_a_failing_source_keeps_the_forecast_and_a_restart_has_it(server: ForecastServer, tmp_path: Path) -> None:
    config = PvForecastConfig(source="evcc", url=server.url)
    feed = PvFeed(config, PARIS, tmp_path / "pv.json", clock=lambda: NOW)
    assert await feed.refresh() is True
    noon = datetime.fromisoformat("2024-03-11T12:00:00+01:00").timestamp()
    assert feed.curve.energy_wh(noon, noon + 3600) == pytest.approx(2481.1, abs=1)  # evcc's 12:00-13:00 rate
    server.answer = "down"
    assert await feed.refresh() is False
    assert "HTTP 500" in (feed.last_error or "") and feed.curve.energy_wh(noon, noon + 3600) is not None
    restarted = PvFeed(config, PARIS, tmp_path / "pv.json", clock=lambda: NOW)  # no fetch: what was saved
    assert restarted.curve == feed.curve
    other = PvFeed(forecast_solar(server), PARIS, tmp_path / "pv.json", clock=lambda: NOW)
    assert not other.curve  # another source's forecast is not taken for this one's


async def test_a_malformed_answer_changes_nothing(server: ForecastServer, tmp_path: Path) -> None:
    feed = PvFeed(forecast_solar(server), PARIS, tmp_path / "pv.json", clock=lambda: NOW)
    server.answer = "broken"
    assert await feed.refresh() is False
    assert "has no power" in (feed.last_error or "")
    assert not feed.curve and not (tmp_path / "pv.json").exists()
