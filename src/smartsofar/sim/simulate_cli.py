"""``smartsofar simulate``: one controller on a measured day or a second-resolution site, in accelerated time.

The plant options (``--plant-dead-time``, ``--plant-ramp``, ``--plant-report-lag``) change the simulated
units without telling the controller, which starts from the configured unit and has to learn.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
from datetime import date
from pathlib import Path
from typing import Any

from smartsofar.config import ControlConfig, UnitConfig, load_config, load_toml, validate_section
from smartsofar.errors import InvalidInputError
from smartsofar.sim.battery import BatterySpec
from smartsofar.sim.cli import household_from_arg, per_unit_values
from smartsofar.sim.controllers import CONTROLLERS, simulate
from smartsofar.sim.household import DAY_S, Household, SecondSeries
from smartsofar.sim.pricing import SimPricing, build_pricing
from smartsofar.sim.simulate import Scenario

_LAW_FLAGS = ("target_w", "deadband_w", "step_w", "persistence_ws", "lean_w", "allocation")


def add_simulate_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``simulate``."""
    cmd = sub.add_parser("simulate", help="run a controller on a measured day in accelerated time",
                         description="Runs the controller against the in-process plant (3 kW, 4.8 kWh per unit, "
                         "1 s dead time, 1000 W/s ramp, meter at 1 Hz with ±5 W noise) and compares it with no "
                         "battery and with a zero-latency oracle.")
    source = cmd.add_mutually_exclusive_group(required=True)
    source.add_argument("--day", help="a minute,load_w,pv_w CSV file, or a built-in day (summer, winter)")
    source.add_argument("--load", type=Path, help="a second,load_w[,pv_w] CSV file (gzip accepted)")
    cmd.add_argument("--pv", type=Path, help="with --load: a second,pv_w CSV file, played from its own second 0")
    cmd.add_argument("--base-load", type=float, default=0.0, help="with --load: W added to every second")
    cmd.add_argument("--start-second", type=int, default=0, help="with --load: the first second to play")
    cmd.add_argument("--seconds", type=int, help="with --load: how many seconds to play (default: to the end)")
    cmd.add_argument("--plant-dead-time", help="the simulated units' true dead time, s (a comma list: per unit)")
    cmd.add_argument("--plant-ramp", help="the simulated units' true ramp, W/s (a comma list: per unit)")
    cmd.add_argument("--plant-report-lag", type=float, default=0.0,
                     help="the units' reported power trails the real one by this much, s")
    cmd.add_argument("--meter-period", type=float, default=1.0,
                     help="the meter publishes this often, s (1, or a fraction of a second such as 0.2)")
    cmd.add_argument("--meter-phase", type=float, default=0.1,
                     help="the first poll comes this long after the meter publishes, s (default 0.1)")
    cmd.add_argument("--steer-polls", action=argparse.BooleanOptionalAction, default=True,
                     help="steer the polls to just after the meter publishes, as the service does (default); "
                          "--no-steer-polls keeps every poll at --meter-phase")
    cmd.add_argument("--controller", default="smartsofar", choices=CONTROLLERS)
    cmd.add_argument("--units", type=int, default=2, help="number of units (default 2)")
    cmd.add_argument("--soc", type=float, default=50.0, help="state of charge at the start, %% (default 50)")
    cmd.add_argument("--start", default="00:00", help="time of day to start, HH:MM (default 00:00)")
    cmd.add_argument("--hours", type=float, help="how long to simulate (default: 24, or every scored day of a "
                     "file of several days)")
    cmd.add_argument("--config", type=Path, help="take [control] and the first unit's settings from this file")
    cmd.add_argument("--target", dest="target_w", type=int, help="grid target, W")
    cmd.add_argument("--deadband", dest="deadband_w", type=float, help="deadband, W")
    cmd.add_argument("--step", dest="step_w", type=float, help="correct at once above this error, W")
    cmd.add_argument("--persistence", dest="persistence_ws", type=float, help="correct lasting errors after W·s")
    cmd.add_argument("--lean", dest="lean_w", type=float, help="lean towards import while the batteries work, W")
    cmd.add_argument("--allocation", choices=("equal", "soc_balance", "fewest_units"))
    prices = cmd.add_argument_group("prices", "bill the run, and plan with a tariff (needs --day)")
    prices.add_argument("--prices", type=Path, help="a start_utc,price_..._per_kwh CSV: the import price of each "
                        "interval (as in data/prices)")
    prices.add_argument("--tariff", type=Path, help="a TOML file with a [tariff] section as the service's (and "
                        "optionally [planner])")
    prices.add_argument("--prices-from", help="YYYY-MM-DD: the local date of the price series on which the first "
                        "day of the load file falls")
    prices.add_argument("--tz", default="Europe/Paris", help="the site's local time zone, which is the load file's "
                        "(default Europe/Paris)")
    prices.add_argument("--feed-in", type=float, help="paid per exported kWh (default 0)")
    prices.add_argument("--score-from-day", type=int, default=0, help="earlier days of --day are the planner's "
                        "history, not simulated or scored (default 0)")
    prices.add_argument("--no-planner", action="store_true", help="bill zero export only, with no plan")
    cmd.add_argument("--json", action="store_true", help="print JSON")
    cmd.set_defaults(handler=run_simulate)


