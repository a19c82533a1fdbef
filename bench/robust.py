"""Benchmark: control on plants the controller is not told about, and on second-resolution houses.

    .venv/bin/python bench/robust.py                         # everything, printed
    .venv/bin/python bench/robust.py --write docs/benchmarks.md

Every run goes through ``smartsofar.sim.simulate`` (2 units, 50 % SoC, the default configuration: the
engine starts from 1 s and 1000 W/s and learns). In the same run, on the same plant:

- ``smartsofar``: the service's engine;
- ``seed-v1``: SmartSofar v1's loop;
- ``opendtu-dpl``: an OpenDTU-OnBattery-style limiter (waits 3 s after a change, 20 W hysteresis);
- ``meter-predictor``: knows the plant perfectly and reads each meter sample 0.1 s after it is published;
- ``perfect-sensing``: knows the house's power the instant it changes (the bound).

Three parts:

1. **Plant grid**: true dead time 0.3 / 1 / 2.5 / 4 s x ramp 150 / 300 / 1000 / 3000 W/s, on the step test of
   issue 12 (300 W, +2 kW at 60 s for 60 s, 2.5 kW of PV from 180 s to 300 s; a 6-minute cycle, played 3 times:
   the first cycle includes learning). Sign flips per minute, the longest settle (within 50 W for 5 s), the
   learned response after the run.
2. **Minute days** (``../shared/data/days``): capture on the matched plant and on a 2.5 s / 300 W/s plant.
3. **Second-resolution sites** built from ``../shared/data/hz`` (see ``SITES``), on the matched and the slow
   plant. Ours runs twice: learning from scratch, and with the response learned beforehand
   (``smartsofar, learned``: the step test's three cycles on the same plant first, their learners handed on as
   the service keeps them across restarts), which is what a site sees once it has run for a while.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

from markers import report

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.sim.battery import BatterySpec
from smartsofar.sim.controllers import simulate
from smartsofar.sim.household import DayProfile, Household, SecondSeries
from smartsofar.sim.simulate import Scenario, Simulation, run_smartsofar

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
CONTROLLERS = ("smartsofar", "seed-v1", "opendtu-dpl", "meter-predictor", "perfect-sensing")  # table order
LEARNED = "smartsofar, learned"  # ours on a site, its response learned beforehand on the step test
DEAD_TIMES = (0.3, 1.0, 2.5, 4.0)
RAMPS = (150.0, 300.0, 1000.0, 3000.0)
SLOW = (2.5, 300.0)
MATCHED = (1.0, 1000.0)
# name: (load file, start second, PV file, base load W); 30 minutes each, the busiest half-hours of their files
SITES: dict[str, tuple[str, int, str, float]] = {
    "UK-DALE house 1 (6 s) + PV 10 s": ("ukdale_h1_20130414_1128_6s-held.csv", 5400,
                                        "sst_sample_plant1_data_a_combiner0_10s-held_pv5kW-scaled.csv", 0.0),
    "tracebase couple (1 s) + PV 1 s": ("tracebase_composite_C_couple_3days_1s.csv", 64200,
                                        "hope_melpitz_20130908_sensor28_1s_pv5kWp.csv", 150.0),
    "tracebase family (1 s) + PV 10 s": ("tracebase_composite_B_family_3days_1s.csv", 148800,
                                         "sst_sample_plant1_data_c_combiner0_10s-held_pv5kW-scaled.csv", 150.0),
    "REDD house 1, one leg (1 s) + PV 1 s": ("redd_h1_mains1only_20110418_1s.csv", 32400,
                                             "hope_melpitz_20130908_sensor35_1s_pv5kWp.csv", 0.0),
}
SITE_SECONDS = 1800
STEP_CYCLE_S = 360


class StepTest:
    """Issue 12's step test: 300 W, +2 kW for a minute, then 2.5 kW of PV for two; a 6-minute cycle."""

    def load_w(self, second_of_day: float) -> float:
        return 300.0 + (2000.0 if 60 <= second_of_day % STEP_CYCLE_S < 120 else 0.0)

    def pv_w(self, second_of_day: float) -> float:
        return 2500.0 if 180 <= second_of_day % STEP_CYCLE_S < 300 else 0.0


