"""Benchmark: what the planner could save if it knew the future, against the perfect-foresight optimum.

    .venv/bin/python bench/planner_ceiling.py
    .venv/bin/python bench/planner_ceiling.py --write docs/benchmarks.md

``bench/tariffs.py`` measures the planner as it runs: it forecasts the house from its past days. This separates
the two things its gap to the optimum can come from. For each week and tariff of ``bench/tariffs.py`` (the same
houses, prices, batteries, limits and efficiency), the planner's own programme (``smartsofar.plan.planner``,
15-minute slots, its energy levels and actions) is given the week's true house power, minute by minute summed
into each slot's need and surplus, and the true prices, and plans the whole week at once, the energy left at the
end valued as the bills value it (the week's mean import price per stored kWh). Its bill is computed in the
same slot model. No engine runs: tracking is perfect, as in the optimum.

- ``zero export``: every slot normal (the batteries cover the house and take its surplus).
- ``planner, future known``: the programme's plan, with and without exporting from the batteries
  (``[planner] grid_export``).
- ``36 h at a time``: the house still known, but planned as the service plans (exports allowed): every hour,
  over its 36 h horizon, with the prices published by then and the later ones estimated, the energy left at the
  horizon's end valued as the planner values it (the horizon's cheapest import price); each plan's first hour
  is followed, as the steering follows it. Its slots past the file's last day are the same minutes a week
  earlier. What this misses, the running planner misses by its horizon and by not knowing where the bill ends,
  whatever its forecast.
- ``knowing the bill's end``: the same, but each plan stops where the week's bill stops and values the energy
  left as the bill does (the week's mean import price). No service can know this: it tells the two apart.
- ``forecast from past days``: planned as the service plans, from its forecast of the house (the past days it
  has kept, hedged: ``plan.making.make_plan``, no PV forecast), each plan's first hour followed against what the
  house really did. The same planner as ``bench/tariffs.py``'s, without the engine: what the engine's tracking
  and steering cost is the difference between the two.
- ``optimum``: ``bench/tariffs.py``'s linear programme.

The third table shows what a better hedge could add: the same forecasts (none, or the PV forecast with a PV
CT), each plan's grid charging stopped at the top that the house's true power over the plan's horizon says is
best (of ``HINDSIGHT_TOPS`` steps of the bank, or none) instead of the top the hedge picks from the past days.
No service can know that top: what stays missing there, the forecast's own shape misses (when it plans to
charge, hold or discharge at all). Each top is the best for its own plan, not for the week: not a strict bound.

``share`` = (zero export − planner) / (zero export − optimum): the part of the optimum's saving the planner's
programme reaches when the forecast is perfect. What it misses, it misses by its model (slots, energy levels,
actions); what ``36 h at a time`` misses beyond it, by its horizon; what ``forecast from past days`` misses
beyond that, by its forecast. A share above 100 % is the slot model's: within 15 minutes it may import and
export, where the optimum's minutes may not when the import price is negative.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from markers import write_between_markers

from smartsofar.config_tariff import PlannerConfig
from smartsofar.plan.forecast import HouseHistory, SlotForecast, forecast, learning_history
from smartsofar.plan.making import bank_from, make_plan, plan_slots, priced_inputs, slot_edges
from smartsofar.plan.planner import Action, Bank, Plan, PlanInput, plan, policy_cost, solve, step, walk
from smartsofar.plan.pv_forecast import PvCurve

ROOT = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("tariffs", ROOT / "tariffs.py")
assert _spec is not None and _spec.loader is not None
tariffs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tariffs)
COMMAND = ".venv/bin/python bench/planner_ceiling.py --write docs/benchmarks.md"
PV_ERROR = "±30 %"  # the PV forecast of the second and third tables: bench/tariffs.py's
HINDSIGHT_TOPS = 16  # grid-charge tops tried in hindsight, steps of the bank (the hedge tries 8)
WEEK_S = 7 * 86400.0


def _true_slot(household: Any, epoch0: float, start: float, end: float) -> SlotForecast:
    """What the house really drew and gave back in a slot of the scored week (a slot beyond the file's last day:
    the same minutes a week earlier)."""
    first = tariffs.HISTORY_DAYS * 1440
    need = surplus = 0.0
    for minute in range(int((start - epoch0) // 60), math.ceil((end - epoch0) / 60)):
        index = first + minute
        if index >= household.days * 1440:
            index -= 7 * 1440
        wh = household.minute_base_w(index) / 60
        need, surplus = need + max(wh, 0.0), surplus + max(-wh, 0.0)
    return SlotForecast(start, end, need, surplus)


def _inputs(site: str, tariff: str) -> tuple[list[PlanInput], float]:
    """The week's slots with their true need, surplus and prices, and the week's mean import price."""
    household, priced = tariffs.pricing(site, tariff, planner=False)
    priced.cover(WEEK_S)
    epoch0 = priced.epoch0
    slot_s = PlannerConfig().slot_min * 60
    inputs = []
    for start, end in slot_edges(epoch0, WEEK_S, slot_s):
        mid = (start + end) / 2
        inputs.append(PlanInput(_true_slot(household, epoch0, start, end), priced.imports.at(mid) or 0.0,
                                priced.exports.at(mid) or 0.0))
    minutes = [priced.imports.at(epoch0 + m * 60 + 30) or 0.0 for m in range(int(WEEK_S // 60))]
    return inputs, sum(minutes) / len(minutes)


def _bank(export: bool) -> Bank:
    config = PlannerConfig(grid_export=export, round_trip_efficiency=tariffs.EFFICIENCY ** 2)
    power = tariffs.UNITS * tariffs.POWER_W
    return bank_from(tariffs.UNITS * tariffs.CAPACITY_WH, tariffs.START_SOC, tariffs.FLOOR_PCT, 100.0, power, power,
                     power, config, grid_export_w=power)


def _bill(bank: Bank, inputs: list[PlanInput], mean: float, action: Action | None) -> float:
    """The week's bill in the slot model: the programme's plan (``action`` None) or that action throughout."""
    policy = solve(bank, inputs, end_value_per_kwh=mean)
    if action is not None:
        policy.choices[:] = [[(action, 0.0)] * len(policy.levels) for _ in inputs]
    return round(policy_cost(bank, inputs, policy), 3)


def _follow(bank: Bank, energy: float, made: Plan, index: int, truth: SlotForecast) -> tuple[float, float, float]:
    """One slot of a plan as the steering runs it (``engine.steering``: a grid charge up to the run's highest
    planned SoC, an export down to its lowest), against what the house really did: (energy, import Wh, export
    Wh)."""
    slot = made.slots[index]
    _, last = made.run_bounds(index)
    run = [later.energy_end_wh for later in made.slots[index:last + 1]]
    fraction, top = 0.0, math.inf
    if slot.action is Action.CHARGE:
        fraction, top = slot.grid_charge_w / bank.grid_charge_w, max(run)
    elif slot.action is Action.EXPORT:
        fraction = slot.export_w / bank.grid_export_w
        bank = replace(bank, floor_wh=max(bank.floor_wh, min(run)))
    return step(bank, energy, PlanInput(truth, 0.0, 0.0), slot.action, fraction, top)


def _hour_rows(household: Any, epoch0: float, hour: int, pv_ct: bool) -> list[tuple[float, float, float | None]]:
    """The scored week's hour ``hour`` as the service keeps it: 5-minute means of the house's power, and of the
    PV's where a PV CT measures it."""
    first = tariffs.HISTORY_DAYS * 1440
    rows: list[tuple[float, float, float | None]] = []
    for m0 in range(hour * 60, hour * 60 + 60, 5):
        minutes = range(first + m0, first + m0 + 5)
        rows.append((epoch0 + m0 * 60, sum(household.minute_base_w(m) for m in minutes) / 5,
                     sum(household.pv_minute_w(m) for m in minutes) / 5 if pv_ct else None))
    return rows


