"""The simulation's planner with a PV forecast at a site without a PV CT: its history keeps no PV, and the
forecasts kept for the past days stand for it, as in the service (``plan.forecast.learning_history``)."""

from __future__ import annotations

from datetime import date

from smartsofar.modes import Mode, ModeState
from smartsofar.plan.planner import Action
from smartsofar.plan.pv_forecast import PvCurve, PvInterval
from smartsofar.sim.household import DayProfile
from smartsofar.sim.pricing import SimPlanner, build_pricing
from smartsofar.sim.simulate import Scenario, Simulation, build_site

DAY_S = 86400.0
HISTORY_DAYS = 7
LOAD_W = 700.0
HEURES_CREUSES = {"kind": "time_of_use", "timezone": "Europe/Paris", "price": 0.27, "preset": "heures_creuses",
                  "offpeak_price": 0.2068}


def sun_w(minute: int, peak_w: float) -> float:
    """A bell of sun from 08:00 to 18:00."""
    hour = minute % 1440 / 60
    return max(0.0, peak_w * (1 - ((hour - 13) / 5) ** 2))


def sunny_week_then_grey() -> DayProfile:
    """Seven sunny days (panels peaking at 4 kW over a 700 W house), then a grey one."""
    minutes = range((HISTORY_DAYS + 1) * 1440)
    return DayProfile([LOAD_W] * len(minutes),
                      [sun_w(m, 4000.0 if m < HISTORY_DAYS * 1440 else 300.0) for m in minutes])


async def first_plan(*, forecast: bool, pv_ct: bool) -> tuple[float, bool]:
    """(what the first plan, made at the grey day's midnight, buys off-peak before 06:00 kWh, whether the
    planner's history holds PV once five more minutes have been recorded with the units reporting PV)."""
    house = sunny_week_then_grey()
    priced = build_pricing(HEURES_CREUSES, {}, date(2024, 3, 4), house, HISTORY_DAYS * DAY_S)
    day0 = priced.epoch0 - HISTORY_DAYS * DAY_S
    kept = PvCurve(PvInterval(day0 + m * 60, day0 + m * 60 + 60, house.pv_minute_w(m))
                   for m in range((HISTORY_DAYS + 1) * 1440))  # the forecasts kept, right on every day
    priced.pv_forecast = (lambda now: kept) if forecast else None
    priced.pv_ct = pv_ct
    sim = Simulation(Scenario(house, soc_pct=10.0, start_s=HISTORY_DAYS * DAY_S, duration_s=DAY_S, pricing=priced))
    site, monitor, _ = build_site(sim, sim.scenario.control, ModeState(Mode.AUTO))
    assert priced.planner is not None
    planner = SimPlanner(priced, site, priced.planner)
    await monitor.read_all()
    planner.maybe_plan(sim.t)
    made = planner.plan
    assert made is not None
    bought = sum(s.grid_charge_w * (s.end - s.start) / 3600 for s in made.slots
                 if s.action is Action.CHARGE and s.start < priced.epoch0 + 6 * 3600)
    for second in range(1, 302):
        planner.second(sim.t + second, LOAD_W - 2000.0, 2000.0)
    return bought / 1000, planner.history.pv_known


async def test_without_a_pv_ct_the_kept_forecasts_stand_for_the_past_pv() -> None:
    bought, pv_kept = await first_plan(forecast=True, pv_ct=False)
    assert not pv_kept  # neither the week before nor the run's own minutes
    assert bought > 3.0  # the week was sunny by its forecasts, tomorrow grey: the house's load from the grid


async def test_without_a_pv_ct_or_a_forecast_the_sunny_week_buys_nothing() -> None:
    bought, _ = await first_plan(forecast=False, pv_ct=False)
    assert bought < 1.0  # the week's net power says the sun will cover the house


async def test_with_a_pv_ct_the_history_keeps_the_measured_pv() -> None:
    bought, pv_kept = await first_plan(forecast=True, pv_ct=True)
    assert pv_kept
    assert bought > 3.0
