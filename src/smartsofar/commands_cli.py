"""``smartsofar read`` and ``smartsofar command``: talk to one unit on a bus, for set-up and diagnosis."""

from __future__ import annotations

import argparse
import json
from typing import Any

from smartsofar.bus.client import Bus
from smartsofar.errors import InvalidInputError
from smartsofar.sofar.passive import PassiveCommand
from smartsofar.sofar.register_map import RUNNING_DATA
from smartsofar.sofar.unit import SofarUnit

VERBS = ("standby", "charge", "discharge", "auto", "heartbeat")


def add_bus_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``read`` and ``command``."""
    read = sub.add_parser("read", help="read and decode every value of one unit")
    _bus_args(read)
    read.add_argument("--json", action="store_true", help="print JSON instead of a table")
    read.set_defaults(handler=run_read)

    command = sub.add_parser("command", help="send one passive-mode command to one unit",
                             description="Verbs: standby | charge W | discharge W | auto [W] | heartbeat. "
                             "auto's W is the grid target, W > 0 import (default 0).")
    _bus_args(command)
    command.add_argument("verb", help="standby, charge, discharge, auto or heartbeat")
    command.add_argument("power", nargs="?", help="W (charge/discharge 0..3000; auto -9999..9999)")
    command.add_argument("--json", action="store_true", help="print JSON")
    command.set_defaults(handler=run_command)


def _bus_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--bus", required=True, help="serial:///dev/ttyUSB0?baudrate=9600 or tcp://HOST:PORT")
    parser.add_argument("--unit", required=True, type=_unit_id, help="Modbus slave id (1..247)")
    parser.add_argument("--timeout", type=float, default=1.5, help="seconds per attempt (default 1.5)")


def _unit_id(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"unit id must be a number, got {text!r}") from None
    if not 1 <= value <= 247:
        raise argparse.ArgumentTypeError(f"unit id must be 1..247, got {value}")
    return value


def parse_command(verb: str, power: str | None) -> PassiveCommand | None:
    """Validate a command line's verb and power; None means heartbeat. InvalidInputError otherwise."""
    if verb not in VERBS:
        raise InvalidInputError(f"unknown command {verb!r}; use one of {', '.join(VERBS)}")
    if verb in ("standby", "heartbeat"):
        if power is not None:
            raise InvalidInputError(f"{verb} takes no power")
        return None if verb == "heartbeat" else PassiveCommand("standby")
    if power is None:
        if verb == "auto":
            return PassiveCommand("auto", 0)
        raise InvalidInputError(f"{verb} needs a power in W, e.g. '{verb} 1500'")
    try:
        watts = int(power)
    except ValueError:
        raise InvalidInputError(f"power must be a whole number of watts, got {power!r}") from None
    return PassiveCommand(verb, watts)  # type: ignore[arg-type]  # verb checked against VERBS above


async def run_read(args: argparse.Namespace) -> int:
    """Read running data, settings and identity of one unit and print them."""
    async with Bus(args.bus, timeout_s=args.timeout) as bus:
        unit = SofarUnit(bus, args.unit)
        reading = await unit.read()
        settings = await unit.read_settings()
        info = await unit.read_info()
    if args.json:
        out: dict[str, Any] = reading.to_json()
        out["unit_id"] = args.unit
        out["settings"] = settings.values
        out["info"] = {"serial": info.serial, "software_version": info.software_version,
                       "hardware_version": info.hardware_version, "production_code": info.production_code}
        print(json.dumps(out, indent=2, ensure_ascii=False))
        return 0
    print(f"unit {args.unit} on {bus.url}: serial {info.serial}, software {info.software_version}, "
          f"hardware {info.hardware_version}")
    print(f"state: {reading.running_state.words}")
    for row in RUNNING_DATA:
        value = getattr(reading, row.name)
        shown = f"0x{value:04X}" if row.unit == "bits" else value.words if row.name == "running_state" else value
        print(f"  0x{row.address:04X}  {row.name:<24} {shown!s:>12} {row.unit:<4}  {row.description}")
    for title, items in (("faults", reading.faults), ("battery faults", reading.battery_faults),
                         ("alerts", reading.alerts), ("communication board", reading.comm_board_faults)):
        print(f"{title}: {', '.join(f'{f.label} ({f.description})' for f in items) or 'none'}")
    print("settings: " + ", ".join(f"{k}={v}" for k, v in settings.values.items()))
    return 0


async def run_command(args: argparse.Namespace) -> int:
    """Validate first (nothing is sent on bad input), then send one command and print the status word."""
    command = parse_command(args.verb, args.power)
    async with Bus(args.bus, timeout_s=args.timeout) as bus:
        unit = SofarUnit(bus, args.unit)
        if command is None:
            await unit.heartbeat()
            print(json.dumps({"unit_id": args.unit, "heartbeat": "answered"}) if args.json
                  else f"unit {args.unit}: heartbeat answered")
            return 0
        status = await unit.command(command)
    if args.json:
        print(json.dumps({"unit_id": args.unit, "command": command.describe(), **status.to_json()}))
    else:
        print(f"unit {args.unit}: {command.describe()}: {status.describe()}")
    return 0 if status.accepted else 1
