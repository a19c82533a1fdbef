"""Who steers auto mode: another system's battery mode (a 60 s lease), the schedule, then the plan."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from smartsofar.config_tariff import ScheduleEntry
from smartsofar.control.intent import BatteryIntent, BatteryMode, charge_floor
from smartsofar.engine.steering import Steering
from smartsofar.errors import InvalidInputError
from smartsofar.plan.forecast import SlotForecast
from smartsofar.plan.planner import Bank, PlanInput, plan
from smartsofar.plan.schedule import active_entry

PARIS = ZoneInfo("Europe/Paris")


def at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=PARIS).timestamp()


class Clock:
    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def steering(clock: Clock, schedule: list[ScheduleEntry] | None = None) -> Steering:
    return Steering(schedule or [], PARIS, grid_charge_w=lambda: 5000.0, clock=clock)


def test_an_external_battery_mode_lapses_to_normal_after_its_lease() -> None:
    clock = Clock(at("2024-01-08T12:00"))
    steer = steering(clock)
    steer.request(BatteryMode.HOLD, who="evcc")
    assert steer(clock.t + 59, 50.0).mode is BatteryMode.HOLD
    assert steer(clock.t + 60, 50.0).mode is BatteryMode.NORMAL
    steer.request(BatteryMode.CHARGE, charge_w=8000, soc_pct=80)
    intent = steer(clock.t + 1, 50.0)
    assert intent.mode is BatteryMode.CHARGE and intent.charge_w == 5000  # capped at what the site allows
    assert intent.at_soc(80.0).mode is BatteryMode.HOLD  # reached: hold, never overcharge
    steer.request(BatteryMode.NORMAL)
    assert steer(clock.t + 2, 50.0).mode is BatteryMode.NORMAL


def test_bad_external_requests_change_nothing() -> None:
    clock = Clock(0.0)
    steer = steering(clock)
    steer.request(BatteryMode.HOLD)
    for kwargs in ({"lease_s": 0.0}, {"lease_s": 1e9}, {"charge_w": -5.0}, {"soc_pct": 101.0}):
        with pytest.raises(InvalidInputError):
            steer.request(BatteryMode.CHARGE, **kwargs)  # type: ignore[arg-type]
    assert steer(1.0, 50.0).mode is BatteryMode.HOLD
    with pytest.raises(InvalidInputError):
        BatteryMode.parse("boost")


def test_the_schedule_applies_on_its_days_and_the_external_mode_wins() -> None:
    entry = ScheduleEntry(hours="01:00-05:00", days="mon-fri", mode=BatteryMode.CHARGE, soc_pct=80)
    clock = Clock(at("2024-01-08T02:00"))  # a Monday
    steer = steering(clock, [entry])
    intent = steer(clock.t, 40.0)
    assert (intent.mode, intent.until_soc_pct, intent.source) == (BatteryMode.CHARGE, 80, "schedule")
    assert intent.ends_at == at("2024-01-08T05:00")
    assert steer(at("2024-01-13T02:00"), 40.0).mode is BatteryMode.NORMAL  # Saturday
    steer.request(BatteryMode.HOLD)
    assert steer(clock.t, 40.0).source == "external"


def test_a_night_window_runs_into_the_next_morning() -> None:
    entry = ScheduleEntry(hours="22:00-06:00", days="fri", mode=BatteryMode.HOLD)
    assert active_entry([entry], at("2024-01-13T05:00"), PARIS) is not None  # Saturday morning
    assert active_entry([entry], at("2024-01-13T23:00"), PARIS) is None


def test_the_plan_steers_when_nothing_else_does() -> None:
    bank = Bank(capacity_wh=9600, energy_wh=960, floor_wh=480, ceiling_wh=9600, max_charge_w=6000,
                max_discharge_w=6000, grid_charge_w=5000)
    start = at("2024-01-08T22:00")
    prices = [0.13] * 8 + [0.73] * 16
    slots = [PlanInput(SlotForecast(start + i * 3600, start + (i + 1) * 3600, 800, 0), p, 0.0)
             for i, p in enumerate(prices)]
    clock = Clock(start)
    steer = steering(clock)
    steer.plan = plan(bank, slots, start)
    intent = next(steer(start + i * 3600 + 1, 20.0) for i in range(8)
                  if steer(start + i * 3600 + 1, 20.0).mode is BatteryMode.CHARGE)
    assert intent.source == "plan" and intent.until_soc_pct is not None and intent.until_soc_pct > 80
    assert "charge from the grid" in intent.reason and "0.730" in intent.reason
    assert steer(start + 30 * 3600, 50.0).mode is BatteryMode.NORMAL and steer(start + 30 * 3600, 50.0).source == ""


def test_an_intent_bounds_the_battery_total() -> None:
    assert charge_floor(BatteryIntent(BatteryMode.HOLD), (-3000.0, 3000.0)) == (0.0, 3000.0)
    assert charge_floor(BatteryIntent(BatteryMode.CHARGE, 2000.0), (-3000.0, 3000.0)) == (2000.0, 3000.0)
    assert charge_floor(BatteryIntent(BatteryMode.CHARGE, 5000.0), (-3000.0, 1500.0)) == (1500.0, 1500.0)
    assert charge_floor(BatteryIntent(), (-3000.0, 3000.0)) == (-3000.0, 3000.0)


def test_an_export_bounds_the_battery_total_from_above_within_what_the_units_and_the_grid_allow() -> None:
    export = BatteryIntent(BatteryMode.EXPORT, export_w=2000.0)
    assert charge_floor(export, (-3000.0, 3000.0)) == (-3000.0, -2000.0)  # at least 2 kW out, more if the house draws
    assert charge_floor(export, (-1200.0, 3000.0)) == (-1200.0, -1200.0)  # the export limit or the units cap it
    assert charge_floor(export, (0.0, 3000.0)) == (0.0, 0.0)  # at the reserve: nothing to give
    assert not export.blocks_discharge


def test_an_export_stops_at_its_soc_or_when_the_soc_is_not_known() -> None:
    export = BatteryIntent(BatteryMode.EXPORT, until_soc_pct=30.0, reason="schedule", export_w=2000.0)
    assert export.at_soc(45.0) is export
    for soc in (30.0, None):
        stopped = export.at_soc(soc)
        assert (stopped.mode, stopped.export_w) == (BatteryMode.NORMAL, 0.0)
        assert "zero export" in stopped.reason


def test_export_can_be_asked_for_by_a_schedule_or_another_system_within_the_export_power() -> None:
    entry = ScheduleEntry(hours="16:00-19:00", days="all", mode=BatteryMode.EXPORT, soc_pct=30, power_w=9000)
    clock = Clock(at("2024-01-08T17:00"))
    steer = Steering([entry], PARIS, grid_charge_w=lambda: 5000.0, export_w=lambda: 4000.0, clock=clock)
    intent = steer(clock.t, 80.0)
    assert (intent.mode, intent.export_w, intent.until_soc_pct) == (BatteryMode.EXPORT, 4000.0, 30)
    assert "export down to 30 %" in intent.reason
    steer.request(BatteryMode.parse("EXPORT"), charge_w=1500.0, who="Predbat")
    asked = steer(clock.t, 80.0)
    assert (asked.mode, asked.export_w, asked.until_soc_pct, asked.source) == (BatteryMode.EXPORT, 1500.0, None,
                                                                               "external")
    with pytest.raises(ValueError, match="export down to"):
        ScheduleEntry(hours="16:00-19:00", days="all", mode=BatteryMode.EXPORT)  # soc_pct left at 100


def test_the_plan_exports_through_the_steering_before_negative_prices() -> None:
    bank = Bank(capacity_wh=9600, energy_wh=9600, floor_wh=480, ceiling_wh=9600, max_charge_w=6000,
                max_discharge_w=6000, grid_charge_w=6000, grid_export_w=6000)
    start = at("2024-05-12T09:00")
    prices = [0.15] * 3 + [-0.10] * 2 + [0.30] * 6
    slots = [PlanInput(SlotForecast(start + i * 3600, start + (i + 1) * 3600, 300, 0), p, 0.0)
             for i, p in enumerate(prices)]
    steer = Steering([], PARIS, grid_charge_w=lambda: 6000.0, export_w=lambda: 2500.0, clock=Clock(start))
    steer.plan = plan(bank, slots, start)
    intent = next(i for i in (steer(start + h * 3600 + 1, 90.0) for h in range(3)) if i.mode is BatteryMode.EXPORT)
    assert intent.source == "plan" and 0 < intent.export_w <= 2500.0  # within what the site allows now
    assert intent.until_soc_pct is not None and intent.until_soc_pct < 60
    assert "export from the batteries" in intent.reason and "-0.100" in intent.reason


def test_an_export_where_the_grid_export_limit_allows_none_is_zero_export_and_says_so() -> None:
    clock = Clock(at("2024-01-08T17:00"))
    steer = Steering([], PARIS, grid_charge_w=lambda: 5000.0, export_w=lambda: 0.0, clock=clock)
    steer.request(BatteryMode.EXPORT, who="Predbat")
    intent = steer(clock.t, 80.0)
    assert (intent.mode, intent.export_w) == (BatteryMode.NORMAL, 0.0)
    assert "allows none" in intent.reason and intent.source == "external"
