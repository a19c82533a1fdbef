"""Benchmark: what a budget of commands costs every controller on the busy second-resolution houses.

    .venv/bin/python bench/budget.py                         # printed
    .venv/bin/python bench/budget.py --write docs/benchmarks.md

Issue 12 asks for ours within 1.05x the perfect-model meter predictor's mean |grid - target| with at most 600
commands an hour; the predictor itself sends 1600-5700. This run asks what 600 commands an hour cost the
references. On the sites and the two plants of ``bench/robust.py`` (the matched 1 s / 1000 W/s and the slow
2.5 s / 300 W/s), in the same run:

- ``meter-predictor`` and ``perfect-sensing`` with their deadband widened from their default 10 W to 600 W
  (``Scenario.reference_deadband_w``): a wider deadband, fewer commands;
- ours at its defaults, at the thresholds of robust's sweep and at three thriftier ones, from scratch and with
  its response learned beforehand on the step test (as robust's ``smartsofar, learned``).

Every error is given against the predictor at its default deadband, the issue's reference.
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from markers import report
from robust import (
    LEARNED,
    MATCHED,
    SETTINGS,
    SITES,
    SLOW,
    SWEEP,
    arguments,
    household,
    learned_on_step_test,
    shared_missing,
)

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.sim.battery import BatterySpec
from smartsofar.sim.controllers import simulate
from smartsofar.sim.simulate import Scenario

BUDGET_PER_H = 600.0
DEADBANDS = (10.0, 100.0, 200.0, 300.0, 400.0, 600.0)  # the references'; 10 W is their default
REFERENCES = ("meter-predictor", "perfect-sensing")
THRIFTY: dict[str, dict[str, Any]] = {
    "step 200 W, deadband 30 W, persistence 600 W·s": {"step_w": 200, "deadband_w": 30, "persistence_ws": 600},
    "step 300 W, deadband 50 W, persistence 1000 W·s": {"step_w": 300, "deadband_w": 50, "persistence_ws": 1000},
    "step 400 W, deadband 80 W, persistence 1500 W·s": {"step_w": 400, "deadband_w": 80, "persistence_ws": 1500},
}
OURS = ("smartsofar", LEARNED)
OUR_SETTINGS = ("default", *SWEEP, *THRIFTY)

Job = tuple[str, str, float, float, str]  # site, controller, dead time, ramp, setting (a deadband for references)


def _control(setting: str) -> ControlConfig:
    overrides = THRIFTY[setting] if setting in THRIFTY else SETTINGS[setting][0]
    return ControlConfig.model_validate({**ControlConfig().model_dump(), **overrides})


def _run(job: Job) -> dict[str, Any]:
    site, controller, dead, ramp, setting = job
    logging.getLogger("smartsofar").setLevel(logging.CRITICAL)
    house, start, duration = household("sites", site)
    plant = [BatterySpec(dead_time_s=dead, ramp_w_per_s=ramp)] * 2
    scenario = Scenario(house, start_s=start, duration_s=duration, plant=plant, unit=UnitConfig(id=1))
    if controller in REFERENCES:
        scenario.reference_deadband_w = float(setting)
    else:
        scenario.control = _control(setting)
    if controller == LEARNED:
        scenario.responses = asyncio.run(learned_on_step_test(scenario))
    result = asyncio.run(simulate(scenario, "smartsofar" if controller == LEARNED else controller))
    return {"site": site, "plant": [dead, ramp], "setting": setting, **result, "controller": controller}


def _jobs() -> list[Job]:
    jobs: list[Job] = []
    for site in SITES:
        for plant in (MATCHED, SLOW):
            jobs += [(site, c, *plant, f"{d:g}") for c in REFERENCES for d in DEADBANDS]
            jobs += [(site, c, *plant, s) for c in OURS for s in OUR_SETTINGS]
    return jobs


def _setting_label(controller: str, setting: str) -> str:
    return f"deadband {setting} W" if controller in REFERENCES else setting


def _settings_of(controller: str) -> tuple[str, ...]:
    return tuple(f"{d:g}" for d in DEADBANDS) if controller in REFERENCES else OUR_SETTINGS


class Results:
    """The run's results, looked up by site, plant, controller and setting."""

    def __init__(self, results: list[dict[str, Any]]) -> None:
        self._by = {(r["site"], tuple(r["plant"]), r["controller"], r["setting"]): r for r in results}

    def get(self, site: str, plant: tuple[float, float], controller: str, setting: str) -> dict[str, Any]:
        return self._by[(site, plant, controller, setting)]

    def ratio(self, r: dict[str, Any]) -> float:
        """Its mean |grid - target| over the predictor's at its default deadband, same site and plant."""
        reference = self.get(r["site"], tuple(r["plant"]), "meter-predictor", f"{DEADBANDS[0]:g}")
        return float(r["mean_abs_error_w"]) / float(reference["mean_abs_error_w"])

    def within_budget(self, site: str, plant: tuple[float, float], controller: str) -> dict[str, Any] | None:
        """Its best setting within the budget of commands, or None when none is."""
        fits = [r for s in _settings_of(controller)
                if (r := self.get(site, plant, controller, s))["commands_per_hour"] <= BUDGET_PER_H]
        return min(fits, key=lambda r: float(r["mean_abs_error_w"]), default=None)


