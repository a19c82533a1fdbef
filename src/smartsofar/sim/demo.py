"""``smartsofar demo``: the whole product with no hardware.

Starts a simulated RS485 gateway with two ME3000SP units (a real Modbus RTU slave on 127.0.0.1), a simulated
Shelly Pro 3EM (a real HTTP server on 127.0.0.1), both driven by one household playing a day (a built-in one,
``sim.demo_days``, or the user's file) from the current time of day, a simulated evcc answering the
household's PV day as its solar forecast (``sim.solar_server``), and then the real service, configured like
any site: its configuration file is written into the demo's data directory and points at the simulators.
``--speed K`` runs the household's day K times faster; the control loop keeps real time. So that the History
page has something to show, a week of history is simulated first, in another process (``sim.prefill``),
while the demo already runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import tomlkit

from smartsofar.config import load_config
from smartsofar.errors import ConfigError, InvalidInputError
from smartsofar.logbuffer import LogBuffer, setup_logging
from smartsofar.plan.service import Planning
from smartsofar.service import CONFIG_FILE, Service, serve
from smartsofar.service_cli import host_port
from smartsofar.sim.cli import household_from_arg
from smartsofar.sim.inverter_server import BusFaults, InverterBus, serve_tcp
from smartsofar.sim.meter_server import SimMeter, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.sim.solar_server import create_solar_app
from smartsofar.storage.atomic import atomic_write
from smartsofar.tasks import cancel_and_wait
from smartsofar.web.server import start_http

log = logging.getLogger(__name__)
UNITS = ((1, "garage"), (2, "cellar"))


def add_demo_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``demo``."""
    demo = sub.add_parser("demo", help="run SmartSofar against simulated units and a simulated meter",
                          description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    demo.add_argument("--web", default="127.0.0.1:8080", help="HOST:PORT of the web page (default 127.0.0.1:8080)")
    demo.add_argument("--day", default="summer",
                      help="a built-in day (summer, winter) or a minute,load_w,pv_w CSV file")
    demo.add_argument("--speed", type=float, default=1.0, help="the household's day runs this many times faster")
    demo.add_argument("--soc", type=float, default=50.0, help="the batteries' state of charge at the start, %%")
    demo.add_argument("--data-dir", help="keep state and history here (default: a temporary directory)")
    demo.add_argument("--mqtt", help="also publish to this broker, mqtt://HOST:PORT")
    demo.add_argument("--history-days", type=int, default=7,
                      help="days of history to simulate before today, for the History page (default 7; 0: none)")
    demo.set_defaults(handler=run_demo)


async def run_demo(args: argparse.Namespace) -> int:
    """Start the simulators and the service; run until Ctrl-C."""
    if not 0 < args.speed <= 3600:
        raise InvalidInputError(f"--speed must be more than 0 and at most 3600, got {args.speed}")
    if not 0 <= args.soc <= 100:
        raise InvalidInputError(f"--soc must be 0..100, got {args.soc}")
    if not 0 <= args.history_days <= 7:
        raise InvalidInputError(f"--history-days must be 0..7 (the history keeps 7 days of detail), "
                                f"got {args.history_days}")
    web_host, web_port = host_port(args.web)
    household = household_from_arg(args.day)
    local = time.localtime()
    plant = Plant(household, [uid for uid, _ in UNITS], soc_pct=args.soc, speed=args.speed,
                  day_start_s=local.tm_hour * 3600 + local.tm_min * 60 + local.tm_sec)
    gateway = await serve_tcp(InverterBus(plant, BusFaults(late_rate=0.01), latency_s=0.15), "127.0.0.1", 0)
    meter = await start_http(create_meter_app(SimMeter(plant), "pro3em"), "127.0.0.1", 0)
    solar = await start_http(create_solar_app(household), "127.0.0.1", 0) if household is not None else None
    temporary = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="smartsofar-demo-")) if temporary else Path(args.data_dir)
    try:
        config_file = data_dir / CONFIG_FILE
        write_demo_config(config_file, gateway.sockets[0].getsockname()[1], meter.url, web_host, web_port, data_dir,
                          args.mqtt, getattr(args, "web_settings", None), solar.url if solar else None)
        setup_logging(args.verbose)
        service = Service(load_config(config_file), config_file, LogBuffer(), demo=True)
        filling: list[asyncio.Task[None]] = []

        def ready(running: Service) -> None:
            print(f"\nSmartSofar demo: open {running.url}\n  simulated units 1 and 2 on "
                  f"tcp://127.0.0.1:{gateway.sockets[0].getsockname()[1]}, simulated Shelly Pro 3EM on {meter.url}, "
                  f"simulated evcc (solar forecast) on {solar.url if solar else '-'}, "
                  f"household: {args.day} at {args.speed:g}x\n  configuration: {config_file}\n  Ctrl-C to stop\n",
                  flush=True)
            if args.history_days > 0:
                filling.append(asyncio.create_task(fill_history(running, args.day, args.history_days),
                                                   name="demo history"))

        try:
            return await serve(service, on_ready=ready)
        except OSError as exc:
            raise ConfigError(f"cannot serve the web page on {args.web} ({exc.strerror}); "
                              "try another port with --web 127.0.0.1:8090") from None
        finally:
            await cancel_and_wait(filling)
    finally:
        gateway.close()
        await meter.stop()
        if solar is not None:
            await solar.stop()
        if temporary:
            shutil.rmtree(data_dir, ignore_errors=True)


