"""``smartsofar sim-meter``: serve a simulated Shelly meter until interrupted."""

from __future__ import annotations

import argparse
from urllib.parse import urlsplit

from smartsofar.errors import ConfigError
from smartsofar.sim.cli import household_from_arg, ids_from_arg
from smartsofar.sim.meter_server import SIM_MODELS, SimMeter, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.web.server import start_http


def add_sim_meter_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``sim-meter``."""
    sim = sub.add_parser("sim-meter", help="serve a simulated Shelly meter over HTTP")
    sim.add_argument("--listen", default="127.0.0.1:8081", help="HOST:PORT (default 127.0.0.1:8081)")
    sim.add_argument("--model", default="pro3em", choices=SIM_MODELS)
    sim.add_argument("--password", help="require this password (digest for Gen2, basic for Gen1)")
    sim.add_argument("--day", help="household day: a minute,load_w,pv_w CSV file or a bundled day name")
    sim.add_argument("--speed", type=float, default=1.0, help="household day runs this many times faster")
    sim.add_argument("--units", default="", help="simulated battery units on the site (ids)")
    sim.add_argument("--noise", type=float, default=5.0, help="± W of noise per phase")
    sim.add_argument("--delay", type=float, default=0.0, help="seconds before each reply (slow meter)")
    sim.add_argument("--http-500", action="store_true", help="answer every request with HTTP 500")
    sim.add_argument("--frozen", action="store_true", help="repeat the first values forever")
    sim.add_argument("--outage", action="store_true", help="accept connections but never answer")
    sim.set_defaults(handler=run_sim_meter)


async def run_sim_meter(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    parts = urlsplit(f"//{args.listen}")
    if not parts.hostname or parts.port is None:
        raise ConfigError(f"--listen {args.listen!r}: use HOST:PORT")
    plant = Plant(household_from_arg(args.day), ids_from_arg(args.units), speed=args.speed)
    meter = SimMeter(plant, noise_w=args.noise)
    meter.faults.delay_s = args.delay
    meter.faults.http_500 = args.http_500
    meter.faults.frozen = args.frozen
    meter.faults.outage = args.outage
    server = await start_http(create_meter_app(meter, args.model, args.password), parts.hostname, parts.port)
    print(f"simulated {args.model} meter on {server.url}", flush=True)
    await server.task
    return 0
