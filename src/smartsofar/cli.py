"""The ``smartsofar`` command: argument parsing and dispatch to the sub-command modules.

Every user error (bad value, unreachable device, broken file) ends in one line on stderr and exit code 2;
a device that answers but refuses a command exits 1.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence

from smartsofar import __version__
from smartsofar.addon import add_addon_command
from smartsofar.commands_cli import add_bus_commands
from smartsofar.errors import SmartSofarError
from smartsofar.meter.cli import add_meter_commands
from smartsofar.service_cli import add_service_commands
from smartsofar.sim.cli import add_sim_commands
from smartsofar.sim.demo import add_demo_command
from smartsofar.sim.simulate_cli import add_simulate_command

EXIT_USAGE = 2


def build_parser() -> argparse.ArgumentParser:
    """The whole command-line grammar."""
    parser = argparse.ArgumentParser(
        prog="smartsofar", description="SmartSofar: zero-export control of Sofar ME3000SP battery inverters.")
    parser.add_argument("--version", action="version", version=f"smartsofar {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command_name", required=True, metavar="COMMAND")
    add_bus_commands(sub)
    add_sim_commands(sub)
    add_meter_commands(sub)
    add_simulate_command(sub)
    add_service_commands(sub)
    add_demo_command(sub)
    add_addon_command(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        code: int = asyncio.run(args.handler(args))
    except SmartSofarError as exc:
        print(f"smartsofar: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