# name: ([control] overrides, unit overrides); the default first
SETTINGS: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "default": ({}, {}),
    "step 80 W, persistence 150 W·s": ({"step_w": 80, "persistence_ws": 150}, {}),
    "step 150 W, deadband 20 W, persistence 300 W·s": ({"step_w": 150, "deadband_w": 20, "persistence_ws": 300}, {}),
    "confirm jumps below 150 W": ({"confirm_below_w": 150}, {}),
    "confirm jumps below 300 W": ({"confirm_below_w": 300}, {}),
}
FIXED = "told 1 s and 1000 W/s, not allowed to learn"
SETTINGS[FIXED] = ({}, {"learn_response": False})
SWEEP = [name for name in SETTINGS if name not in ("default", FIXED)]

Job = tuple[str, str, str, float, float, str]  # part, site, controller, dead time, ramp, settings


def household(part: str, site: str) -> tuple[Household, float, float]:
    if part in ("grid", "fixed"):
        return StepTest(), 0.0, 3 * STEP_CYCLE_S
    if part in ("days", "sweep-days"):
        return DayProfile.from_csv(SHARED / "days" / f"{site}.csv"), 0.0, 86400.0
    load, start, pv, base = SITES[site]
    hz = SHARED / "hz"
    return SecondSeries.from_files(hz / load, hz / pv, base_load_w=base, start_second=start), 0.0, SITE_SECONDS


async def learned_on_step_test(scenario: Scenario) -> dict[int, dict[str, Any]]:
    """Each unit's learner after the step test's three cycles on the scenario's plant, as the service keeps it."""
    sim = Simulation(Scenario(StepTest(), duration_s=3 * STEP_CYCLE_S, plant=scenario.plant,
                              control=scenario.control, unit=scenario.unit))
    await sim.sleep(1.0)
    await run_smartsofar(sim)
    return sim.responses


def _run(job: Job) -> dict[str, Any]:
    part, site, controller, dead, ramp, settings = job
    logging.getLogger("smartsofar").setLevel(logging.CRITICAL)
    house, start, duration = household(part, site)
    plant = [BatterySpec(dead_time_s=dead, ramp_w_per_s=ramp)] * 2
    control_overrides, unit_overrides = SETTINGS[settings]
    control = ControlConfig.model_validate({**ControlConfig().model_dump(), **control_overrides})
    unit = UnitConfig(id=1, **unit_overrides)
    scenario = Scenario(house, start_s=start, duration_s=duration, plant=plant, control=control, unit=unit)
    if controller == LEARNED:
        scenario.responses = asyncio.run(learned_on_step_test(scenario))
    result = asyncio.run(simulate(scenario, "smartsofar" if controller == LEARNED else controller))
    return {"part": part, "site": site, "plant": [dead, ramp], "settings": settings, **result, "controller": controller}


def run_all(jobs: Sequence[Job], workers: int) -> list[dict[str, Any]]:
    """Run the jobs on ``workers`` processes."""
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_run, jobs))


def _pick(results: list[dict[str, Any]], **match: Any) -> dict[str, Any]:
    return next(r for r in results if all(r[k] == v for k, v in match.items()))


def _wh(r: dict[str, Any]) -> float:
    return float(r["import_kwh"] + r["export_kwh"]) * 1000


def grid_table(results: list[dict[str, Any]]) -> str:
    """Plant grid: ours against the references, per plant."""
    rows = ["| true plant | ours: flips/min, settle s, cmd/h, mean abs W | learned (unit 1) | v1 flips/min, mean abs W"
            " | OpenDTU-style flips/min, mean abs W | predictor mean abs W | perfect sensing mean abs W | "
            "ours meets flips ≤ 1/min and settle ≤ dead + ramp + 4 s |", "|---|---|---|---|---|---|---|---|"]
    for dead in DEAD_TIMES:
        for ramp in RAMPS:
            mine = {c: _pick(results, part="grid", plant=[dead, ramp], controller=c) for c in CONTROLLERS}
            ours = mine["smartsofar"]
            learned = ours["learned_response"]["1"]
            limit = dead + 1250 / ramp + 4  # each unit takes half of the largest step (2.5 kW of PV)
            ok = ours["sign_flips_per_min"] <= 1 and ours["settle_max_s"] <= limit and not ours["unsettled_steps"]
            rows.append(
                f"| {dead:g} s, {ramp:g} W/s | {ours['sign_flips_per_min']:.2f}, {ours['settle_max_s']:.0f}, "
                f"{ours['commands_per_hour']:.0f}, {ours['mean_abs_error_w']:.0f} | {learned['dead_time_s']:.2f} s, "
                f"{learned['ramp_w_per_s']:.0f} W/s ({learned['samples']}) | "
                f"{mine['seed-v1']['sign_flips_per_min']:.2f}, {mine['seed-v1']['mean_abs_error_w']:.0f} | "
                f"{mine['opendtu-dpl']['sign_flips_per_min']:.2f}, {mine['opendtu-dpl']['mean_abs_error_w']:.0f} | "
                f"{mine['meter-predictor']['mean_abs_error_w']:.0f} | "
                f"{mine['perfect-sensing']['mean_abs_error_w']:.0f} | {'yes' if ok else f'NO (limit {limit:.1f} s)'} |")
    return "\n".join(rows)


