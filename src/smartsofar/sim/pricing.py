"""Prices in the simulation: what each simulated second costs, and the planner run as the service runs it.

``SimPricing`` ties the simulated clock to real dates (``epoch0`` is the wall-clock time of the first
simulated second, in the tariff's zone) and carries the tariff, the planner's settings (None: zero export
only) and the house's history before the scored days (5-minute means of the house's and the PV's power, as
the history database keeps them), and optionally the PV forecast the planner would have had at each moment
(the benchmark's; none by default, so the past days forecast PV). With ``pv_ct`` False the history keeps no
PV, as at a site where no unit measures it, and the forecasts kept for the past days stand for it
(``plan.forecast.learning_history``), as in the service.

``CostMeter`` adds up the bill second by second, with and without the battery, and values the change of
stored energy over the run at the run's mean import price, so a plan cannot look cheap by emptying the
battery. ``SimPlanner`` keeps the house's 5-minute means as the run goes and re-plans as the service does:
every hour, when new prices come out (``SiteTariff.published_until``), and when the SoC leaves the plan.
The planner sees only the past and what has been published.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from smartsofar.config import validate_section
from smartsofar.config_tariff import PlannerConfig, TariffConfig
from smartsofar.engine.site import Site
from smartsofar.engine.steering import Steering
from smartsofar.errors import InvalidInputError
from smartsofar.plan.forecast import HISTORY_STEP_S, HouseHistory, learning_history
from smartsofar.plan.making import bank_from, make_plan, most_power
from smartsofar.plan.planner import Plan
from smartsofar.plan.pv_forecast import PvCurve
from smartsofar.sim.household import DayProfile, Household
from smartsofar.tariff.clock import local_at
from smartsofar.tariff.prices import PriceCurve
from smartsofar.tariff.series_file import read_file
from smartsofar.tariff.site_tariff import SiteTariff
from smartsofar.tariff.tempo import TempoColours

REPLAN_S = 3600.0
DEPARTURE_CHECK_S = 300.0


@dataclass(slots=True)
class SimPricing:
    """The tariff, the dates, the planner and the history of one simulated run."""

    tariff: SiteTariff
    epoch0: float  # wall-clock time of simulated t = 0
    planner: PlannerConfig | None  # None: zero export only
    history: list[tuple[float, float, float | None]] = field(default_factory=list)  # (epoch, house W, PV W)
    pv_forecast: Callable[[float], PvCurve] | None = None  # the PV forecast known at an epoch, the past days as kept
    pv_ct: bool = True  # False: the planner's history has no PV (no unit measures it), as at a site without a PV CT
    imports: PriceCurve = field(init=False)
    exports: PriceCurve = field(init=False)

    def cover(self, duration_s: float) -> None:
        """Fetch the prices the run will be billed at (all of them: the bill is not the plan)."""
        self.imports = self.tariff.import_prices(self.epoch0 - 86400, self.epoch0 + duration_s + 86400)
        self.exports = self.tariff.export_prices(self.epoch0 - 86400, self.epoch0 + duration_s + 86400)
        if self.imports.known_through(self.epoch0, self.epoch0 + duration_s) < self.epoch0 + duration_s - 1:
            gap = self.imports.known_through(self.epoch0, self.epoch0 + duration_s)
            raise ValueError(f"the prices do not cover the simulated days (they stop {gap - self.epoch0:.0f} s in)")


@dataclass(slots=True)
class CostMeter:
    """The bill, second by second."""

    pricing: SimPricing
    cost: float = 0.0
    none_cost: float = 0.0
    price_seconds: float = 0.0
    seconds: int = 0
    grid_charged_wh: float = 0.0
    minutes: list[list[float]] = field(default_factory=list)  # per simulated minute: grid import, export Wh


    def second(self, t: float, grid_w: float, base_w: float, battery_w: float) -> None:
        """One second ending at simulated ``t``."""
        at = self.pricing.epoch0 + t - 0.5
        imp = self.pricing.imports.at(at) or 0.0
        exp = self.pricing.exports.at(at) or 0.0
        self.cost += (max(grid_w, 0.0) * imp - max(-grid_w, 0.0) * exp) / 3600 / 1000
        self.none_cost += (max(base_w, 0.0) * imp - max(-base_w, 0.0) * exp) / 3600 / 1000
        self.price_seconds += imp
        if self.seconds % 60 == 0:
            self.minutes.append([0.0, 0.0])
        self.minutes[-1][0 if grid_w > 0 else 1] += abs(grid_w) / 3600
        self.seconds += 1
        if battery_w > 0 and grid_w > 0:
            self.grid_charged_wh += min(battery_w, grid_w) / 3600

    def result(self, stored_change_wh: float) -> dict[str, float]:
        """The figures: the bill with the stored energy's change valued at the mean import price."""
        mean = self.price_seconds / self.seconds if self.seconds else 0.0
        return {"cost": round(self.cost - stored_change_wh / 1000 * mean, 3), "none_cost": round(self.none_cost, 3),
                "mean_import_price": round(mean, 5), "stored_change_kwh": round(stored_change_wh / 1000, 3),
                "grid_charged_kwh": round(self.grid_charged_wh / 1000, 3)}


def bill(minutes: list[list[float]], pricing: SimPricing, stored_change_wh: float) -> float:
    """What a run's grid flows (``CostMeter.minutes``) cost under another tariff, the stored energy's change
    valued at that tariff's mean import price over the run, as ``CostMeter.result`` does."""
    imports, exports = pricing.imports, pricing.exports
    total = price_sum = 0.0
    for i, (imported, exported) in enumerate(minutes):
        at = pricing.epoch0 + i * 60 + 30
        imp, exp = imports.at(at) or 0.0, exports.at(at) or 0.0
        total += (imported * imp - exported * exp) / 1000
        price_sum += imp
    mean = price_sum / len(minutes) if minutes else 0.0
    return round(total - stored_change_wh / 1000 * mean, 3)


