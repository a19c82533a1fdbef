"""``smartsofar sim-inverter``: run a simulated ME3000 bus until interrupted."""

from __future__ import annotations

import argparse
import sys
from urllib.parse import urlsplit

from smartsofar.errors import ConfigError, InvalidInputError
from smartsofar.sim.battery import BatterySpec
from smartsofar.sim.demo_days import demo_day
from smartsofar.sim.household import DayProfile, Household
from smartsofar.sim.inverter_server import BusFaults, InverterBus, SerialLink, serve_tcp
from smartsofar.sim.plant import Plant


def add_sim_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``sim-inverter``."""
    sim = sub.add_parser("sim-inverter", help="serve simulated ME3000SP units on a TCP port, serial device or pty")
    sim.add_argument("--listen", default="tcp://127.0.0.1:5020",
                     help="tcp://HOST:PORT, serial:///dev/DEVICE (e.g. one end of a socat pair) or pty")
    sim.add_argument("--units", default="1", help="comma-separated slave ids, e.g. 1,2")
    sim.add_argument("--soc", type=float, default=50.0, help="initial state of charge, %%")
    sim.add_argument("--day", help="household day: a minute,load_w,pv_w CSV file, or a built-in day (summer, winter)")
    sim.add_argument("--speed", type=float, default=1.0, help="household day runs this many times faster")
    sim.add_argument("--latency", type=float, default=0.15, help="reply latency, s")
    sim.add_argument("--late-rate", type=float, default=0.01, help="share of replies sent late (1.2 s)")
    sim.add_argument("--drop-rate", type=float, default=0.0, help="share of replies dropped")
    sim.add_argument("--corrupt-rate", type=float, default=0.0, help="share of replies with a flipped bit")
    sim.add_argument("--stray-rate", type=float, default=0.0, help="share of replies preceded by a stray frame")
    sim.add_argument("--noise-rate", type=float, default=0.0, help="share of replies preceded by noise")
    sim.add_argument("--offline", default="", help="slave ids that never answer")
    sim.add_argument("--fault", default="", help="slave ids in FaultState")
    sim.add_argument("--not-passive", default="", help="slave ids whose screen is not set to Passive mode")
    sim.add_argument("--dead-time", help="seconds before a command acts (default 1; a comma list: one per unit)")
    sim.add_argument("--ramp", help="how fast the power moves, W/s (default 1000; a comma list: one per unit)")
    sim.set_defaults(handler=run_sim_inverter)


def ids_from_arg(text: str) -> list[int]:
    try:
        ids = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise InvalidInputError(f"unit ids must be numbers separated by commas, got {text!r}") from None
    if any(not 1 <= i <= 247 for i in ids):
        raise InvalidInputError("unit ids must be 1..247")
    return ids


def per_unit_values(text: str | None, flag: str, units: int, low: float, high: float) -> list[float] | None:
    """A number, or a comma list of one per unit, each within [low, high]; None when not given."""
    if text is None:
        return None
    try:
        values = [float(part) for part in text.split(",")]
    except ValueError:
        raise InvalidInputError(f"{flag} must be a number or a comma list of numbers, got {text!r}") from None
    if len(values) == 1:
        values *= units
    if len(values) != units:
        raise InvalidInputError(f"{flag} gives {len(values)} values for {units} units")
    if any(not low <= v <= high for v in values):
        raise InvalidInputError(f"{flag} values must be {low:g}..{high:g}")
    return values


def household_from_arg(day: str | None) -> Household | None:
    if day is None:
        return None
    if day.endswith(".csv"):
        return DayProfile.from_csv(day)
    return demo_day(day)


def build_bus(args: argparse.Namespace) -> InverterBus:
    """The simulated bus the flags describe."""
    unit_ids = ids_from_arg(args.units)
    if not unit_ids:
        raise InvalidInputError("--units needs at least one slave id")
    deads = per_unit_values(args.dead_time, "--dead-time", len(unit_ids), 0.0, 30.0)
    ramps = per_unit_values(args.ramp, "--ramp", len(unit_ids), 1.0, 100_000.0)
    specs = {uid: BatterySpec(dead_time_s=deads[i] if deads else 1.0, ramp_w_per_s=ramps[i] if ramps else 1000.0)
             for i, uid in enumerate(unit_ids)}
    plant = Plant(household_from_arg(args.day), unit_ids, soc_pct=args.soc, speed=args.speed, specs=specs)
    for uid in ids_from_arg(args.fault):
        plant.units[uid].fault_word_1 = 0x0001
    for uid in ids_from_arg(args.not_passive):
        plant.units[uid].passive_selected = False
    faults = BusFaults(drop_rate=args.drop_rate, corrupt_rate=args.corrupt_rate, stray_rate=args.stray_rate,
                       noise_rate=args.noise_rate, late_rate=args.late_rate,
                       offline_units=set(ids_from_arg(args.offline)))
    return InverterBus(plant, faults, latency_s=args.latency)


async def run_sim_inverter(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    bus = build_bus(args)
    units = ",".join(str(u) for u in bus.plant.units)
    if args.listen == "pty":
        link, path = SerialLink.open_pty()
        print(f"simulated ME3000 units {units} on serial://{path}", flush=True)
        await bus.serve_link(link.read, link.write)
        return 0
    parts = urlsplit(args.listen)
    if parts.scheme == "serial":
        link = SerialLink.open_path(parts.path)
        print(f"simulated ME3000 units {units} on serial://{parts.path}", flush=True)
        await bus.serve_link(link.read, link.write)
        return 0
    if parts.scheme != "tcp" or not parts.hostname or not parts.port:
        raise ConfigError(f"--listen {args.listen!r}: use tcp://HOST:PORT, serial:///dev/DEVICE or pty")
    server = await serve_tcp(bus, parts.hostname, parts.port)
    port = server.sockets[0].getsockname()[1]
    print(f"simulated ME3000 units {units} on tcp://{parts.hostname}:{port}", flush=True)
    sys.stdout.flush()
    async with server:
        await server.serve_forever()
    return 0
