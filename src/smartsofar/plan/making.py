"""Making a plan from the site's tariff, its history and its batteries: the slots, their prices (published or
estimated), the forecast, then ``plan.planner``, its grid charging hedged on each recent day (``plan.hedge``).
Used by the service's planning task and by the simulation, so both plan the same way from the same inputs.

Beyond what is published, prices are estimated from the same hour a day earlier (or the latest known price),
so a plan made at 09:00 still sees a whole day; it is re-made when the real prices come out.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from smartsofar.config_tariff import PlannerConfig
from smartsofar.plan.forecast import HouseHistory, SlotForecast, forecast, scenarios
from smartsofar.plan.hedge import hedge
from smartsofar.plan.planner import Bank, Plan, PlanInput, plan, solve
from smartsofar.plan.pv_forecast import PvCurve
from smartsofar.tariff.site_tariff import SiteTariff

DAY_S = 86400.0


def slot_edges(now: float, horizon_s: float, slot_s: float) -> list[tuple[float, float]]:
    """Slots from ``now`` (the first one cut to the next boundary) over the horizon."""
    edges = []
    start = now
    boundary = math.floor(now / slot_s) * slot_s + slot_s
    while start < now + horizon_s - 1e-6:
        end = min(boundary, now + horizon_s)
        if end - start > 1.0:
            edges.append((start, end))
        start, boundary = end, boundary + slot_s
    return edges


def _price(curve_at: float | None, earlier: float | None, fallback: float) -> tuple[float, bool]:
    if curve_at is not None:
        return curve_at, False
    if earlier is not None:
        return earlier, True
    return fallback, True


def make_plan(tariff: SiteTariff, history: HouseHistory, bank: Bank, now: float, config: PlannerConfig,
              *, known_until: float | None = None, pv: PvCurve | None = None) -> Plan:
    """The plan from ``now``; ``known_until`` hides prices published later (the simulation's rule); ``pv`` is the
    PV forecast, if there is one."""
    edges = plan_slots(now, config)
    predicted = forecast(history, edges, tariff.zone, days=config.history_days, now=now, pv=pv)
    inputs = priced_inputs(tariff, predicted, now, config, known_until)
    if inputs is None:
        return Plan(now, (), 0.0, 0.0, 0.0, ("no prices known for now",))
    if not inputs:
        return plan(bank, inputs, now)
    days = scenarios(history, predicted, tariff.zone, days=config.history_days, now=now, pv=pv)
    return hedge(bank, inputs, solve(bank, inputs), days, now)


def plan_slots(now: float, config: PlannerConfig) -> list[tuple[float, float]]:
    """The (start, end) of each slot a plan made at ``now`` covers."""
    return slot_edges(now, config.horizon_h * 3600, config.slot_min * 60)


def priced_inputs(tariff: SiteTariff, predicted: Sequence[SlotForecast], now: float, config: PlannerConfig,
                  known_until: float | None = None) -> list[PlanInput] | None:
    """Each forecast slot with its prices: published ones where they are known (and published before
    ``known_until``), else estimated. None when no price is known for now."""
    horizon = config.horizon_h * 3600
    limit = now + horizon if known_until is None else min(now + horizon, known_until)
    look_back = now - 2 * DAY_S
    imports = tariff.import_prices(look_back, limit)
    exports = tariff.export_prices(look_back, limit)
    if not tariff.import_prices(now, limit):
        return None
    last_import = imports.slots[-1].price
    last_export = exports.slots[-1].price if exports else 0.0
    inputs = []
    for f in predicted:
        mid = (f.start + f.end) / 2
        known = mid < limit
        imp, guessed = _price(imports.at(mid) if known else None, imports.at(mid - DAY_S), last_import)
        exp, _ = _price(exports.at(mid) if known else None, exports.at(mid - DAY_S), last_export)
        inputs.append(PlanInput(f, imp, exp, guessed))
    return inputs


def most_power(units_w: float, cap_w: int | None, grid_limit_w: int | float | None) -> float:
    """The most the batteries may move to or from the grid: the units' total, the planner's cap, the grid's limit."""
    return min(units_w, math.inf if cap_w is None else float(cap_w),
               math.inf if grid_limit_w is None else float(grid_limit_w))


def bank_from(capacity_wh: float, soc_pct: float, floor_pct: float, ceiling_pct: float, max_charge_w: float,
              max_discharge_w: float, grid_charge_w: float, config: PlannerConfig,
              allow_discharge: bool = True, grid_export_w: float = 0.0) -> Bank:
    """The bank from site totals and the planner's settings (``grid_export_w``: the most the batteries may
    export at, which counts only when the planner may export)."""
    one_way = math.sqrt(config.round_trip_efficiency)
    return Bank(capacity_wh=capacity_wh, energy_wh=capacity_wh * soc_pct / 100, floor_wh=capacity_wh * floor_pct / 100,
                ceiling_wh=capacity_wh * ceiling_pct / 100, max_charge_w=max_charge_w,
                max_discharge_w=max_discharge_w, grid_charge_w=grid_charge_w if config.grid_charge else 0.0,
                grid_export_w=grid_export_w if config.grid_export else 0.0,
                charge_efficiency=one_way, discharge_efficiency=one_way, allow_discharge=allow_discharge)
