"""Benchmark: bills under real tariffs, with no battery, with zero export only, with our planner, and with the
perfect-foresight optimum of the same batteries.

    .venv/bin/python bench/tariffs.py                          # everything, printed
    .venv/bin/python bench/tariffs.py --write docs/benchmarks.md

Sites: the three 14-day files of ``../shared/data/weeks`` (a Monday to a Sunday twice). The first week is the
planner's history; the second is simulated second by second through ``smartsofar.sim.simulate`` (the real
engine, 2 units of 4.8 kWh and 3 kW from 50 % SoC, 0.95 one-way efficiency, the default configuration but for
``[planner] grid_export = true``: the site may export from its batteries where a price pays for it) and
billed. Each tariff maps the files' Monday onto a real Monday of its price series (``TARIFFS``). Feed-in pays
nothing. Every bill values the change of stored energy over the week at the week's mean import price.

- ``none``: the house with no battery.
- ``zero export``: today's auto mode, no plan (one run per site, billed under each tariff).
- ``planner``: auto mode steered by the plan (``smartsofar.plan``), which sees only the past week's load and
  the prices published so far (tomorrow's at 13:00 for day-ahead, 16:00 for Agile, 11:00 for Tempo colours).
- ``planner + PV forecast``: the same, with a PV forecast for today and tomorrow as Forecast.Solar's free
  service gives one (hourly points), made from the PV the file measured: ``exact`` is that PV itself (what no
  real forecast reaches: the most a PV forecast can add), ``±30 %`` scales each day's by a random factor
  (lognormal, sigma 0.3, the same seed in every run), an assumed day-ahead error, not a measured one. No archived
  forecast exists for the files' days. The past days' PV is measured by a PV CT, except in ``±30 %, no PV CT``:
  there the planner's history has no PV, and the forecasts kept for the past days stand for it
  (``plan.forecast.learning_history``), each day as forecast that day.
- ``optimum``: a linear programme (SciPy's HiGHS) over the week's true minute loads and prices, with the
  batteries' power, the BMS's 5 %..100 % and the efficiency: it knows the future and tracks perfectly, so it
  bounds what any controller can save. A minute imports or exports, not both (a binary per price interval
  where the import price is below the feed-in price, which makes it a small MILP there).

``capture`` = (zero export − planner) / (zero export − optimum).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import math
import os
import random
import sys
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from markers import write_between_markers
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import coo_matrix

from smartsofar.plan.pv_forecast import PvCurve, PvInterval
from smartsofar.sim.controllers import simulate
from smartsofar.sim.household import DayProfile
from smartsofar.sim.pricing import SimPricing, bill, build_pricing
from smartsofar.sim.simulate import Scenario, Simulation

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
PRICES = SHARED / "prices"
HISTORY_DAYS = 7
UNITS, CAPACITY_WH, POWER_W, EFFICIENCY, FLOOR_PCT, START_SOC = 2, 4800.0, 3000.0, 0.95, 5.0, 50.0
SITES = {"2007-01-08": "winter", "2007-07-02": "summer", "2007-10-01": "autumn"}  # file -> season
# tariff -> (the [tariff] section, {season: the price series' Monday on which the files' day 0 falls})
TEMPO_2023_08 = {"blue_hc": 0.1056, "blue_hp": 0.1369, "white_hc": 0.1246, "white_hp": 0.1654, "red_hc": 0.1328,
                 "red_hp": 0.7324}  # tariffs.md, valid 2023-08-01 .. 2024-01-31
TEMPO_2024_02 = {"blue_hc": 0.1296, "blue_hp": 0.1609, "white_hc": 0.1486, "white_hp": 0.1894, "red_hc": 0.1568,
                 "red_hp": 0.7562}  # valid 2024-02-01 .. 2025-01-31
TARIFFS: dict[str, tuple[dict[str, Any], dict[str, str]]] = {
    "Tempo (EDF)": ({"kind": "tempo", "timezone": "Europe/Paris", "colours": str(PRICES / "tempo_days.csv"),
                     "publish_hour": 11.0}, {"winter": "2024-01-08", "summer": "2024-07-01", "autumn": "2023-10-02"}),
    "Heures Creuses 22-06 (EDF 2024-02)": ({"kind": "time_of_use", "timezone": "Europe/Paris", "price": 0.2700,
                                            "preset": "heures_creuses", "offpeak_price": 0.2068},
                                           {"winter": "2024-02-05", "summer": "2024-07-01", "autumn": "2024-09-30"}),
    "DE-LU day-ahead + 0.20 €/kWh": ({"kind": "dynamic", "timezone": "Europe/Berlin", "source": "file",
                                      "file": str(PRICES / "de_lu_dayahead_2024_2025.csv"), "adder": 0.20},
                                     {"winter": "2024-01-08", "summer": "2024-07-01", "autumn": "2024-09-30"}),
    "Octopus Agile (region J)": ({"kind": "dynamic", "timezone": "Europe/London", "source": "file", "currency": "GBP",
                                  "file": str(PRICES / "gb_octopus_agile_J_2020_2024.csv"), "publish_hour": 16.0},
                                 {"winter": "2023-01-09", "summer": "2023-07-03", "autumn": "2023-10-02"}),
}
PLANNER = {"grid_export": True}  # [planner]: the default but for this (off by default: not every connection may)
# the PV forecast: its daily error (lognormal sigma), and whether a PV CT measures the past days' PV
PV_FORECASTS = {"exact": (0.0, True), "±30 %": (0.3, True), "±30 %, no PV CT": (0.3, False)}
Job = tuple[str, str, str]  # (site file stem, tariff name or "" for zero export, PV forecast or "")
COMMAND = ".venv/bin/python bench/tariffs.py --write docs/benchmarks.md"
RUN = ".venv/bin/python bench/tariffs.py --json FILE"
RENDER = ".venv/bin/python bench/tariffs.py --table-from FILE --write docs/benchmarks.md"


def _tempo_prices(first: str) -> dict[str, float]:
    return TEMPO_2024_02 if first >= "2024-02-01" else TEMPO_2023_08


def pricing(site: str, tariff: str, planner: bool) -> tuple[DayProfile, SimPricing]:
    """The house and the pricing of one site under one tariff."""
    household = DayProfile.from_csv(SHARED / "weeks" / f"{site}_14d.csv")
    section, dates = TARIFFS[tariff]
    section = dict(section)
    first = dates[SITES[site]]
    if section["kind"] == "tempo":
        section["tempo"] = _tempo_prices(first)
    return household, build_pricing(section, PLANNER if planner else None, date.fromisoformat(first), household,
                                    HISTORY_DAYS * 86400.0)


def pv_forecast(household: DayProfile, day0: float, sigma: float) -> Callable[[float], PvCurve]:
    """The PV forecast as the service keeps it at an epoch (``plan.pv_feed``): each past day as forecast on that
    day, then today's and tomorrow's hourly points (local days), from the measured PV, each day's scaled by its
    own random factor."""
    rng = random.Random(2007)
    factors = [math.exp(rng.gauss(0.0, sigma)) if sigma else 1.0 for _ in range(household.days + 2)]
    hours = [PvInterval(day0 + hour * 3600.0, day0 + hour * 3600.0 + 3600,
                        sum(household.pv_minute_w(m) for m in range(hour * 60, hour * 60 + 60)) / 60
                        * factors[hour // 24]) for hour in range(household.days * 24)]

    def known_at(now: float) -> PvCurve:
        return PvCurve(hours[:max(0, min(household.days, int((now - day0) // 86400) + 2) * 24)])

    return known_at


def _scenario(site: str, tariff: str, planner: bool, forecast: str = "") -> Scenario:
    household, priced = pricing(site, tariff, planner)
    if forecast:
        sigma, priced.pv_ct = PV_FORECASTS[forecast]
        priced.pv_forecast = pv_forecast(household, priced.epoch0 - HISTORY_DAYS * 86400, sigma)
    return Scenario(household, units=UNITS, soc_pct=START_SOC, start_s=HISTORY_DAYS * 86400.0,
                    duration_s=7 * 86400.0, pricing=priced)


def _run(job: Job) -> dict[str, Any]:
    """One engine run: the planner under a tariff, or zero export billed under every tariff."""
    site, tariff, forecast = job
    logging.getLogger("smartsofar").setLevel(logging.CRITICAL)
    if tariff:
        result = asyncio.run(simulate(_scenario(site, tariff, planner=True, forecast=forecast)))
        return {"site": site, "tariff": tariff, "pv_forecast": forecast, "planner": result["cost"],
                "none": result["none_cost"],
                "grid_charged_kwh": result["grid_charged_kwh"], "capture_zero_export": result["capture"],
                "plans": result.get("plans_made"), "wall_s": result["wall_s"]}
    first = next(iter(TARIFFS))
    scenario = _scenario(site, first, planner=False)
    sim = Simulation(scenario)
    out: dict[str, Any] = {"site": site, "tariff": "", "zero_export": {}}
    asyncio.run(_zero_export(sim))
    assert sim.costs is not None
    stored = sim.stored_wh() - sim.stored_at_start_wh
    for name in TARIFFS:
        _, priced = pricing(site, name, planner=False)
        priced.cover(scenario.duration_s)
        out["zero_export"][name] = bill(sim.costs.minutes, priced, stored)
    out["capture"] = sim.metrics.result(sim.commands)["capture"]
    return out


async def _zero_export(sim: Simulation) -> None:
    from smartsofar.sim.simulate import run_smartsofar
    await sim.sleep(1.0)
    await run_smartsofar(sim)


def _widen(matrix: coo_matrix, width: int) -> Any:
    """The matrix with zero columns added up to ``width`` (for the binaries)."""
    return coo_matrix((matrix.data, (matrix.row, matrix.col)), shape=(matrix.shape[0], width)).tocsr()


def optimum(site: str, tariff: str) -> float:
    """The perfect-foresight bill: a linear programme over the scored week's minutes (mixed-integer where a
    negative import price would otherwise pay to import and export in the same minute)."""
    household, priced = pricing(site, tariff, planner=False)
    minutes = 7 * 1440
    priced.cover(minutes * 60.0)
    first = HISTORY_DAYS * 1440
    base = np.array([household.minute_base_w(first + i) / 60 for i in range(minutes)])  # Wh per minute
    imp = np.array([priced.imports.at(priced.epoch0 + i * 60 + 30) or 0.0 for i in range(minutes)]) / 1000
    exp = np.array([priced.exports.at(priced.epoch0 + i * 60 + 30) or 0.0 for i in range(minutes)]) / 1000
    capacity = UNITS * CAPACITY_WH
    step = UNITS * POWER_W / 60
    n = minutes
    # variables: charge c, discharge d (AC Wh), import i, export x, energy e (after each minute)
    c, d, i_, x, e = (np.arange(n) + k * n for k in range(5))
    terms = [(np.arange(n), var, np.full(n, sign))  # base + c - d - i + x = 0
             for var, sign in ((c, 1.0), (d, -1.0), (i_, -1.0), (x, 1.0))]
    terms += [(n + np.arange(n), var, np.full(n, coef))  # e_t - e_{t-1} - η c + d/η = 0
              for var, coef in ((e, 1.0), (c, -EFFICIENCY), (d, 1 / EFFICIENCY))]
    terms.append((n + np.arange(1, n), e[:-1], np.full(n - 1, -1.0)))
    rows, cols, vals = zip(*terms, strict=True)
    a_eq = coo_matrix((np.concatenate(vals), (np.concatenate(rows), np.concatenate(cols))), shape=(2 * n, 5 * n))
    # One connection point: what is imported goes to the house or into the batteries, what is exported comes from
    # the house's surplus or out of them (without this, a negative price would pay to import and export at once).
    limits = [(np.arange(n), i_, np.ones(n)), (np.arange(n), c, -np.ones(n)),
              (n + np.arange(n), x, np.ones(n)), (n + np.arange(n), d, -np.ones(n))]
    ub_rows, ub_cols, ub_vals = zip(*limits, strict=True)
    a_ub = coo_matrix((np.concatenate(ub_vals), (np.concatenate(ub_rows), np.concatenate(ub_cols))),
                      shape=(2 * n, 5 * n))
    b_ub = np.concatenate([np.maximum(base, 0.0), np.maximum(-base, 0.0)])
    e0 = capacity * START_SOC / 100
    b_eq = np.concatenate([-base, np.r_[e0, np.zeros(n - 1)]])
    mean = float(imp.mean())
    cost = np.concatenate([np.zeros(n), np.zeros(n), imp, -exp, np.zeros(n)])
    cost[e[-1]] -= mean  # the energy left is worth the mean import price, as in every bill
    lower = np.concatenate([np.zeros(4 * n), np.full(n, capacity * FLOOR_PCT / 100)])
    upper = np.concatenate([np.full(2 * n, step), np.full(2 * n, np.inf), np.full(n, capacity)])
    # A meter measures one flow at a time. Where importing pays more than exporting (a negative import price),
    # the limits above still let a minute import into the batteries while it exports the house's surplus, paid
    # for both: there a binary per price interval picks one direction (import or export) for the interval,
    # which makes the programme a small MILP.
    both = np.flatnonzero(imp < exp)
    blocks = np.cumsum(np.r_[1, (np.diff(both) != 1) | (np.diff(imp[both]) != 0)]) - 1 if len(both) else both
    k, m = len(both), int(blocks[-1]) + 1 if len(both) else 0
    big_in, big_out = np.maximum(base, 0.0) + step, np.maximum(-base, 0.0) + step
    z = 5 * n + blocks
    one_way = coo_matrix((np.concatenate([np.ones(k), -big_in[both], np.ones(k), big_out[both]]),
                          (np.concatenate([np.arange(k)] * 2 + [k + np.arange(k)] * 2),
                           np.concatenate([i_[both], z, x[both], z]))), shape=(2 * k, 5 * n + m))
    width = 5 * n + m
    constraints = [LinearConstraint(_widen(a_eq, width), b_eq, b_eq),
                   LinearConstraint(_widen(a_ub, width), -np.inf, b_ub)]
    if k:
        constraints.append(LinearConstraint(one_way.tocsr(), -np.inf, np.concatenate([np.zeros(k), big_out[both]])))
    solved = milp(np.concatenate([cost, np.zeros(m)]), constraints=constraints,
                  integrality=np.concatenate([np.zeros(5 * n), np.ones(m)]),
                  bounds=Bounds(np.concatenate([lower, np.zeros(m)]), np.concatenate([upper, np.ones(m)])),
                  options={"mip_rel_gap": 1e-5})
    if not solved.success:
        raise RuntimeError(f"the optimum failed on {site} / {tariff}: {solved.message}")
    return round(float(solved.fun) + mean * e0, 3)


def run_all(workers: int) -> list[dict[str, Any]]:
    """The optima (quick: a solver that fails, fails first), then every engine run on ``workers`` processes."""
    optima = {(site, tariff): optimum(site, tariff) for site in SITES for tariff in TARIFFS}
    jobs: list[Job] = [(site, "", "") for site in SITES] + [(site, t, f) for site in SITES for t in TARIFFS
                                                            for f in ("", *PV_FORECASTS)]
    with ProcessPoolExecutor(workers) as pool:
        results = list(pool.map(_run, jobs))
    for site in SITES:
        zero = next(r for r in results if r["site"] == site and not r["tariff"])
        for r in results:
            if r["site"] == site and r["tariff"]:
                r["zero_export"] = zero["zero_export"][r["tariff"]]
                r["optimum"] = optima[(site, r["tariff"])]
                gap = r["zero_export"] - r["optimum"]
                r["capture"] = round((r["zero_export"] - r["planner"]) / gap, 3) if gap > 1e-6 else None
    return [r for r in results if r["tariff"]]


def _capture(results: list[dict[str, Any]], tariff: str, site: str, forecast: str) -> str:
    r = next((x for x in results if x["site"] == site and x["tariff"] == tariff
              and x.get("pv_forecast", "") == forecast), None)
    if r is None:
        return "-"
    return "n/a" if r["capture"] is None else f"{100 * r['capture']:.0f} %"


def by_kind(results: list[dict[str, Any]], forecast: str = "") -> dict[str, float | None]:
    """Each tariff's capture over its three weeks together: (zero export − planner) / (zero export − optimum),
    each summed over the weeks."""
    out: dict[str, float | None] = {}
    for tariff in TARIFFS:
        rows = [r for r in results if r["tariff"] == tariff and r.get("pv_forecast", "") == forecast]
        gap = sum(r["zero_export"] - r["optimum"] for r in rows)
        out[tariff] = round(sum(r["zero_export"] - r["planner"] for r in rows) / gap, 3) if rows and gap > 1e-6 \
            else None
    return out


def table(results: list[dict[str, Any]]) -> str:
    """The markdown tables: every week, then each tariff's three weeks together."""
    forecasts = [f for f in PV_FORECASTS if any(r.get("pv_forecast") == f for r in results)]
    rows = ["| tariff | site (week scored) | no battery | zero export | planner | optimum | capture | grid-charged "
            "kWh | planner ≤ zero export | " + " | ".join(f"capture, PV forecast {f}" for f in forecasts) + " |",
            "|---|---|---:|---:|---:|---:|---:|---:|---|" + "---:|" * len(forecasts)]
    for tariff in TARIFFS:
        for site in SITES:
            r = next(x for x in results if x["site"] == site and x["tariff"] == tariff
                     and not x.get("pv_forecast"))
            currency = "£" if "Agile" in tariff else "€"
            cheaper = "yes" if r["planner"] <= r["zero_export"] + 0.005 else "NO"
            rows.append(f"| {tariff} | {SITES[site]} ({TARIFFS[tariff][1][SITES[site]]} +7 d) | {r['none']:.2f} "
                        f"{currency} | {r['zero_export']:.2f} | {r['planner']:.2f} | {r['optimum']:.2f} | "
                        f"{_capture(results, tariff, site, '')} | {r['grid_charged_kwh']:.1f} | {cheaper} | "
                        + " | ".join(_capture(results, tariff, site, f) for f in forecasts) + " |")
    kinds = {f: by_kind(results, f) for f in ("", *forecasts)}
    rows += ["", "| tariff, three weeks together | capture | " + " | ".join(f"capture, PV forecast {f}"
                                                                        for f in forecasts) + " |",
             "|---|---:|" + "---:|" * len(forecasts)]
    for tariff in TARIFFS:
        cells = [kinds[f][tariff] for f in ("", *forecasts)]
        rows.append(f"| {tariff} | " + " | ".join("n/a" if c is None else f"{100 * c:.0f} %" for c in cells) + " |")
    return "\n".join(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--write", type=Path, help="put the table into this markdown file")
    parser.add_argument("--json", type=Path, help="also save every figure as JSON")
    parser.add_argument("--table-from", type=Path, help="print (and --write) the table of a run saved with --json")
    args = parser.parse_args()
    if args.table_from:
        text = table(json.loads(args.table_from.read_text(encoding="utf-8")))
        print(text)
        if args.write:
            write_between_markers(args.write, "tariffs.py", f"Measured with `{RUN}`, the table written with "
                                  f"`{RENDER}`.\n\n{text}")
        return 0
    if not (SHARED / "weeks").is_dir() or not PRICES.is_dir():
        print(f"bench/tariffs.py needs the shared data: {SHARED / 'weeks'} and {PRICES} are missing", file=sys.stderr)
        return 2
    results = run_all(args.workers)
    text = table(results)
    print(text)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    if args.write:
        write_between_markers(args.write, "tariffs.py", f"Measured with `{COMMAND}`.\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