async def fill_history(service: Service, day: str, days: int) -> None:
    """Simulate ``days`` days before today into the running demo's history, in another process; then count
    today's simulated energy in the dashboard's "today" figures, and plan again from that history."""
    history, recorder = service.history, service.recorder
    if history is None:
        return
    log.info("filling the History page with %d simulated days of the demo's house (in the background)", days)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smartsofar.sim.prefill", "--db", str(history.path), "--day", day, "--days",
        str(days), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    try:
        out, err = await proc.communicate()
    except asyncio.CancelledError:
        with contextlib.suppress(ProcessLookupError):
            proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        reason = (err.decode(errors="replace").strip().splitlines() or ["no message"])[-1]
        log.warning("the demo's history could not be filled: %s", reason)
        return
    log.info("demo history: %s", out.decode(errors="replace").strip())
    if recorder is not None:
        await recorder.flush()
        await recorder.load_today()
    planning = service.engine.planning if service.engine is not None else None
    if isinstance(planning, Planning) and planning.enabled:
        await planning.replan()  # the plan made at the start had no history to forecast the house from


def write_demo_config(path: Path, gateway_port: int, meter_url: str, web_host: str, web_port: int, data_dir: Path,
                      mqtt: str | None, web_settings: dict[str, Any] | None = None, solar_url: str | None = None) \
        -> None:
    """The demo site's configuration, as a user would write it (kept unless it already exists). ``web_settings``
    go into ``[web]`` too (the Home Assistant add-on's ingress); ``solar_url`` is the simulated evcc's."""
    if path.exists():
        document = tomlkit.parse(path.read_text(encoding="utf-8"))  # a kept data directory: keep its settings
    else:
        document = tomlkit.document()
        document.add(tomlkit.comment("SmartSofar demo site: simulated units and meter on 127.0.0.1"))
    bus = tomlkit.aot()
    table = tomlkit.table()
    table["url"] = f"tcp://127.0.0.1:{gateway_port}"
    units = tomlkit.aot()
    for uid, name in UNITS:
        unit = tomlkit.table()
        unit["id"], unit["name"] = uid, name
        units.append(unit)
    table["units"] = units
    bus.append(table)
    document["buses"] = bus
    document["meter"] = {"url": meter_url, "model": "pro3em"}
    web = document.get("web") or tomlkit.table()
    web["host"], web["port"] = web_host, web_port
    web.update(web_settings or {})
    document["web"] = web
    document["storage"] = {"data_dir": str(data_dir)}
    if "tariff" not in document:  # a tariff that needs no internet, so the Plan page has prices to show
        document["tariff"] = {"kind": "time_of_use", "price": 0.2065, "preset": "heures_creuses",
                              "offpeak_price": 0.1579}
    pv_forecast = document.get("pv_forecast")
    if solar_url and (pv_forecast is None or pv_forecast.get("source") == "evcc"):  # the simulated evcc moves
        document["pv_forecast"] = {"source": "evcc", "url": solar_url}
    if mqtt:
        document["mqtt"] = {"url": mqtt}
    atomic_write(path, tomlkit.dumps(document), mode=0o600)