def days_table(results: list[dict[str, Any]]) -> str:
    """Minute days: capture per controller on the matched and the slow plant (mean over days, worst day)."""
    rows = ["| plant | controller | capture mean (worst day) | mean abs W | commands/h |", "|---|---|---|---|---|"]
    for plant in (MATCHED, SLOW):
        for controller in CONTROLLERS:
            mine = [r for r in results if r["part"] == "days" and r["plant"] == list(plant)
                    and r["controller"] == controller]
            if not mine:
                continue
            rows.append(f"| {plant[0]:g} s, {plant[1]:g} W/s | {controller} | {_mean(mine, 'capture'):.4f} "
                        f"({min(r['capture'] for r in mine):.4f}) | {_mean(mine, 'mean_abs_error_w'):.1f} | "
                        f"{_mean(mine, 'commands_per_hour'):.0f} |")
    return "\n".join(rows)


def sites_table(results: list[dict[str, Any]]) -> str:
    """Second-resolution sites: grid Wh, mean abs error, commands/h; ours against the predictor."""
    rows = ["| site | plant | controller | import + export Wh | mean abs W | commands/h | flips/min |",
            "|---|---|---|---|---|---|---|"]
    for site in SITES:
        for plant in (MATCHED, SLOW):
            predictor = _pick(results, part="sites", site=site, plant=list(plant), controller="meter-predictor")
            for controller in (CONTROLLERS[0], LEARNED, *CONTROLLERS[1:]):
                r = _pick(results, part="sites", site=site, plant=list(plant), controller=controller)
                ratio = (f" ({r['mean_abs_error_w'] / predictor['mean_abs_error_w']:.2f}x predictor)"
                         if controller in ("smartsofar", LEARNED) and predictor["mean_abs_error_w"] else "")
                rows.append(f"| {site} | {plant[0]:g} s, {plant[1]:g} W/s | {controller} | {_wh(r):.0f} | "
                            f"{r['mean_abs_error_w']:.1f}{ratio} | {r['commands_per_hour']:.0f} | "
                            f"{r['sign_flips_per_min']:.2f} |")
    return "\n".join(rows)


def sweep_table(results: list[dict[str, Any]]) -> str:
    """Thresholds against commands: second-resolution sites (error against the predictor) and minute days."""
    rows = ["| setting | plant | sites: mean abs error / predictor's (worst site) | sites: commands/h | "
            "days: capture mean (worst day) | days: commands/h |", "|---|---|---|---|---|---|"]
    for name in ["default", *SWEEP]:
        for plant in (MATCHED, SLOW):
            sites = [r for r in results if r["part"] in ("sites", "sweep") and r["settings"] == name
                     and r["plant"] == list(plant) and r["controller"] == "smartsofar"]
            days = [r for r in results if r["part"] in ("days", "sweep-days") and r["settings"] == name
                    and r["plant"] == list(plant) and r["controller"] == "smartsofar"]
            if not sites or not days:
                continue
            ratios = [r["mean_abs_error_w"] / _pick(results, part="sites", site=r["site"], plant=list(plant),
                                                    controller="meter-predictor")["mean_abs_error_w"] for r in sites]
            rows.append(f"| {name} | {plant[0]:g} s, {plant[1]:g} W/s | {sum(ratios) / len(ratios):.2f} "
                        f"({max(ratios):.2f}) | {_mean(sites, 'commands_per_hour'):.0f} | "
                        f"{_mean(days, 'capture'):.4f} ({min(r['capture'] for r in days):.4f}) | "
                        f"{_mean(days, 'commands_per_hour'):.0f} |")
    return "\n".join(rows)