def _household(args: argparse.Namespace) -> tuple[Household, float, float]:
    """The house, where it starts, and for how long at most."""
    if args.load is None:
        if args.pv is not None or args.seconds is not None or args.start_second or args.base_load:
            raise InvalidInputError("--pv, --base-load, --start-second and --seconds go with --load")
        household = household_from_arg(args.day)
        assert household is not None
        return household, -1.0, DAY_S
    if args.start_second < 0:
        raise InvalidInputError(f"--start-second must not be negative, got {args.start_second}")
    if not -5000 <= args.base_load <= 20_000:
        raise InvalidInputError(f"--base-load must be -5000..20000 W, got {args.base_load}")
    series = SecondSeries.from_files(args.load, args.pv, base_load_w=args.base_load, start_second=args.start_second)
    if args.seconds is not None and not args.seconds >= 1:
        raise InvalidInputError(f"--seconds must be at least 1, got {args.seconds}")
    length = series.period_s if args.seconds is None else min(series.period_s, args.seconds)
    return series, 0.0, length


def scenario_from_args(args: argparse.Namespace) -> Scenario:
    """Validate the flags into a scenario; InvalidInputError on bad values."""
    household, series_start, longest = _household(args)
    if not 1 <= args.units <= 16:
        raise InvalidInputError(f"--units must be 1..16, got {args.units}")
    if not 0 <= args.soc <= 100:
        raise InvalidInputError(f"--soc must be 0..100, got {args.soc}")
    days = getattr(household, "days", 1) if series_start < 0 else 1
    first_day = args.score_from_day
    if not 0 <= first_day < days:
        raise InvalidInputError(f"--score-from-day must be 0..{days - 1} for this file of {days} days, got {first_day}")
    most_h = 24.0 * (days - first_day)
    hours_wanted = args.hours if args.hours is not None else most_h
    if not 0 < hours_wanted <= most_h:
        raise InvalidInputError(f"--hours must be more than 0 and at most {most_h:g}, got {args.hours}")
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
    template = BatterySpec(capacity_wh=unit.capacity_wh, max_charge_w=unit.max_charge_w,
                           max_discharge_w=unit.max_discharge_w, dead_time_s=unit.dead_time_s,
                           ramp_w_per_s=unit.ramp_w_per_s)
    deads = per_unit_values(args.plant_dead_time, "--plant-dead-time", args.units, 0.0, 30.0)
    ramps = per_unit_values(args.plant_ramp, "--plant-ramp", args.units, 1.0, 100_000.0)
    if not 0 <= args.plant_report_lag <= 30:
        raise InvalidInputError(f"--plant-report-lag must be 0..30 s, got {args.plant_report_lag}")
    plant = [dataclasses.replace(template, dead_time_s=deads[i] if deads else template.dead_time_s,
                                 ramp_w_per_s=ramps[i] if ramps else template.ramp_w_per_s,
                                 report_lag_s=args.plant_report_lag) for i in range(args.units)]
    if series_start >= 0:  # a second series: --hours does not apply, it plays from its own start
        start, duration = series_start, longest
    else:
        start = first_day * DAY_S + hours * 3600 + minutes * 60
        duration = min(hours_wanted * 3600, (days - first_day) * DAY_S - hours * 3600 - minutes * 60)
    if not 0 <= args.meter_phase < args.meter_period:
        raise InvalidInputError("--meter-phase must be at least 0 and less than --meter-period")
    pricing = pricing_from_args(args, household, start) if series_start < 0 else None
    if pricing is None and series_start >= 0 and (args.prices or args.tariff):
        raise InvalidInputError("--prices and --tariff go with --day")
    return Scenario(household, units=args.units, soc_pct=args.soc, control=control, unit=unit,
                    start_s=start, duration_s=duration, plant=plant, meter_period_s=args.meter_period,
                    meter_phase_s=args.meter_phase, steer_polls=args.steer_polls, pricing=pricing)


