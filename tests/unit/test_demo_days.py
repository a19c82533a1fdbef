"""The built-in days: a house and a sky that look like a real summer and winter day, the same every time."""

from __future__ import annotations

import itertools

import pytest

from smartsofar.errors import InvalidInputError
from smartsofar.sim.cli import household_from_arg
from smartsofar.sim.demo_days import DEMO_DAYS, demo_day
from smartsofar.sim.household import DayProfile


def _day_kwh(day: DayProfile) -> tuple[float, float]:
    return (sum(day.load_minute_w(m) for m in range(1440)) / 60000,
            sum(day.pv_minute_w(m) for m in range(1440)) / 60000)


def test_summer_has_a_sunny_noon_a_dark_night_and_more_pv_than_the_house_uses() -> None:
    day = demo_day("summer")
    load_kwh, pv_kwh = _day_kwh(day)
    assert day.pv_w(13 * 3600) > 1500 and day.pv_w(1 * 3600) == 0
    assert 8 < load_kwh < 25 and pv_kwh > load_kwh  # a surplus by day for the batteries to store
    evening = sum(day.load_minute_w(m) for m in range(19 * 60, 23 * 60)) / 240
    assert evening > 400  # and a load in the evening for them to cover


def test_winter_has_little_pv_a_heated_house_and_short_days() -> None:
    day = demo_day("winter")
    load_kwh, pv_kwh = _day_kwh(day)
    assert pv_kwh < 0.3 * load_kwh and 15 < load_kwh < 40
    assert day.pv_w(8 * 3600) == 0 and day.pv_w(18 * 3600) == 0 and day.pv_w(13 * 3600) > 200


@pytest.mark.parametrize("name", DEMO_DAYS)
def test_a_built_in_day_steps_like_a_real_house_and_is_the_same_every_time(name: str) -> None:
    day = demo_day(name)
    loads = [day.load_minute_w(m) for m in range(1440)]
    jumps = sum(1 for a, b in itertools.pairwise(loads) if abs(b - a) > 100)
    assert 40 < jumps < 400  # appliances switch on and off; not a smooth curve, not noise
    assert min(loads) > 50 and max(loads) < 9000
    again = demo_day(name)
    assert [again.load_w(s) for s in range(0, 86400, 13)] == [day.load_w(s) for s in range(0, 86400, 13)]
    assert [again.pv_w(s) for s in range(0, 86400, 13)] == [day.pv_w(s) for s in range(0, 86400, 13)]


def test_an_unknown_day_name_is_refused_naming_the_built_in_ones() -> None:
    with pytest.raises(InvalidInputError, match="summer, winter"):
        household_from_arg("2007-06-10")