def settings_table(results: Results) -> str:
    """Every setting (ours from scratch): error against the predictor and commands an hour, per site."""
    short = [name.split(" (")[0] for name in SITES]
    rows = ["| plant | controller | setting | " + " | ".join(short) + " | mean |",
            "|---|---|---|" + "---|" * (len(SITES) + 1)]
    for plant in (MATCHED, SLOW):
        for controller in (*REFERENCES, OURS[0]):
            for setting in _settings_of(controller):
                mine = [results.get(site, plant, controller, setting) for site in SITES]
                cells = [f"{results.ratio(r):.2f}x, {r['commands_per_hour']:.0f}/h" for r in mine]
                mean_ratio = sum(results.ratio(r) for r in mine) / len(mine)
                mean_commands = sum(float(r["commands_per_hour"]) for r in mine) / len(mine)
                rows.append(f"| {plant[0]:g} s, {plant[1]:g} W/s | {controller} | "
                            f"{_setting_label(controller, setting)} | {' | '.join(cells)} | "
                            f"{mean_ratio:.2f}x, {mean_commands:.0f}/h |")
    return "\n".join(rows)


def budget_table(results: Results) -> str:
    """Per site and plant: each controller's best error within the budget, against the predictor's unlimited."""
    controllers = (*REFERENCES, *OURS)
    rows = ["| site | plant | " + " | ".join(controllers) + " |", "|---|---|" + "---|" * len(controllers)]
    for site in SITES:
        for plant in (MATCHED, SLOW):
            cells = []
            for controller in controllers:
                best = results.within_budget(site, plant, controller)
                cells.append("none within the budget" if best is None else
                             f"{results.ratio(best):.2f}x ({_setting_label(controller, best['setting'])}, "
                             f"{best['commands_per_hour']:.0f}/h)")
            rows.append(f"| {site} | {plant[0]:g} s, {plant[1]:g} W/s | {' | '.join(cells)} |")
    return "\n".join(rows)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print (and optionally write) the tables."""
    args = arguments(__doc__).parse_args(argv)
    if shared_missing():
        return 2
    with ProcessPoolExecutor(args.workers) as pool:
        raw = list(pool.map(_run, _jobs()))
    results = Results(raw)
    text = (f"Measured with `.venv/bin/python bench/budget.py` (2 units at 50 % SoC; each error is the mean |grid - "
            f"target| over the meter predictor's at its default 10 W deadband, on the same site and plant).\n\n"
            f"**Within {BUDGET_PER_H:.0f} commands an hour** (each controller's best setting that stays within it):"
            f"\n\n{budget_table(results)}\n\n**Every setting** (ours from scratch):\n\n{settings_table(results)}\n")
    report(text, "budget.py", raw, args.json, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
