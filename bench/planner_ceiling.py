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
- ``optimum``: ``bench/tariffs.py``'s linear programme.

``share`` = (zero export − planner) / (zero export − optimum): the part of the optimum's saving the planner's
programme reaches when the forecast is perfect. What it misses, it misses by its model (slots, energy levels,
actions); what the running planner misses beyond it, it misses by its forecast and its horizon (36 h at a time,
not knowing where the week's bill ends). A share above 100 % is the slot model's: within 15 minutes it may
import and export, where the optimum's minutes may not when the import price is negative.
"""

from __future__ import annotations

import argparse
import importlib.util
import math
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from markers import write_between_markers

from smartsofar.config_tariff import PlannerConfig
from smartsofar.plan.forecast import SlotForecast
from smartsofar.plan.making import bank_from, slot_edges
from smartsofar.plan.planner import Action, Bank, PlanInput, policy_cost, solve

ROOT = Path(__file__).resolve().parent
_spec = importlib.util.spec_from_file_location("tariffs", ROOT / "tariffs.py")
assert _spec is not None and _spec.loader is not None
tariffs = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(tariffs)
COMMAND = ".venv/bin/python bench/planner_ceiling.py --write docs/benchmarks.md"
WEEK_S = 7 * 86400.0


def _inputs(site: str, tariff: str) -> tuple[list[PlanInput], float]:
    """The week's slots with their true need, surplus and prices, and the week's mean import price."""
    household, priced = tariffs.pricing(site, tariff, planner=False)
    priced.cover(WEEK_S)
    epoch0 = priced.epoch0
    first = tariffs.HISTORY_DAYS * 1440
    slot_s = PlannerConfig().slot_min * 60
    inputs = []
    for start, end in slot_edges(epoch0, WEEK_S, slot_s):
        need = surplus = 0.0
        for minute in range(int((start - epoch0) // 60), math.ceil((end - epoch0) / 60)):
            wh = household.minute_base_w(first + minute) / 60
            need, surplus = need + max(wh, 0.0), surplus + max(-wh, 0.0)
        mid = (start + end) / 2
        inputs.append(PlanInput(SlotForecast(start, end, need, surplus), priced.imports.at(mid) or 0.0,
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


def _run(job: tuple[str, str]) -> dict[str, Any]:
    site, tariff = job
    inputs, mean = _inputs(site, tariff)
    zero = _bill(_bank(False), inputs, mean, Action.NORMAL)
    return {"site": site, "tariff": tariff, "zero_export": zero, "planner": _bill(_bank(False), inputs, mean, None),
            "planner_export": _bill(_bank(True), inputs, mean, None), "optimum": tariffs.optimum(site, tariff)}


def _share(r: dict[str, Any], key: str) -> str:
    gap = r["zero_export"] - r["optimum"]
    return f"{100 * (r['zero_export'] - r[key]) / gap:.0f} %" if gap > 1e-6 else "n/a"


def table(results: list[dict[str, Any]]) -> str:
    """One row a week and tariff."""
    rows = ["| tariff | week | zero export | planner, future known | with exports | optimum | share | share, with "
            "exports |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        rows.append(f"| {r['tariff']} | {tariffs.SITES[r['site']]} | {r['zero_export']:.2f} | {r['planner']:.2f} | "
                    f"{r['planner_export']:.2f} | {r['optimum']:.2f} | {_share(r, 'planner')} | "
                    f"{_share(r, 'planner_export')} |")
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
    text = table(results)
    print(text)
    if args.write:
        write_between_markers(args.write, "planner_ceiling.py", f"Measured with `{COMMAND}`.\n\n{text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