def pricing_from_args(args: argparse.Namespace, household: Household, start_s: float) -> SimPricing | None:
    """The tariff, dates, planner and history the price flags describe (None without --prices / --tariff)."""
    if args.prices is None and args.tariff is None:
        if args.prices_from or args.feed_in is not None or args.no_planner:
            raise InvalidInputError("--prices-from, --feed-in and --no-planner go with --prices or --tariff")
        return None
    if args.prices is not None and args.tariff is not None:
        raise InvalidInputError("give --prices or --tariff, not both")
    if not args.prices_from:
        raise InvalidInputError("--prices and --tariff need --prices-from YYYY-MM-DD")
    try:
        first = date.fromisoformat(args.prices_from)
    except ValueError:
        raise InvalidInputError(f"--prices-from must be YYYY-MM-DD, got {args.prices_from!r}") from None
    data: dict[str, Any] = load_toml(args.tariff) if args.tariff is not None else {}
    unknown = set(data) - {"tariff", "planner"}
    if unknown:
        raise InvalidInputError(f"{args.tariff}: only [tariff] and [planner] belong here, not {sorted(unknown)}")
    section = dict(data.get("tariff", {}))
    if args.prices is not None:
        section.update(kind="dynamic", source="file", file=str(args.prices))
    section.setdefault("timezone", args.tz)
    if args.feed_in is not None:
        section["feed_in"] = args.feed_in
    planner = None if args.no_planner else dict(data.get("planner", {}))
    return build_pricing(section, planner, first, household, start_s)


async def run_simulate(args: argparse.Namespace) -> int:
    """Simulate and print."""
    scenario = scenario_from_args(args)
    if not args.verbose:
        logging.getLogger("smartsofar").setLevel(logging.WARNING)  # the simulated units' chatter
    site = args.day if args.load is None else getattr(scenario.household, "name", str(args.load))
    result: dict[str, Any] = {"day": site, **await simulate(scenario, args.controller)}
    pricing = scenario.pricing
    if pricing is not None and pricing.planner is not None:
        plain = dataclasses.replace(scenario, pricing=dataclasses.replace(pricing, planner=None))
        result["zero_export_cost"] = (await simulate(plain, args.controller))["cost"]
    elif pricing is not None:
        result["zero_export_cost"] = result["cost"]
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
    print(f"  sign flips {result['sign_flips_per_min']}/min   longest settle {result['settle_max_s']} s "
          f"({result['settled_steps']} steps settled, {result['unsettled_steps']} not within 2 min)")
    if pricing is not None:
        currency = pricing.tariff.config.currency
        print(f"  bill: {result['cost']:.2f} {currency} (zero export only {result['zero_export_cost']:.2f}, no battery "
              f"{result['none_cost']:.2f}); {result['grid_charged_kwh']:.1f} kWh charged from the grid")
    return 0
