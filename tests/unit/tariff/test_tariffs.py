"""Zones, Tempo days and price curves: the prices a user's bill would show, hour by hour."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from smartsofar.config_tariff import TariffConfig, ZoneConfig
from smartsofar.errors import InvalidInputError
from smartsofar.tariff.clock import Window, local_at, parse_days
from smartsofar.tariff.prices import PriceCurve, PriceSlot
from smartsofar.tariff.site_tariff import SiteTariff
from smartsofar.tariff.tempo import TempoColours, colour_name

PARIS = ZoneInfo("Europe/Paris")


def at(text: str, zone: ZoneInfo = PARIS) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=zone).timestamp()


def test_heures_creuses_prices_the_night_and_the_day() -> None:
    tariff = SiteTariff(TariffConfig(kind="time_of_use", timezone="Europe/Paris", price=0.27, preset="heures_creuses",
                                     offpeak_price=0.2068))
    curve = tariff.import_prices(at("2024-02-05T00:00"), at("2024-02-07T00:00"))
    assert curve.at(at("2024-02-05T05:59")) == 0.2068
    assert curve.at(at("2024-02-05T06:00")) == 0.27
    assert curve.at(at("2024-02-05T21:59")) == 0.27
    assert curve.at(at("2024-02-05T22:00")) == 0.2068
    assert curve.known_through(at("2024-02-05T00:00"), at("2024-02-07T00:00")) == at("2024-02-07T00:00")
    assert tariff.published_until(0.0) == tariff.published_until(3600.0)  # nothing new ever comes out


def test_a_window_past_midnight_belongs_to_the_day_it_starts_on() -> None:
    tariff = SiteTariff(TariffConfig(kind="time_of_use", timezone="Europe/Paris", price=0.3,
                                     zones=[ZoneConfig(hours="22:00-06:00", days="fri", price=0.1)]))
    curve = tariff.import_prices(at("2024-02-09T00:00"), at("2024-02-11T00:00"))  # Friday, Saturday
    assert curve.at(at("2024-02-09T03:00")) == 0.3  # Thursday night is not in the zone
    assert curve.at(at("2024-02-09T23:00")) == 0.1
    assert curve.at(at("2024-02-10T05:00")) == 0.1  # Friday night runs into Saturday morning
    assert curve.at(at("2024-02-10T23:00")) == 0.3


def test_summer_time_days_keep_the_local_hours() -> None:
    tariff = SiteTariff(TariffConfig(kind="time_of_use", timezone="Europe/Paris", price=0.3, preset="heures_creuses",
                                     offpeak_price=0.2))
    curve = tariff.import_prices(at("2024-03-31T00:00"), at("2024-04-01T00:00"))  # 23 hours long
    assert curve.at(at("2024-03-31T06:30")) == 0.3
    assert curve.at(at("2024-03-31T05:30")) == 0.2
    assert curve.known_through(at("2024-03-31T00:00"), at("2024-04-01T00:00")) == at("2024-04-01T00:00")


def test_tempo_days_run_from_six_to_six_and_unknown_days_have_no_price(tmp_path: Path) -> None:
    colours = tmp_path / "tempo.csv"
    colours.write_text("date,colour\n2024-01-14,BLUE\n2024-01-15,RED\n", encoding="utf-8")
    tariff = SiteTariff(TariffConfig(kind="tempo", timezone="Europe/Paris", colours=str(colours)))
    tariff.set_colours(TempoColours.from_csv(colours).days)
    curve = tariff.import_prices(at("2024-01-15T00:00"), at("2024-01-17T00:00"))
    prices = tariff.config.tempo
    assert curve.at(at("2024-01-15T05:00")) == prices.blue_hc  # still Sunday's Tempo day
    assert curve.at(at("2024-01-15T07:00")) == prices.red_hp
    assert curve.at(at("2024-01-15T23:00")) == prices.red_hc
    assert curve.at(at("2024-01-16T05:59")) == prices.red_hc
    assert curve.at(at("2024-01-16T07:00")) is None  # the 16th's colour is not known


def test_tempo_colours_read_french_and_numeric_names() -> None:
    assert colour_name("Rouge") == "RED"
    assert colour_name(2) == "WHITE"
    assert colour_name(0) is None
    with pytest.raises(InvalidInputError):
        colour_name("GREEN")


def test_dynamic_prices_take_scale_and_adder_and_publication_hour() -> None:
    tariff = SiteTariff(TariffConfig(kind="dynamic", timezone="Europe/Berlin", source="file", file=Path("x.csv"),
                                     scale=1.19, adder=0.1, feed_in=0.08))
    berlin = ZoneInfo("Europe/Berlin")
    start = at("2024-01-08T00:00", berlin)
    tariff.set_spot(PriceCurve([PriceSlot(start, start + 3600, 0.1)]))
    assert tariff.import_prices(start, start + 3600).at(start) == pytest.approx(0.1 * 1.19 + 0.1)
    assert tariff.export_prices(start, start + 3600).at(start) == 0.08
    assert tariff.published_until(at("2024-01-08T12:59", berlin)) == at("2024-01-09T00:00", berlin)
    assert tariff.published_until(at("2024-01-08T13:00", berlin)) == at("2024-01-10T00:00", berlin)


def test_newer_prices_win_where_they_overlap() -> None:
    old = PriceCurve([PriceSlot(0, 3600, 1.0), PriceSlot(3600, 7200, 2.0)])
    new = PriceCurve([PriceSlot(1800, 5400, 9.0)])
    merged = old.merged(new)
    assert [merged.at(t) for t in (0, 1800, 5399, 5400)] == [1.0, 9.0, 9.0, 2.0]


def test_bad_tariffs_are_refused_with_the_reason() -> None:
    with pytest.raises(ValueError, match="offpeak_price"):
        TariffConfig(kind="time_of_use", price=0.3)
    with pytest.raises(ValueError, match="area"):
        TariffConfig(kind="dynamic", source="nordpool")
    with pytest.raises(ValueError, match="time zone"):
        TariffConfig(timezone="Mars/Olympus")
    with pytest.raises(ValueError, match="HH:MM"):
        ZoneConfig(hours="22-6", price=0.1)
    with pytest.raises(InvalidInputError):
        parse_days("monday-fri")
    with pytest.raises(InvalidInputError):
        Window.parse("10:00-10:00")
    with pytest.raises(InvalidInputError, match="overlap"):
        PriceCurve([PriceSlot(0, 3600, 1.0), PriceSlot(1800, 7200, 2.0)])


def test_local_at_counts_wall_clock_minutes() -> None:
    assert local_at(date(2024, 1, 8), 90, PARIS) == at("2024-01-08T01:30")