def fixed_table(results: list[dict[str, Any]]) -> str:
    """The step test with the response fixed at the configured (wrong) values, against learning it."""
    rows = ["| true plant | response | flips/min | longest settle s | commands/h | mean abs W | back-offs |",
            "|---|---|---|---|---|---|---|"]
    for dead, ramp in ((1.0, 1000.0), SLOW, (4.0, 150.0)):
        for part, label in (("grid", "learned"), ("fixed", FIXED)):
            r = _pick(results, part=part, plant=[dead, ramp], controller="smartsofar")
            rows.append(f"| {dead:g} s, {ramp:g} W/s | {label} | {r['sign_flips_per_min']:.2f} | "
                        f"{r['settle_max_s']:.0f} | {r['commands_per_hour']:.0f} | {r['mean_abs_error_w']:.0f} | "
                        f"{r['oscillation_backoffs']} |")
    return "\n".join(rows)


def _mean(results: list[dict[str, Any]], key: str) -> float:
    return float(sum(r[key] for r in results)) / len(results)


def arguments(description: str | None) -> argparse.ArgumentParser:
    """The options every simulation benchmark takes: --workers, --json and --write."""
    parser = argparse.ArgumentParser(description=description, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--json", type=Path, help="also save every result as JSON here")
    parser.add_argument("--write", type=Path, help="put the tables into this markdown file")
    return parser


def shared_missing() -> bool:
    """True, and said plainly, when ``../shared/data`` is not there."""
    if SHARED.is_dir():
        return False
    print(f"the shared data is not there: {SHARED} is missing (this benchmark reads ../shared/data)", file=sys.stderr)
    return True


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print (and optionally write) the tables."""
    parser = arguments(__doc__)
    parser.add_argument("--parts", default="grid,days,sites,sweep,fixed", help="which parts to run (comma list)")
    args = parser.parse_args(argv)
    if shared_missing():
        return 2
    parts = set(args.parts.split(","))
    jobs: list[Job] = []
    days = sorted(p.stem for p in (SHARED / "days").glob("*.csv"))
    if "grid" in parts:
        jobs += [("grid", "step test", c, d, r, "default") for d in DEAD_TIMES for r in RAMPS for c in CONTROLLERS]
    if "days" in parts:
        jobs += [("days", d, c, *plant, "default") for plant in (MATCHED, SLOW) for d in days for c in CONTROLLERS]
    if "sites" in parts:
        jobs += [("sites", s, c, *plant, "default") for s in SITES for plant in (MATCHED, SLOW)
                 for c in (*CONTROLLERS, LEARNED)]
    if "sweep" in parts:
        jobs += [("sweep", s, "smartsofar", *plant, name) for name in SWEEP for s in SITES for plant in (MATCHED, SLOW)]
        jobs += [("sweep-days", d, "smartsofar", *plant, name) for name in SWEEP for d in days
                 for plant in (MATCHED, SLOW)]
    if "fixed" in parts:
        jobs += [("fixed", "step test", "smartsofar", d, r, FIXED) for d, r in ((1.0, 1000.0), SLOW, (4.0, 150.0))]
    results = run_all(jobs, args.workers)
    text = ("Measured with `.venv/bin/python bench/robust.py` (2 units at 50 % SoC, default configuration; the "
            "controller is told 1 s and 1000 W/s and learns).\n")
    if "grid" in parts:
        text += "\n**Plant grid** (the step test, three 6-minute cycles):\n\n" + grid_table(results) + "\n"
    if "days" in parts:
        text += "\n**Minute days** (8 shared days, 24 h each):\n\n" + days_table(results) + "\n"
    if "sites" in parts:
        text += "\n**Second-resolution sites** (30 minutes each):\n\n" + sites_table(results) + "\n"
    if {"sweep", "sites", "days"} <= parts:
        text += ("\n**Commands against tracking** (the busy sites against the perfect-model predictor, and the minute "
                 "days' capture):\n\n" + sweep_table(results) + "\n")
    if {"fixed", "grid"} <= parts:
        text += ("\n**A wrong response that may not be learned** (`learn_response = false`; the oscillation watch is "
                 "the only defence):\n\n" + fixed_table(results) + "\n")
    report(text, "robust.py", results, args.json, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
