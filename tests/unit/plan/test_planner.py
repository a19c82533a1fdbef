"""The planner: charges in cheap hours for dear ones, holds energy for dearer hours, never plans to pay more
than zero export alone, and honours the reserve, the ceiling and the user's permissions."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from smartsofar.plan.forecast import SlotForecast
from smartsofar.plan.planner import Action, Bank, PlanInput, plan

HOUR = 3600.0


def bank(energy_wh: float = 960.0, grid_charge_w: float = 6000.0, **kw: float | bool) -> Bank:
    values: dict[str, float | bool] = {"capacity_wh": 9600.0, "energy_wh": energy_wh, "floor_wh": 480.0,
                                           "ceiling_wh": 9600.0, "max_charge_w": 6000.0, "max_discharge_w": 6000.0,
                                           "grid_charge_w": grid_charge_w}
    values.update(kw)
    return Bank(**values)  # type: ignore[arg-type]


def hours(prices: list[float], need_wh: float = 800.0, surplus_wh: float = 0.0) -> list[PlanInput]:
    return [PlanInput(SlotForecast(i * HOUR, (i + 1) * HOUR, need_wh, surplus_wh), p, 0.0)
            for i, p in enumerate(prices)]


def red_day() -> list[float]:
    """Off-peak 22-06 at 0.13, then a red peak day at 0.73 from 06 to 22 (starting at 22:00)."""
    return [0.13] * 8 + [0.73] * 16 + [0.13] * 8


def test_it_charges_at_night_for_a_red_day() -> None:
    made = plan(bank(), hours(red_day()), 0.0)
    night = made.slots[:8]
    assert any(s.action is Action.CHARGE for s in night)
    assert max(s.soc_end_pct for s in night) > 90
    assert all(s.action is not Action.CHARGE for s in made.slots[8:24])  # never at the peak price
    assert made.expected_cost < made.zero_export_cost - 2.0  # ~9 kWh moved from 0.73 to 0.13


def test_it_holds_energy_for_dearer_hours_instead_of_spending_it_now() -> None:
    prices = [0.15] * 4 + [0.40] * 4  # the bank can only cover some of it: keep it for the dear hours
    made = plan(bank(energy_wh=3000.0, grid_charge_w=0.0), hours(prices), 0.0)
    assert made.slots[0].action is Action.HOLD
    assert any(s.action is Action.NORMAL and s.energy_end_wh < s.energy_start_wh for s in made.slots[4:])


def test_flat_prices_leave_zero_export_alone() -> None:
    made = plan(bank(energy_wh=5000.0), hours([0.2] * 24, surplus_wh=300.0), 0.0)
    assert all(s.action is not Action.CHARGE for s in made.slots)
    assert made.expected_cost <= made.zero_export_cost + 1e-6


def test_no_grid_charge_when_the_user_forbids_it_and_never_below_the_reserve() -> None:
    made = plan(bank(grid_charge_w=0.0, energy_wh=600.0), hours(red_day()), 0.0)
    assert all(s.action is not Action.CHARGE for s in made.slots)
    assert all(s.energy_end_wh >= 480.0 - 1e-6 for s in made.slots)


def test_no_discharge_planned_when_discharging_is_forbidden() -> None:
    made = plan(bank(energy_wh=9000.0, allow_discharge=False), hours(red_day()), 0.0)
    assert all(s.energy_end_wh >= s.energy_start_wh - 1e-6 for s in made.slots)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-0.05, 1.0), min_size=4, max_size=30),
       st.lists(st.tuples(st.floats(0, 3000), st.floats(0, 3000)), min_size=30, max_size=30),
       st.floats(480, 9600), st.floats(0, 0.2))
def test_the_plan_never_expects_to_pay_more_than_zero_export(prices: list[float],
                                                            house: list[tuple[float, float]], energy: float,
                                                            feed_in: float) -> None:
    slots = [PlanInput(SlotForecast(i * HOUR, (i + 1) * HOUR, house[i][0], house[i][1]), p, feed_in)
             for i, p in enumerate(prices)]
    made = plan(bank(energy_wh=energy), slots, 0.0)
    tolerance = 0.02 * len(prices) * 0.1  # the energy grid's rounding, a few Wh per slot
    assert made.expected_cost <= made.zero_export_cost + tolerance
    assert all(480.0 - 1e-6 <= s.energy_end_wh <= 9600.0 + 1e-6 for s in made.slots)


def test_with_nothing_to_cover_it_never_buys_energy_just_to_end_fuller() -> None:
    made = plan(bank(energy_wh=4800.0), hours(red_day(), need_wh=0.0), 0.0)  # a new install: no history yet
    assert all(s.action is not Action.CHARGE for s in made.slots)


def test_a_soc_far_from_the_plan_or_a_plan_run_out_asks_for_a_new_plan() -> None:
    made = plan(bank(energy_wh=4800.0), hours([0.2] * 4), 0.0)
    expected = made.slots[0].soc_end_pct
    assert not made.departed(3599.0, expected, 10.0)
    assert made.departed(3599.0, expected + 15.0, 10.0)
    assert made.departed(5 * HOUR, expected, 10.0)  # past its last slot


def test_hours_at_one_price_are_charged_gently_and_evenly_not_in_a_burst_at_the_end() -> None:
    quarters = [PlanInput(SlotForecast(i * 900.0, (i + 1) * 900.0, 175.0, 0.0), 0.2068 if i < 32 else 0.27, 0.0)
                for i in range(96)]  # 8 off-peak hours, then 16 at the peak price, a house drawing 700 W
    night = plan(bank(), quarters, 0.0).slots[:32]
    charging = [s for s in night if s.action is Action.CHARGE]
    assert max(s.grid_charge_w for s in charging) <= 1500.0  # a quarter of the 6 kW allowed
    assert len(charging) >= 20  # most of the night, not the last hour


def test_before_negative_prices_it_exports_to_make_room_when_the_site_may_export() -> None:
    # A full bank at noon, then two hours that pay 0.10 per kWh imported, then the evening peak.
    prices = [0.15] * 3 + [-0.10] * 2 + [0.30] * 6
    full = {"energy_wh": 9600.0, "grid_charge_w": 6000.0}
    may = plan(bank(**full, grid_export_w=6000.0), hours(prices, need_wh=300.0), 0.0)
    may_not = plan(bank(**full), hours(prices, need_wh=300.0), 0.0)
    exporting = [s for s in may.slots if s.action is Action.EXPORT]
    assert exporting and all(s.end <= 3 * HOUR for s in exporting)  # before the negative hours, not in them
    assert any(s.action is Action.CHARGE for s in may.slots[3:5])  # then paid to fill up again
    assert sum(s.export_wh for s in exporting) > 3000.0
    assert all(s.action is not Action.EXPORT for s in may_not.slots)
    assert may.expected_cost < may_not.expected_cost - 0.3  # ~6 kWh more bought at -0.10


def test_a_feed_in_price_above_what_the_energy_saves_later_is_exported() -> None:
    slots = [PlanInput(SlotForecast(i * HOUR, (i + 1) * HOUR, 300.0, 0.0), 0.20, 0.45 if i == 2 else 0.0)
             for i in range(8)]  # an evening peak that pays 0.45 per kWh exported, against 0.20 to buy
    made = plan(bank(energy_wh=9600.0, grid_charge_w=0.0, grid_export_w=5000.0), slots, 0.0)
    assert made.slots[2].action is Action.EXPORT and made.slots[2].export_w >= 3750.0
    assert made.slots[2].export_wh > 3000.0


def test_exporting_is_never_planned_where_no_price_pays_for_it() -> None:
    made = plan(bank(energy_wh=9600.0, grid_export_w=6000.0), hours(red_day(), surplus_wh=200.0), 0.0)
    assert all(s.action is not Action.EXPORT for s in made.slots)
    forbidden = plan(bank(energy_wh=9600.0, grid_export_w=6000.0, allow_discharge=False),
                     [PlanInput(SlotForecast(0.0, HOUR, 300.0, 0.0), 0.2, 0.5)], 0.0)
    assert forbidden.slots[0].action is not Action.EXPORT  # the user forbids discharging
