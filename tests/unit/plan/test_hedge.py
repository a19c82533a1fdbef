"""The hedge: grid charging stops where the recent days say more would not pay, and only there."""

from __future__ import annotations

import math
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from smartsofar.plan.forecast import HISTORY_STEP_S, HouseHistory, SlotForecast, forecast, scenarios
from smartsofar.plan.hedge import hedge
from smartsofar.plan.planner import Bank, Plan, PlanInput, plan, policy_cost, solve

HOUR = 3600.0
HOURS = 32  # from 22:00 to 06:00 two days later


def bank() -> Bank:
    return Bank(capacity_wh=9600.0, energy_wh=960.0, floor_wh=480.0, ceiling_wh=9600.0, max_charge_w=6000.0,
                max_discharge_w=6000.0, grid_charge_w=6000.0)


def day(sunny: bool) -> list[SlotForecast]:
    """A house drawing 700 W; on a sunny day 3 kW of PV from 09:00 to 17:00 (the slots start at 22:00)."""
    out = []
    for i in range(HOURS):
        sun = sunny and 9 <= (22 + i) % 24 < 17
        out.append(SlotForecast(i * HOUR, (i + 1) * HOUR, 0.0 if sun else 700.0, 2300.0 if sun else 0.0))
    return out


def average(days: list[list[SlotForecast]]) -> list[SlotForecast]:
    return [SlotForecast(s[0].start, s[0].end, sum(f.need_wh for f in s) / len(s),
                         sum(f.surplus_wh for f in s) / len(s)) for s in zip(*days, strict=True)]


def priced(forecasts: list[SlotForecast], offpeak: float, peak: float) -> list[PlanInput]:
    return [PlanInput(f, offpeak if (22 + i) % 24 >= 22 or (22 + i) % 24 < 6 else peak, 0.0)
            for i, f in enumerate(forecasts)]


def grid_kwh(made: Plan) -> float:
    """What the night's charge from the grid adds to the batteries."""
    return (max(s.energy_end_wh for s in made.slots[:8]) - made.slots[0].energy_start_wh) / 1000


def week() -> list[tuple[float, list[SlotForecast]]]:
    """Two sunny days and five grey ones, weighted alike."""
    return [(1.0, day(sunny=i < 2)) for i in range(7)]


def test_heures_creuses_after_a_week_with_sunny_days_buys_only_what_the_morning_will_use_and_says_why() -> None:
    days = week()
    inputs = priced(average([d for _, d in days]), offpeak=0.2068, peak=0.27)
    plain = plan(bank(), inputs, 0.0)
    policy = solve(bank(), inputs)
    hedged = hedge(bank(), inputs, policy, days, 0.0)
    # The average day is two sevenths sunny: buying for it at night saves 0.04 EUR a kWh on a grey day, and
    # loses 0.23 EUR a kWh on a sunny one, whose sun fills the batteries anyway. Only the morning's use pays.
    assert grid_kwh(plain) > 4.0
    assert 1.0 < grid_kwh(hedged) < 2.2  # 06:00-09:00 at 700 W
    assert plain.hedge is None and hedged.hedge is not None and "not have paid" in hedged.hedge
    charged = max(s.soc_end_pct for s in hedged.slots[:8])
    assert f"to {charged:.0f} %" in hedged.hedge or "no charging" in hedged.hedge

    def over_the_week(top: float) -> float:
        return sum(policy_cost(bank(), priced(d, 0.2068, 0.27), policy, top) for _, d in days)

    top = max(s.energy_end_wh for s in hedged.slots[:8])
    assert over_the_week(top) < over_the_week(math.inf)  # it would have cost less on those very days


def test_before_a_red_tempo_day_it_still_charges_for_the_grey_days() -> None:
    days = week()
    inputs = priced(average([d for _, d in days]), offpeak=0.13, peak=0.73)
    plain = plan(bank(), inputs, 0.0)
    hedged = hedge(bank(), inputs, solve(bank(), inputs), days, 0.0)
    assert hedged.hedge is None and grid_kwh(hedged) == grid_kwh(plain) > 2.0  # short costs 0.60, waste 0.13


def test_a_plan_that_buys_nothing_or_has_one_day_to_go_by_is_left_as_it_is() -> None:
    sunny = [(1.0, day(sunny=True)), (1.0, day(sunny=True))]
    inputs = priced(average([d for _, d in sunny]), offpeak=0.2068, peak=0.27)
    assert hedge(bank(), inputs, solve(bank(), inputs), sunny, 0.0) == plan(bank(), inputs, 0.0)
    one = [(1.0, day(sunny=False))]
    inputs = priced(day(sunny=False), offpeak=0.2068, peak=0.27)
    assert hedge(bank(), inputs, solve(bank(), inputs), one, 0.0) == plan(bank(), inputs, 0.0)


def test_each_recent_day_is_its_own_scenario_and_what_it_has_not_lived_yet_is_the_average() -> None:
    paris = ZoneInfo("Europe/Paris")
    now = datetime(2024, 3, 11, 1, 0, tzinfo=paris).timestamp()
    rows = [(now - 7 * 86400 + k * HISTORY_STEP_S, float(100 * (1 + k * HISTORY_STEP_S // 86400)))
            for k in range(7 * 86400 // HISTORY_STEP_S)]  # the house drew 100 W a week ago, 700 W yesterday
    slots = [(now, now + HOUR), (now + 25 * HOUR, now + 26 * HOUR)]  # tonight, and tomorrow night
    expected = forecast(HouseHistory(rows), slots, paris, now=now)
    days = scenarios(HouseHistory(rows), expected, paris, now=now)
    assert len(days) == 7 and days[0][0] > days[-1][0]  # yesterday counts most
    assert days[0][1][0].need_wh == pytest.approx(700.0) and days[-1][1][0].need_wh == pytest.approx(100.0)
    assert days[0][1][1] == expected[1]  # tomorrow night a day back is still to come: the average stands in
    assert days[1][1][1].need_wh == pytest.approx(700.0)  # two days back from tomorrow night: yesterday
