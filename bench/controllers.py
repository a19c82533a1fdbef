"""Benchmark: SmartSofar's control engine against SmartSofar v1 on every shared measured day.

    .venv/bin/python bench/controllers.py                  # every day, both controllers, plus the sweep
    .venv/bin/python bench/controllers.py --no-sweep --write docs/benchmarks.md

Each day runs in accelerated time through ``smartsofar.sim.simulate`` (2 units, 50 % SoC at midnight, the
default configuration). The figures are deterministic; wall time is the best of ``--repeat`` runs, because
this machine's timing is noisy. The sweep varies the thresholds that decide when a correction is worth a
command (deadband, persistence, immediate step) and the lean towards import, and shows what each costs.
With ``--write FILE`` the tables replace the text between the benchmark markers in FILE.
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

from smartsofar.config import ControlConfig
from smartsofar.sim.controllers import simulate
from smartsofar.sim.household import DayProfile
from smartsofar.sim.simulate import Scenario

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DAYS = ROOT.parent / "shared" / "data" / "days"
TARGETS = {"capture": 0.99, "mean_abs_error_w": 12.0, "commands_per_hour": 120.0, "wall_s": 10.0}
SWEEP: list[dict[str, Any]] = [
    {"deadband_w": 20, "step_w": 20, "persistence_ws": 100_000, "lean_w": 0},  # a plain 20 W deadband
    {"deadband_w": 20, "step_w": 20, "persistence_ws": 100_000, "lean_w": 5},  # ... with the lean
    {"deadband_w": 10, "step_w": 10, "persistence_ws": 100_000, "lean_w": 5},  # a plain 10 W deadband
    {"deadband_w": 3, "step_w": 30, "persistence_ws": 30, "lean_w": 5},
    {"deadband_w": 8, "step_w": 30, "persistence_ws": 40, "lean_w": 5},  # the default
    {"deadband_w": 10, "step_w": 50, "persistence_ws": 60, "lean_w": 5},
    {"deadband_w": 3, "step_w": 50, "persistence_ws": 120, "lean_w": 5},
    {"deadband_w": 5, "step_w": 60, "persistence_ws": 200, "lean_w": 5},
    {"deadband_w": 8, "step_w": 30, "persistence_ws": 40, "lean_w": 0},
    {"deadband_w": 8, "step_w": 30, "persistence_ws": 40, "lean_w": 10},
]


def _run(job: tuple[str, str, dict[str, Any], int]) -> dict[str, Any]:
    path, controller, overrides, repeat = job
    logging.getLogger("smartsofar").setLevel(logging.ERROR)
    control = ControlConfig.model_validate({**ControlConfig().model_dump(), **overrides})
    best: dict[str, Any] = {}
    for _ in range(repeat):
        result = asyncio.run(simulate(Scenario(DayProfile.from_csv(path), control=control), controller))
        if not best or result["wall_s"] < best["wall_s"]:
            best = result
    return {"day": Path(path).stem, "overrides": overrides, **best}


def run_all(jobs: Sequence[tuple[str, str, dict[str, Any], int]], workers: int) -> list[dict[str, Any]]:
    """Run the jobs on ``workers`` processes."""
    with ProcessPoolExecutor(workers) as pool:
        return list(pool.map(_run, jobs))


def day_table(results: list[dict[str, Any]]) -> str:
    """Markdown: one row per day, both controllers side by side."""
    rows = ["| day | capture (v1 → ours) | mean abs error W (v1 → ours) | commands/h (v1 → ours) | "
            "wall s (v1 / ours) | ours meets all targets |", "|---|---|---|---|---|---|"]
    days = sorted({r["day"] for r in results})
    for day in days:
        seed = next(r for r in results if r["day"] == day and r["controller"] == "seed-v1")
        ours = next(r for r in results if r["day"] == day and r["controller"] == "smartsofar")
        ok = (ours["capture"] >= TARGETS["capture"] and ours["mean_abs_error_w"] <= TARGETS["mean_abs_error_w"]
              and ours["commands_per_hour"] <= TARGETS["commands_per_hour"] and ours["wall_s"] <= TARGETS["wall_s"]
              and ours["capture"] > seed["capture"] and ours["mean_abs_error_w"] < seed["mean_abs_error_w"]
              and ours["commands_per_hour"] < seed["commands_per_hour"])
        rows.append(f"| {day} | {seed['capture']:.4f} → **{ours['capture']:.4f}** | "
                    f"{seed['mean_abs_error_w']:.1f} → **{ours['mean_abs_error_w']:.1f}** | "
                    f"{seed['commands_per_hour']:.0f} → **{ours['commands_per_hour']:.0f}** | "
                    f"{seed['wall_s']:.1f} / {ours['wall_s']:.1f} | {'yes' if ok else 'NO'} |")
    for controller in ("seed-v1", "smartsofar"):
        mine = [r for r in results if r["controller"] == controller]
        rows.append(f"| mean, {controller} | {_mean(mine, 'capture'):.4f} | {_mean(mine, 'mean_abs_error_w'):.1f} | "
                    f"{_mean(mine, 'commands_per_hour'):.0f} | {_mean(mine, 'wall_s'):.1f} | |")
    return "\n".join(rows)


def sweep_table(results: list[dict[str, Any]]) -> str:
    """Markdown: one row per setting, worst and mean over the days."""
    rows = ["| deadband W | step W | persistence W·s | lean W | capture min / mean | abs error max / mean W | "
            "commands/h max / mean |", "|---|---|---|---|---|---|---|"]
    for setting in SWEEP:
        mine = [r for r in results if r["overrides"] == setting]
        persistence = "∞" if setting["persistence_ws"] >= 100_000 else f"{setting['persistence_ws']:g}"
        rows.append(f"| {setting['deadband_w']} | {setting['step_w']} | {persistence} | {setting['lean_w']} | "
                    f"{min(r['capture'] for r in mine):.4f} / {_mean(mine, 'capture'):.4f} | "
                    f"{max(r['mean_abs_error_w'] for r in mine):.1f} / {_mean(mine, 'mean_abs_error_w'):.1f} | "
                    f"{max(r['commands_per_hour'] for r in mine):.0f} / {_mean(mine, 'commands_per_hour'):.0f} |")
    return "\n".join(rows)


def _mean(results: list[dict[str, Any]], key: str) -> float:
    return float(sum(r[key] for r in results)) / len(results)


def main(argv: Sequence[str] | None = None) -> int:
    """Run and print (and optionally write) the tables."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=Path, default=DEFAULT_DAYS, help="folder of minute,load_w,pv_w days")
    parser.add_argument("--repeat", type=int, default=2, help="runs per day for the wall time (best kept)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--no-sweep", action="store_true", help="skip the threshold sweep")
    parser.add_argument("--json", type=Path, help="also save every result as JSON here")
    parser.add_argument("--write", type=Path, help="put the tables into this markdown file")
    args = parser.parse_args(argv)
    days = sorted(str(p) for p in args.days.glob("*.csv"))
    if not days:
        print(f"no days in {args.days}", file=sys.stderr)
        return 2
    results = run_all([(d, c, {}, args.repeat) for d in days for c in ("seed-v1", "smartsofar")], args.workers)
    sweep = [] if args.no_sweep else run_all([(d, "smartsofar", s, 1) for s in SWEEP for d in days], args.workers)
    text = (f"Measured with `.venv/bin/python bench/controllers.py` ({len(days)} days, 2 units, 50 % SoC at "
            f"midnight, default configuration; wall time best of {args.repeat}).\n\n" + day_table(results))
    if sweep:
        text += "\n\nThreshold sweep (every day, default configuration otherwise):\n\n" + sweep_table(sweep)
    report(text, "controllers.py", results + sweep, args.json, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
