"""A PV forecast in the plan: the past days say what the house uses, the forecast how sunny tomorrow is, so a
cloudy day after sunny ones gets its energy bought off-peak, and a sunny one after grey ones does not; the
forecast services' answers are read as they come, and a malformed one is refused."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from smartsofar.config_tariff import PlannerConfig, PvForecastConfig, TariffConfig
from smartsofar.errors import InvalidInputError
from smartsofar.plan.forecast import HISTORY_STEP_S, HouseHistory, forecast
from smartsofar.plan.making import bank_from, make_plan
from smartsofar.plan.pv_feed import KEEP_S
from smartsofar.plan.pv_forecast import (
    PvCurve,
    PvInterval,
    forecast_solar_url,
    merged,
    parse_forecast_solar,
    parse_rates,
    summed,
)
from smartsofar.tariff.site_tariff import SiteTariff

PARIS = ZoneInfo("Europe/Paris")
LOAD_W = 600.0


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


def sun_w(t: float, peak_w: float) -> float:
    """A bell of sun from 08:00 to 18:00 local."""
    hour = datetime.fromtimestamp(t, PARIS).hour + datetime.fromtimestamp(t, PARIS).minute / 60
    return max(0.0, peak_w * (1 - ((hour - 13) / 5) ** 2))


def past_week(peak_w: float, *, pv_measured: bool = True) -> HouseHistory:
    """Seven days before 2024-03-11 of a house drawing 600 W under panels peaking at ``peak_w``."""
    start, end = at("2024-03-04T00:00"), at("2024-03-11T00:00")
    rows = []
    t = start
    while t < end:
        pv = sun_w(t, peak_w)
        rows.append((t, LOAD_W - pv, pv if pv_measured else None))
        t += HISTORY_STEP_S
    return HouseHistory(rows)


def pv_curve(peak_w: float, day: str = "2024-03-11") -> PvCurve:
    start = at(f"{day}T00:00")
    return PvCurve(PvInterval(start + i * 900, start + (i + 1) * 900, sun_w(start + i * 900 + 450, peak_w))
                   for i in range(96))


def noon_slot() -> list[tuple[float, float]]:
    return [(at("2024-03-11T12:00"), at("2024-03-11T12:15"))]


def test_a_cloudy_forecast_after_sunny_days_expects_the_house_to_draw_at_noon() -> None:
    history = past_week(3000.0)
    plain = forecast(history, noon_slot(), PARIS, now=at("2024-03-11T00:00"))[0]
    cloudy = forecast(history, noon_slot(), PARIS, now=at("2024-03-11T00:00"), pv=pv_curve(300.0))[0]
    assert plain.need_wh == 0 and plain.surplus_wh > 500  # the past week: 2.3 kW of surplus at noon
    assert cloudy.surplus_wh == 0 and cloudy.need_wh == pytest.approx((LOAD_W - 300 * 0.99) / 4, rel=0.05)


def test_without_a_measured_pv_the_forecast_is_not_used() -> None:
    # the house's own load cannot be told apart from its PV: subtracting a forecast would count the sun twice
    history = past_week(3000.0, pv_measured=False)
    plain = forecast(history, noon_slot(), PARIS, now=at("2024-03-11T00:00"))
    assert forecast(history, noon_slot(), PARIS, now=at("2024-03-11T00:00"), pv=pv_curve(300.0)) == plain


def test_without_a_pv_ct_the_forecasts_kept_for_the_past_week_stand_for_its_pv() -> None:
    week = [pv_curve(3000.0, f"2024-03-{day:02d}") for day in range(4, 11)]
    kept = PvCurve([i for curve in week for i in curve.intervals])
    history = past_week(3000.0, pv_measured=False).with_pv(kept, at("2024-03-04T00:00"), at("2024-03-11T00:00"))
    assert history is not None and history.pv_known
    cloudy = forecast(history, noon_slot(), PARIS, now=at("2024-03-11T00:00"), pv=pv_curve(300.0))[0]
    measured = forecast(past_week(3000.0), noon_slot(), PARIS, now=at("2024-03-11T00:00"), pv=pv_curve(300.0))[0]
    assert cloudy.need_wh == pytest.approx(measured.need_wh, rel=0.05) and cloudy.surplus_wh == 0  # as with a CT


def test_the_feed_keeps_what_the_forecasts_said_of_the_last_four_weeks() -> None:
    days = {back: pv_curve(3000.0, f"2024-03-{11 - back:02d}") for back in (1, 10)}
    old = PvCurve([*days[10].intervals, *days[1].intervals])
    kept = merged(old, pv_curve(300.0), at("2024-03-11T10:00") - KEEP_S)
    assert kept.energy_wh(at("2024-03-10T12:00"), at("2024-03-10T13:00")) is not None  # yesterday
    assert kept.energy_wh(at("2024-03-01T12:00"), at("2024-03-01T13:00")) is not None  # ten days ago
    assert merged(old, pv_curve(300.0), at("2024-04-05T10:00") - KEEP_S).energy_wh(
        at("2024-03-01T12:00"), at("2024-03-01T13:00")) is None  # more than 29 days before: dropped


def test_forecasts_kept_for_part_of_the_week_are_not_taken_for_its_pv() -> None:
    kept = PvCurve([i for day in (9, 10) for i in pv_curve(3000.0, f"2024-03-{day:02d}").intervals])
    assert past_week(3000.0, pv_measured=False).with_pv(kept, at("2024-03-04T00:00"), at("2024-03-11T00:00")) is None


def test_a_measured_pv_is_not_replaced_by_a_forecast() -> None:
    kept = PvCurve([i for day in range(4, 11) for i in pv_curve(100.0, f"2024-03-{day:02d}").intervals])
    history = past_week(3000.0).with_pv(kept, at("2024-03-04T00:00"), at("2024-03-11T00:00"))
    assert history is not None
    noon = (at("2024-03-10T12:00"), at("2024-03-10T13:00"))
    assert history.load_energy(*noon) == past_week(3000.0).load_energy(*noon)


def test_where_the_forecast_stops_the_past_days_take_over() -> None:
    history = past_week(3000.0)
    later = [(at("2024-03-12T12:00"), at("2024-03-12T12:15"))]  # the day after the forecast's last
    assert forecast(history, later, PARIS, pv=pv_curve(300.0)) == forecast(history, later, PARIS)


def _night_charge_kwh(history: HouseHistory, pv: PvCurve | None) -> float:
    tariff = SiteTariff(TariffConfig(kind="time_of_use", timezone="Europe/Paris", price=0.27,
                                     preset="heures_creuses", offpeak_price=0.2068))
    config = PlannerConfig()
    bank = bank_from(9600.0, 10.0, 5.0, 100.0, 6000.0, 6000.0, 6000.0, config)
    made = make_plan(tariff, history, bank, at("2024-03-11T01:00"), config, pv=pv)
    return sum(s.grid_charge_w * (s.end - s.start) / 3600 for s in made.slots if s.start < at("2024-03-11T06:00")) \
        / 1000


def test_the_plan_buys_off_peak_for_a_cloudy_day_that_the_past_week_would_have_left_to_the_sun() -> None:
    sunny_week = past_week(4000.0)  # the sun filled the batteries every day
    assert _night_charge_kwh(sunny_week, None) < 1.0
    assert _night_charge_kwh(sunny_week, pv_curve(200.0)) > 3.0


def test_the_plan_leaves_room_for_a_sunny_day_after_grey_ones() -> None:
    grey_week = past_week(300.0)
    assert _night_charge_kwh(grey_week, None) > 5.0
    assert _night_charge_kwh(grey_week, pv_curve(4000.0)) < _night_charge_kwh(grey_week, None) - 3.0


def test_forecast_solar_local_times_and_iso_times() -> None:
    answer = {"result": {"watts": {"2024-03-11 07:00:00": 0, "2024-03-11 08:00:00": 1000,
                                   "2024-03-11 09:00:00": 2000}},
              "message": {"code": 0, "type": "success", "info": {"timezone": "Europe/Paris"}}}
    curve = parse_forecast_solar(answer, ZoneInfo("UTC"))
    assert curve.energy_wh(at("2024-03-11T07:00"), at("2024-03-11T09:00")) == pytest.approx(2000.0)
    assert curve.energy_wh(at("2024-03-11T06:00"), at("2024-03-11T08:00")) is None  # not covered: not known
    iso = {"result": {"watts": {"2024-03-11T07:00:00+01:00": 0, "2024-03-11T08:00:00+01:00": 1000}}}
    assert parse_forecast_solar(iso, ZoneInfo("UTC")).energy_wh(at("2024-03-11T07:00"), at("2024-03-11T08:00")) \
        == pytest.approx(500.0)


@pytest.mark.parametrize(("answer", "reason"), [
    ({"message": {"code": 429, "type": "error"}}, "no result"),
    ({"result": {"watts": {}}}, "no watts"),
    ({"result": {"watts": {"2024-03-11 07:00:00": 0, "2024-03-11 08:00:00": -5}}}, "not a plausible PV power"),
    ({"result": {"watts": {"yesterday": 0, "2024-03-11 08:00:00": 5}}}, "not a time"),
    ({"result": {"watts": {"2024-03-11 07:00:00": 0}}}, "fewer than two points"),
])
def test_a_malformed_forecast_solar_answer_is_refused(answer: object, reason: str) -> None:
    with pytest.raises(InvalidInputError, match=reason):
        parse_forecast_solar(answer, PARIS)


def test_evcc_solar_rates_new_and_old_layout() -> None:
    rates = [{"start": "2024-03-11T08:00:00+01:00", "end": "2024-03-11T09:00:00+01:00", "value": 1500.0}]
    for answer in ({"rates": rates}, {"result": {"rates": rates}}):
        assert parse_rates(answer, "evcc").energy_wh(at("2024-03-11T08:00"), at("2024-03-11T09:00")) == 1500.0
    with pytest.raises(InvalidInputError, match="has no value"):
        parse_rates({"rates": [{"start": rates[0]["start"], "end": rates[0]["end"]}]}, "evcc")


def test_the_forecast_solar_address_and_its_key() -> None:
    config = PvForecastConfig(source="forecast_solar", latitude=48.85661, longitude=2.35222, declination=35,
                              azimuth=-20, kwp=4.5, token="k3y")
    assert forecast_solar_url(config) == "https://api.forecast.solar/k3y/estimate/48.8566/2.3522/35/-20/4.5"
    assert "k3y" not in forecast_solar_url(config, hide_key=True)
    west = config.model_copy(update={"second_declination": 15, "second_azimuth": 90, "second_kwp": 2})
    assert forecast_solar_url(west, 1) == "https://api.forecast.solar/k3y/estimate/48.8566/2.3522/15/90/2"
    with pytest.raises(ValueError, match="latitude, longitude and kwp"):
        PvForecastConfig(source="forecast_solar", latitude=48.8)
    with pytest.raises(ValueError, match="evcc's url"):
        PvForecastConfig(source="evcc")


def test_two_planes_add_up_where_both_are_known() -> None:
    east = PvCurve([PvInterval(at("2024-03-11T07:00"), at("2024-03-11T09:00"), 1000.0),
                    PvInterval(at("2024-03-11T09:00"), at("2024-03-11T12:00"), 2000.0)])
    west = PvCurve([PvInterval(at("2024-03-11T08:00"), at("2024-03-11T10:00"), 300.0),
                    PvInterval(at("2024-03-11T10:00"), at("2024-03-11T13:00"), 900.0)])
    both = summed([east, west])
    assert both.energy_wh(at("2024-03-11T08:00"), at("2024-03-11T09:00")) == pytest.approx(1300.0)
    assert both.energy_wh(at("2024-03-11T09:30"), at("2024-03-11T10:30")) == pytest.approx(0.5 * 2300 + 0.5 * 2900)
    assert both.energy_wh(at("2024-03-11T07:00"), at("2024-03-11T08:00")) is None  # the west plane is not known yet
    assert both.energy_wh(at("2024-03-11T12:00"), at("2024-03-11T13:00")) is None
    assert summed([east]) is east
