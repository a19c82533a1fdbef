"""``smartsofar sim-meter``: a simulated grid meter, served as any source SmartSofar reads, until interrupted.

``--as shelly`` (default) serves a Shelly over HTTP and its WebSocket RPC; ``fronius`` a Fronius Solar API;
``p1`` DSMR 5 telegrams to every client of a TCP port (a P1 bridge); ``homeassistant`` a Home Assistant
WebSocket API with one sensor; ``mqtt`` publishes to a broker; ``sma`` multicasts Speedwire datagrams from
127.0.0.1. Each prints the URL to give SmartSofar.
"""

from __future__ import annotations

import argparse
import asyncio
from urllib.parse import urlsplit

from smartsofar.errors import ConfigError
from smartsofar.sim.cli import household_from_arg, ids_from_arg
from smartsofar.sim.fronius_meter import create_fronius_app
from smartsofar.sim.ha_server import SimHomeAssistant, serve_home_assistant
from smartsofar.sim.meter_server import SIM_MODELS, SimMeter, create_meter_app
from smartsofar.sim.mqtt_meter import SIM_MQTT_QUERY, publish_meter
from smartsofar.sim.p1_meter import serve_p1
from smartsofar.sim.plant import Plant
from smartsofar.sim.sma_meter import send_speedwire
from smartsofar.web.server import start_http

SERVED_AS = ("shelly", "fronius", "p1", "homeassistant", "mqtt", "sma")


def add_sim_meter_arguments(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``sim-meter``."""
    sim = sub.add_parser("sim-meter", help="serve a simulated grid meter (a Shelly, or any other source)")
    sim.add_argument("--as", dest="served_as", default="shelly", choices=SERVED_AS,
                     help="which meter it plays (default shelly)")
    sim.add_argument("--listen", default="127.0.0.1:8081",
                     help="HOST:PORT to serve on (default 127.0.0.1:8081); mqtt: the broker; sma: GROUP:PORT to "
                     "send to")
    sim.add_argument("--model", default="pro3em", choices=SIM_MODELS, help="shelly: the model")
    sim.add_argument("--password", help="shelly: require this password (digest for Gen2, basic for Gen1)")
    sim.add_argument("--token", default="demo-token", help="homeassistant: the access token it accepts")
    sim.add_argument("--topic", default="smartsofar-sim/grid", help="mqtt: the topic")
    sim.add_argument("--day", help="household day: a minute,load_w,pv_w CSV file, or a built-in day (summer, winter)")
    sim.add_argument("--speed", type=float, default=1.0, help="household day runs this many times faster")
    sim.add_argument("--units", default="", help="simulated battery units on the site (ids)")
    sim.add_argument("--noise", type=float, default=5.0, help="± W of noise per phase")
    sim.add_argument("--update", type=float, default=1.0,
                     help="the meter measures this often, s (default 1; 0: at each request)")
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
    host, port = parts.hostname, parts.port
    if args.update < 0:
        raise ConfigError("--update must be 0 or more seconds")
    plant = Plant(household_from_arg(args.day), ids_from_arg(args.units), speed=args.speed)
    meter = SimMeter(plant, noise_w=args.noise, update_period_s=args.update)
    meter.faults.delay_s = args.delay
    meter.faults.http_500 = args.http_500
    meter.faults.frozen = args.frozen
    meter.faults.outage = args.outage
    tasks = [asyncio.create_task(meter.run_updates())] if args.update > 0 else []
    kind = args.served_as
    if kind in ("shelly", "fronius"):
        app = create_meter_app(meter, args.model, args.password) if kind == "shelly" else create_fronius_app(meter)
        server = await start_http(app, host, port)
        url = server.url if kind == "shelly" else server.url.replace("http://", "fronius://")
        print(f"simulated {args.model if kind == 'shelly' else 'Fronius'} meter: --meter {url}", flush=True)
        await server.task
        return 0
    if kind == "p1":
        p1 = await serve_p1(meter, host, port)
        print(f"simulated P1 port (DSMR 5): --meter p1://{host}:{port}", flush=True)
        async with p1:
            await p1.serve_forever()
    elif kind == "homeassistant":
        ha = await serve_home_assistant(SimHomeAssistant(meter, args.token), host, port)
        print(f"simulated Home Assistant: --meter ha://{host}:{port}/sensor.grid_power (token {args.token}), or per "
              f"phase: ha://{host}:{port}/sensor.grid_power_l1,sensor.grid_power_l2,sensor.grid_power_l3", flush=True)
        await ha.serve_forever()
    elif kind == "mqtt":
        print(f"publishing to {host}:{port}: --meter 'mqtt://{host}:{port}/{args.topic}?{SIM_MQTT_QUERY}'",
              flush=True)
        await publish_meter(meter, host, port, args.topic)
    else:
        print(f"multicasting Speedwire to {host}:{port} from 127.0.0.1: --meter "
              f"'sma://{host}:{port}?interface=127.0.0.1'", flush=True)
        await send_speedwire(meter, host, port)
    for task in tasks:
        task.cancel()
    return 0
