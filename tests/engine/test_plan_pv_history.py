"""Planning with a PV forecast where no unit measures PV: the forecasts kept for the past days stand for the PV
they did not measure, once they cover every day the forecast looks at; until then the page says why the PV
forecast is not used, and a PV CT's readings always come first."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from smartsofar.config import parse_config
from smartsofar.plan.pv_forecast import PvCurve, PvInterval
from smartsofar.plan.service import Planning
from smartsofar.storage.history import History, SiteRow
from tests.engine.harness import ScriptedHouse, make_rig

PARIS = ZoneInfo("Europe/Paris")
NOW = datetime.fromisoformat("2024-03-11T01:00:00+01:00").timestamp()
DAY_S = 86400
LOAD_W = 700.0
CONFIG = {"buses": [{"url": "tcp://127.0.0.1:1502", "units": [{"id": 1}, {"id": 2}]}],
          "meter": {"url": "http://127.0.0.1:8081"},
          "tariff": {"kind": "time_of_use", "timezone": "Europe/Paris", "price": 0.27, "preset": "heures_creuses",
                     "offpeak_price": 0.2068},
          "pv_forecast": {"source": "evcc", "url": "http://127.0.0.1:7070"}}


def sun_w(t: float, peak_w: float) -> float:
    """A bell of sun from 08:00 to 18:00 local."""
    moment = datetime.fromtimestamp(t, PARIS)
    hour = moment.hour + moment.minute / 60
    return max(0.0, peak_w * (1 - ((hour - 13) / 5) ** 2))


def sunny_week(path: Path, *, pv_ct: bool) -> History:
    """Seven sunny days before NOW's night (panels peaking at 4 kW over a 700 W house), as the recorder keeps
    them: the house's own power, and the PV's only where a PV CT measured it."""
    history = History(path)
    start = int(NOW - 7 * DAY_S) // 300 * 300
    rows = []
    for ts in range(start, int(NOW), 300):
        pv = sun_w(ts + 150, 4000.0)
        rows.append(SiteRow(ts, None, None, None, LOAD_W - pv, pv if pv_ct else None))
    history.write(rows, [], {})
    return history


def kept_forecasts(first: float, cloudy_from: float) -> PvCurve:
    """The forecasts kept from ``first`` on: what the week's sun was, then a grey day from ``cloudy_from``."""
    return PvCurve(PvInterval(t, t + 900, sun_w(t + 450, 4000.0 if t < cloudy_from else 300.0))
                   for t in range(int(first), int(NOW + 2 * DAY_S), 900))


async def night_charge_kwh(tmp_path: Path, *, pv_ct: bool, kept_from: float) -> tuple[float, dict[str, object]]:
    """What the plan made at NOW buys off-peak before 06:00, and what the Plan page says of the PV forecast."""
    rig = await make_rig(ScriptedHouse(load=LOAD_W), soc=10.0)
    planning = Planning(parse_config(CONFIG), rig.site, None, clock=lambda: NOW)
    planning.history = history = sunny_week(tmp_path / "history.db", pv_ct=pv_ct)
    assert planning.pv_feed is not None
    planning.pv_feed.curve = kept_forecasts(kept_from, cloudy_from=NOW + 5 * 3600)
    try:
        made = await planning.replan()
    finally:
        history.close()
    assert made is not None and made.slots
    bought = sum(s.grid_charge_w * (s.end - s.start) / 3600 for s in made.slots if s.start < NOW + 5 * 3600)
    return bought / 1000, planning.view()["pv_forecast"]


async def test_without_a_pv_ct_a_week_of_kept_forecasts_buys_off_peak_for_a_grey_day(tmp_path: Path) -> None:
    bought, view = await night_charge_kwh(tmp_path, pv_ct=False, kept_from=NOW - 8 * DAY_S)
    assert view["used"] is True and view["pv_history"] == "forecasts"
    assert bought > 3.0  # the week was sunny, but tomorrow will not be: the house's load comes from the grid


async def test_forecasts_that_do_not_cover_the_week_yet_are_not_used(tmp_path: Path) -> None:
    bought, view = await night_charge_kwh(tmp_path, pv_ct=False, kept_from=NOW - 2 * DAY_S)
    assert view["used"] is False and view["pv_history"] is None and view["history_days"] == 7
    assert bought < 1.0  # planned from the sunny week's net power, as without a forecast


async def test_a_pv_cts_readings_come_first(tmp_path: Path) -> None:
    bought, view = await night_charge_kwh(tmp_path, pv_ct=True, kept_from=NOW - 2 * DAY_S)
    assert view["used"] is True and view["pv_history"] == "measured"
    assert bought > 3.0
