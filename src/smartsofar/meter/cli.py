"""``smartsofar meter`` (read one sample) and ``smartsofar sim-meter`` (serve a simulated Shelly)."""

from __future__ import annotations

import argparse
import json

from smartsofar.config import parse_meter
from smartsofar.config_meters import METER_TYPES, METER_URL_SHAPES
from smartsofar.meter.base import METER_MODELS, PHASE_CHOICES
from smartsofar.meter.sources import open_meter_source
from smartsofar.sim.meter_cli import add_sim_meter_arguments


def add_meter_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``meter`` and ``sim-meter``."""
    meter = sub.add_parser("meter", help="read one sample from a grid meter")
    meter.add_argument("--url", required=True, help=f"where the meter is: {METER_URL_SHAPES}")
    meter.add_argument("--type", choices=METER_TYPES, help="the kind of meter (default: what the URL names)")
    meter.add_argument("--user", help="Shelly: user name (Gen2 devices always use admin)")
    meter.add_argument("--password", help="Shelly: the meter's password, if one is set")
    meter.add_argument("--model", choices=METER_MODELS, help="Shelly: its model (default: ask the device)")
    meter.add_argument("--channel", type=int, help="Shelly Pro EM / EM Gen3 / EM Gen1: the grid channel (0 or 1)")
    meter.add_argument("--token", help="Home Assistant: a long-lived access token")
    meter.add_argument("--invert", action="store_true", help="the meter is installed reversed")
    meter.add_argument("--phase", default="sum", choices=PHASE_CHOICES, help="follow the sum or one phase")
    meter.add_argument("--timeout", type=float, default=2.0, help="seconds to wait for an answer (default 2)")
    meter.add_argument("--wait", type=float, help="pushing meters: seconds to wait for a message (default 5)")
    meter.add_argument("--json", action="store_true", help="print JSON")
    meter.set_defaults(handler=run_meter)
    add_sim_meter_arguments(sub)


async def run_meter(args: argparse.Namespace) -> int:
    """Print one decoded sample (the flags are validated as a ``[meter]`` section would be)."""
    given = {"type": args.type, "url": args.url, "user": args.user, "password": args.password,
             "model": args.model, "channel": args.channel, "invert": args.invert, "phase": args.phase,
             "timeout_s": args.timeout, "token": args.token, "stale_after_s": args.wait}
    meter = await open_meter_source(parse_meter({k: v for k, v in given.items() if v is not None}, "meter flags"))
    try:
        sample = await meter.read()
    finally:
        await meter.aclose()
    if args.json:
        print(json.dumps({"model": meter.model, **sample.to_json()}, indent=2))
        return 0
    direction = "import" if sample.power_w >= 0 else "export"
    print(f"{meter.model}: grid {abs(sample.power_w):.1f} W {direction}")
    for letter, phase in zip("abc", sample.phases, strict=False):
        print(f"  phase {letter}: {phase.power_w:8.1f} W  {phase.voltage_v} V  {phase.current_a} A  "
              f"pf {phase.power_factor}")
    if sample.import_wh is not None:
        exported = (sample.export_wh or 0) / 1000
        print(f"  energy: {sample.import_wh / 1000:.3f} kWh imported, {exported:.3f} kWh exported")
    return 0