def build_pricing(tariff_section: dict[str, Any], planner_section: dict[str, Any] | None, first: date,
                  household: Household, start_s: float) -> SimPricing:
    """The pricing of a run: ``first`` is the local date on which the load file's day 0 falls; the days before
    ``start_s`` become the planner's history. InvalidInputError for a tariff the simulation cannot bill."""
    tariff_config = validate_section(TariffConfig, tariff_section, "tariff")
    planner = None if planner_section is None else validate_section(PlannerConfig, planner_section, "planner")
    tariff = SiteTariff(tariff_config)
    if tariff_config.kind == "dynamic":
        if tariff_config.source != "file" or tariff_config.file is None:
            raise InvalidInputError('simulate takes day-ahead prices from a file (source = "file")')
        tariff.set_spot(read_file(tariff_config.file))
    elif tariff_config.kind == "tempo":
        tariff.set_colours(TempoColours.from_csv(Path(tariff_config.colours)).days)
    elif tariff_config.kind == "none":
        raise InvalidInputError("the tariff's kind is none: there is nothing to bill")
    day0 = local_at(first, 0, tariff.zone)
    history: list[tuple[float, float, float | None]] = []
    if isinstance(household, DayProfile):
        for step in range(int(start_s // HISTORY_STEP_S)):
            mean = sum(household.minute_base_w(m) for m in range(step * 5, step * 5 + 5)) / 5
            pv = sum(household.pv_minute_w(m) for m in range(step * 5, step * 5 + 5)) / 5
            history.append((day0 + step * HISTORY_STEP_S, mean, pv))
    return SimPricing(tariff, day0 + start_s, planner, history)


class SimPlanner:
    """The service's planning, in simulated time."""

    def __init__(self, pricing: SimPricing, site: Site, config: PlannerConfig) -> None:
        self.pricing = pricing
        self.site = site
        self.config = config
        self.history = HouseHistory(pricing.history if pricing.pv_ct else [(t, w) for t, w, _ in pricing.history])
        units = [rt.config for rt in site.units]
        self.capacity_wh = float(sum(u.capacity_wh for u in units))
        self.max_charge_w = float(sum(u.max_charge_w for u in units))
        self.max_discharge_w = float(sum(u.max_discharge_w for u in units))
        self.floor_pct = max(max(u.reserve_soc_pct, u.min_soc_pct) for u in units)
        self.ceiling_pct = min(u.max_soc_pct for u in units)
        self.grid_charge_w = most_power(self.max_charge_w, config.grid_charge_w, site.control.grid_import_limit_w)
        self.export_w = most_power(self.max_discharge_w, config.grid_export_w, site.control.grid_export_limit_w)
        self.steering = Steering([], pricing.tariff.zone, grid_charge_w=lambda: self.grid_charge_w,
                                 export_w=lambda: self.export_w, currency=pricing.tariff.config.currency,
                                 clock=site.wall_clock)
        site.steer = self.steering
        self.plans = 0
        self._bucket_start: float | None = None
        self._bucket_sum = self._bucket_pv = 0.0
        self._bucket_n = 0
        self._next_plan = -math.inf
        self._published = -math.inf
        self._next_check = -math.inf

    @property
    def plan(self) -> Plan | None:
        return self.steering.plan

    def second(self, t: float, base_w: float, pv_w: float) -> None:
        """One accounted second: the house's and the PV's power into their 5-minute means."""
        at = self.pricing.epoch0 + t - 1.0
        start = math.floor(at / HISTORY_STEP_S) * HISTORY_STEP_S
        if self._bucket_start is not None and start != self._bucket_start and self._bucket_n:
            self.history.add(self._bucket_start, self._bucket_sum / self._bucket_n,
                             self._bucket_pv / self._bucket_n if self.pricing.pv_ct else None)
            self._bucket_sum, self._bucket_pv, self._bucket_n = 0.0, 0.0, 0
        self._bucket_start = start
        self._bucket_sum += base_w
        self._bucket_pv += pv_w
        self._bucket_n += 1

    def maybe_plan(self, t: float) -> None:
        """Re-plan when it is time, when prices came out, or when the SoC left the plan."""
        now = self.pricing.epoch0 + t
        published = self.pricing.tariff.published_until(now)
        due = now >= self._next_plan or published > self._published
        if not due and now >= self._next_check:
            self._next_check = now + DEPARTURE_CHECK_S
            due = self.plan is not None and \
                self.plan.departed(now, self.site.site_soc_pct(), self.config.replan_soc_pct)
        if not due:
            return
        soc = self.site.site_soc_pct()
        if soc is None:
            return
        bank = bank_from(self.capacity_wh, soc, self.floor_pct, self.ceiling_pct, self.max_charge_w,
                         self.max_discharge_w, self.grid_charge_w, self.config,
                         allow_discharge=self.site.mode.allow_discharge, grid_export_w=self.export_w)
        pv = self.pricing.pv_forecast(now) if self.pricing.pv_forecast is not None else None
        past, _ = learning_history(self.history, pv, now - self.config.history_days * 86400, now)
        self.steering.plan = make_plan(self.pricing.tariff, past, bank, now, self.config, known_until=published,
                                       pv=pv)
        self.plans += 1
        self._published = published
        self._next_plan = (math.floor(now / REPLAN_S) + 1) * REPLAN_S
