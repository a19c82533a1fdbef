"""``smartsofar simulate``: one controller, one measured day, in accelerated time; prints the metrics."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from smartsofar.config import ControlConfig, UnitConfig, load_config, validate_section
from smartsofar.errors import InvalidInputError
from smartsofar.sim.cli import household_from_arg
from smartsofar.sim.household import DAY_S
from smartsofar.sim.simulate import CONTROLLERS, Scenario, simulate

_LAW_FLAGS = ("target_w", "deadband_w", "step_w", "persistence_ws", "lean_w", "allocation")


def add_simulate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``simulate``."""
    cmd = sub.add_parser("simulate", help="run a controller on a measured day in accelerated time",
                         description="Runs the controller against the in-process plant (3 kW, 4.8 kWh per unit, "
                         "1 s dead time, 1000 W/s ramp, meter at 1 Hz with ±5 W noise) and compares it with no "
                         "battery and with a zero-latency oracle.")
    cmd.add_argument("--day", required=True, help="a minute,load_w,pv_w CSV file or a bundled day (2007-06-10)")
    cmd.add_argument("--controller", default="smartsofar", choices=CONTROLLERS)
    cmd.add_argument("--units", type=int, default=2, help="number of units (default 2)")
    cmd.add_argument("--soc", type=float, default=50.0, help="state of charge at the start, %% (default 50)")
    cmd.add_argument("--start", default="00:00", help="time of day to start, HH:MM (default 00:00)")
    cmd.add_argument("--hours", type=float, default=24.0, help="how long to simulate (default 24)")
    cmd.add_argument("--config", type=Path, help="take [control] and the first unit's settings from this file")
    cmd.add_argument("--target", dest="target_w", type=int, help="grid target, W")
    cmd.add_argument("--deadband", dest="deadband_w", type=float, help="deadband, W")
    cmd.add_argument("--step", dest="step_w", type=float, help="correct at once above this error, W")
    cmd.add_argument("--persistence", dest="persistence_ws", type=float, help="correct lasting errors after W·s")
    cmd.add_argument("--lean", dest="lean_w", type=float, help="lean towards import while the batteries work, W")
    cmd.add_argument("--allocation", choices=("equal", "soc_balance", "fewest_units"))
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(handler=run_simulate)


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """Validate the flags into a scenario; InvalidInputError on bad values."""
    household = household_from_arg(args.day)
    assert household is not None
    if not 1 <= args.units <= 16:
        raise InvalidInputError(f"--units must be 1..16, got {args.units}")
    if not 0 <= args.soc <= 100:
        raise InvalidInputError(f"--soc must be 0..100, got {args.soc}")
    if not 0 < args.hours <= 24:
        raise InvalidInputError(f"--hours must be more than 0 and at most 24, got {args.hours}")
    try:
        hours, minutes = (int(part) for part in args.start.split(":"))
    except ValueError:
        raise InvalidInputError(f"--start must be HH:MM, got {args.start!r}") from None
    if not (0 <= hours < 24 and 0 <= minutes < 60):
        raise InvalidInputError(f"--start must be HH:MM, got {args.start!r}")
    control, unit = ControlConfig(), UnitConfig(id=1)
    if args.config is not None:
        config = load_config(args.config)
        control = config.control
        if config.units:
            unit = config.units[0][1]
    overrides = {name: getattr(args, name) for name in _LAW_FLAGS if getattr(args, name) is not None}
    if overrides:
        control = validate_section(ControlConfig, {**control.model_dump(), **overrides}, "simulate")
    return Scenario(household, units=args.units, soc_pct=args.soc, control=control, unit=unit,
                    start_s=hours * 3600 + minutes * 60, duration_s=min(args.hours * 3600, DAY_S))


async def run_simulate(args: argparse.Namespace) -> int:
    """Simulate and print."""
    scenario = scenario_from_args(args)
    if not args.verbose:
        logging.getLogger("smartsofar").setLevel(logging.WARNING)  # the simulated units' chatter
    result: dict[str, Any] = {"day": args.day, **await simulate(scenario, args.controller)}
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    print(f"{result['controller']} on {args.day}, {result['units']} units from {result['soc_pct']:.0f} % SoC, "
          f"{result['simulated_h']} h in {result['wall_s']} s")
    print(f"  grid:      {result['import_kwh']:.3f} kWh imported, {result['export_kwh']:.3f} kWh exported")
    print(f"  no battery: {result['none_import_kwh']:.3f} / {result['none_export_kwh']:.3f} kWh;  oracle: "
          f"{result['oracle_import_kwh']:.3f} / {result['oracle_export_kwh']:.3f} kWh")
    print(f"  capture {result['capture']:.4f}   mean |grid - target| {result['mean_abs_error_w']} W   "
          f"max excursion {result['max_excursion_w']} W   {result['commands_per_hour']} commands/h")
    return 0