def _hindsight_top(household: Any, epoch0: float, priced_tariff: Any, past: HouseHistory, bank: Bank, now: float,
                   config: PlannerConfig, known_until: float | None, pv: PvCurve | None) -> Plan:
    """``make_plan``'s plan from the same forecast, its grid charging stopped where the house's true power over the
    horizon says it is best (of ``HINDSIGHT_TOPS`` tops or none), not where the hedge says."""
    predicted = forecast(past, plan_slots(now, config), priced_tariff.zone, days=config.history_days, now=now, pv=pv)
    inputs = priced_inputs(priced_tariff, predicted, now, config, known_until)
    assert inputs, "the benchmark's prices cover every hour"
    policy = solve(bank, inputs)
    truth = [replace(i, forecast=_true_slot(household, epoch0, i.forecast.start, i.forecast.end)) for i in inputs]
    tops = [bank.floor_wh + k * (bank.ceiling_wh - bank.floor_wh) / HINDSIGHT_TOPS for k in range(HINDSIGHT_TOPS)]
    best = min([*tops, math.inf], key=lambda top: (policy_cost(bank, truth, policy, top), -top))
    return walk(bank, inputs, policy, now, best)


def _rolling(site: str, tariff: str, mean: float, mode: str, hindsight: bool = False) -> float:
    """The week's bill when the planner plans as the service does (every hour, over its horizon, with the prices
    published by then and the others estimated, ``plan.making.priced_inputs``) and each plan's first hour is
    followed. ``mode``: ``known``, from the house's true power instead of its forecast; ``knows_end``, the same,
    each plan stopped where the week's bill stops and the energy left valued as the bill values it;
    ``forecast``, from the forecast of the past days, hedged, as the service plans (``plan.making.make_plan``);
    ``pv_ct`` and ``no_pv_ct``, the same with a PV forecast (``PV_ERROR``), the PV of the past days measured by
    a PV CT, or not measured and taken from the forecasts kept (``plan.forecast.learning_history``).
    ``hindsight``: with a forecast, the grid charge's top chosen by the true house (``_hindsight_top``)."""
    household, priced = tariffs.pricing(site, tariff, planner=True)
    priced.cover(WEEK_S)
    base = _bank(True)
    config = PlannerConfig(grid_export=True, round_trip_efficiency=tariffs.EFFICIENCY ** 2)
    pv_ct = mode != "no_pv_ct"
    rows = [(ts, w, pv if pv_ct else None) for ts, w, pv in priced.history]
    kept_at = tariffs.pv_forecast(household, priced.epoch0 - tariffs.HISTORY_DAYS * 86400,
                                  tariffs.PV_FORECASTS[PV_ERROR][0]) if mode in ("pv_ct", "no_pv_ct") else None
    energy, cost = base.energy_wh, 0.0
    for hour in range(int(WEEK_S // 3600)):
        now = priced.epoch0 + hour * 3600
        bank = replace(base, energy_wh=energy)
        known_until = priced.tariff.published_until(now)
        if mode in ("known", "knows_end"):
            truth = [_true_slot(household, priced.epoch0, start, end) for start, end in plan_slots(now, config)]
            inputs = priced_inputs(priced.tariff, truth, now, config, known_until)
            assert inputs, "the benchmark's prices cover every hour"
            if mode == "knows_end":
                inputs = [i for i in inputs if i.end <= priced.epoch0 + WEEK_S + 1.0]
                made = walk(bank, inputs, solve(bank, inputs, end_value_per_kwh=mean), now)
            else:
                made = plan(bank, inputs, now)
        else:
            if hour:
                rows += _hour_rows(household, priced.epoch0, hour - 1, pv_ct)
            pv = kept_at(now) if kept_at else None
            past, _ = learning_history(HouseHistory(rows), pv, now - config.history_days * 86400, now)
            made = _hindsight_top(household, priced.epoch0, priced.tariff, past, bank, now, config, known_until, pv) \
                if hindsight else make_plan(priced.tariff, past, bank, now, config, known_until=known_until, pv=pv)
        for i, slot in enumerate(made.slots):
            if slot.start >= now + 3600 - 1.0:
                break
            energy, imported, exported = _follow(bank, energy, made, i,
                                                 _true_slot(household, priced.epoch0, slot.start, slot.end))
            mid = (slot.start + slot.end) / 2
            cost += (imported * (priced.imports.at(mid) or 0.0) - exported * (priced.exports.at(mid) or 0.0)) / 1000
    return round(cost - mean * (energy - base.energy_wh) / 1000, 3)


def _run(job: tuple[str, str]) -> dict[str, Any]:
    site, tariff = job
    inputs, mean = _inputs(site, tariff)
    zero = _bill(_bank(False), inputs, mean, Action.NORMAL)
    return {"site": site, "tariff": tariff, "zero_export": zero, "planner": _bill(_bank(False), inputs, mean, None),
            "planner_export": _bill(_bank(True), inputs, mean, None),
            "rolling": _rolling(site, tariff, mean, "known"), "knows_end": _rolling(site, tariff, mean, "knows_end"),
            "forecast": _rolling(site, tariff, mean, "forecast"), "pv_ct": _rolling(site, tariff, mean, "pv_ct"),
            "no_pv_ct": _rolling(site, tariff, mean, "no_pv_ct"),
            "forecast_hindsight": _rolling(site, tariff, mean, "forecast", hindsight=True),
            "pv_ct_hindsight": _rolling(site, tariff, mean, "pv_ct", hindsight=True),
            "optimum": tariffs.optimum(site, tariff)}


def _share(r: dict[str, Any], key: str) -> str:
    gap = r["zero_export"] - r["optimum"]
    return f"{100 * (r['zero_export'] - r[key]) / gap:.0f} %" if gap > 1e-6 else "n/a"


def table(results: list[dict[str, Any]]) -> str:
    """One row a week and tariff, then each tariff's three weeks together."""
    rows = ["| tariff | week | zero export | planner, future known | with exports | 36 h at a time | knowing the "
            "bill's end | forecast from past days | optimum | share | share, with exports | share, 36 h at a time | "
            "share, knowing the bill's end | share, forecast from past days |",
            "|---|---|" + "---:|" * 12]
    for r in results:
        rows.append(f"| {r['tariff']} | {tariffs.SITES[r['site']]} | {r['zero_export']:.2f} | {r['planner']:.2f} | "
                    f"{r['planner_export']:.2f} | {r['rolling']:.2f} | {r['knows_end']:.2f} | {r['forecast']:.2f} | "
                    f"{r['optimum']:.2f} | {_share(r, 'planner')} | {_share(r, 'planner_export')} | "
                    f"{_share(r, 'rolling')} | {_share(r, 'knows_end')} | {_share(r, 'forecast')} |")
    keys = ("planner_export", "rolling", "knows_end", "forecast")
    rows += ["", "| tariff, three weeks together | share, with exports | share, 36 h at a time | share, knowing the "
             "bill's end | share, forecast from past days |", "|---|---:|---:|---:|---:|"]
    for name in tariffs.TARIFFS:
        weeks = [r for r in results if r["tariff"] == name]
        total = {key: sum(r[key] for r in weeks) for key in ("zero_export", "optimum", *keys)}
        rows.append(f"| {name} | " + " | ".join(_share(total, key) for key in keys) + " |")
    return "\n".join(rows)


def pv_table(results: list[dict[str, Any]]) -> str:
    """The running planner's forecast with a PV forecast, the past days' PV measured by a PV CT or taken from
    the forecasts kept: each week, then each tariff's three weeks."""
    return _shares(results, ("forecast", "pv_ct", "no_pv_ct"),
                   "share, no PV forecast | share, PV forecast and a PV CT | share, PV forecast and no PV CT |")


def hindsight_table(results: list[dict[str, Any]]) -> str:
    """The hedge's top against the top chosen in hindsight, without and with a PV forecast."""
    return _shares(results, ("forecast", "forecast_hindsight", "pv_ct", "pv_ct_hindsight"),
                   "share, no PV forecast, hedged | share, no PV forecast, top in hindsight | share, PV forecast "
                   "and a PV CT, hedged | share, PV forecast and a PV CT, top in hindsight |")


def _shares(results: list[dict[str, Any]], keys: tuple[str, ...], head: str) -> str:
    """The share of each of ``keys``: each week, then each tariff's three weeks."""
    rows = [f"| tariff | week | {head}", "|---|---|" + "---:|" * len(keys)]
    for r in results:
        rows.append(f"| {r['tariff']} | {tariffs.SITES[r['site']]} | " + " | ".join(_share(r, k) for k in keys) + " |")
    rows += ["", f"| tariff, three weeks together | {head}", "|---|" + "---:|" * len(keys)]
    for name in tariffs.TARIFFS:
        weeks = [r for r in results if r["tariff"] == name]
        total = {key: sum(r[key] for r in weeks) for key in ("zero_export", "optimum", *keys)}
        rows.append(f"| {name} | " + " | ".join(_share(total, key) for key in keys) + " |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write", type=Path, help="put the table into this markdown file")
    args = parser.parse_args(argv)
    if not (tariffs.SHARED / "weeks").is_dir() or not tariffs.PRICES.is_dir():
        print(f"bench/planner_ceiling.py needs the shared data: {tariffs.SHARED / 'weeks'} and {tariffs.PRICES} "
              "are missing", file=sys.stderr)
        return 2
    jobs = [(site, tariff) for tariff in tariffs.TARIFFS for site in tariffs.SITES]
    with ProcessPoolExecutor(args.workers) as pool:
        results = list(pool.map(_run, jobs))
    text = (f"{table(results)}\n\nThe running planner's forecast with a PV forecast ({PV_ERROR}), in the same slot "
            f"model:\n\n{pv_table(results)}\n\nThe grid charge's top as the hedge picks it, and as the true house "
            f"says it was best (the PV forecast {PV_ERROR}):\n\n{hindsight_table(results)}")
    print(text)
    if args.write:
        write_between_markers(args.write, "planner_ceiling.py", f"Measured with `{COMMAND}`.\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
