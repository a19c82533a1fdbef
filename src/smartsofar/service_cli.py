"""``smartsofar run``, ``config check [--probe]``, ``init``, ``passwd``, ``token`` and ``healthcheck``: the service
and its set-up.

Where the configuration comes from: ``--config FILE``, else ``$SMARTSOFAR_CONFIG``, else
``DATA_DIR/smartsofar.toml`` if it exists (DATA_DIR from ``--data-dir``, ``$SMARTSOFAR_DATA_DIR`` or the
default). Flags override the file, and with flags alone no file is needed.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path
from typing import Any

import httpx

from smartsofar.config import Config, config_path, default_data_dir, load_config, load_toml, parse_config
from smartsofar.config_example import example_config
from smartsofar.config_meters import METER_URL_SHAPES
from smartsofar.errors import ConfigError, InvalidInputError
from smartsofar.logbuffer import LogBuffer, setup_logging
from smartsofar.meter.base import METER_MODELS
from smartsofar.modes import Mode
from smartsofar.probe import probe_site
from smartsofar.redact import redact_url
from smartsofar.service import CONFIG_FILE, Service, serve
from smartsofar.sim.cli import ids_from_arg
from smartsofar.storage.atomic import atomic_write
from smartsofar.web.auth import hash_password, new_token
from smartsofar.web.settings import SettingsFile


def add_service_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register run, config, init, passwd, token and healthcheck."""
    run = sub.add_parser("run", help="run SmartSofar: the control engine, the web page and MQTT",
                         description="Flags override the configuration file; with --bus, --units and --meter "
                         "no file is needed.")
    add_site_flags(run)
    run.set_defaults(handler=run_service)

    config = sub.add_parser("config", help="check a configuration file")
    config_sub = config.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    check = config_sub.add_parser("check", help="validate a file and say what it describes")
    check.add_argument("file", type=Path)
    check.add_argument("--probe", action="store_true",
                       help="also read every unit and the meter once (reads only, no command is sent)")
    check.set_defaults(handler=run_config_check)

    init = sub.add_parser("init", help="write a commented example configuration")
    init.add_argument("file", type=Path, nargs="?", default=Path(CONFIG_FILE), help=f"default ./{CONFIG_FILE}")
    init.add_argument("--force", action="store_true", help="replace an existing file")
    init.set_defaults(handler=run_init)

    passwd = sub.add_parser("passwd", help="set the web page's password (stored as a hash in the configuration)")
    passwd.add_argument("--config", help="the configuration file (see 'run')")
    passwd.add_argument("--data-dir", help="data directory, where the configuration is kept by default")
    passwd.add_argument("--stdin", action="store_true", help="read the password from standard input")
    passwd.set_defaults(handler=run_passwd)

    health = sub.add_parser("healthcheck", help="exit 0 if the service's control loop runs (Docker's HEALTHCHECK)",
                            description="Asks URL/healthz; exit 0 while the control loop cycles, 1 otherwise.")
    health.add_argument("--url", default="http://127.0.0.1:8080", help="the service's page (default %(default)s)")
    health.add_argument("--timeout", type=float, default=5.0, help="seconds (default %(default)s)")
    health.set_defaults(handler=run_healthcheck)

    token = sub.add_parser("token", help="create a new API token for scripts (printed once)")
    token.add_argument("--config", help="the configuration file (see 'run')")
    token.add_argument("--data-dir", help="data directory, where the configuration is kept by default")
    token.set_defaults(handler=run_token)


def add_site_flags(parser: argparse.ArgumentParser) -> None:
    """The flags ``run`` shares with ``demo``."""
    parser.add_argument("--config", help="configuration file (or $SMARTSOFAR_CONFIG)")
    parser.add_argument("--bus", help="serial:///dev/ttyUSB0?baudrate=9600 or tcp://HOST:PORT")
    parser.add_argument("--units", help="slave ids on that bus, e.g. 1,2")
    parser.add_argument("--meter", help=f"the grid meter: {METER_URL_SHAPES}")
    parser.add_argument("--meter-password", help="a Shelly's password (or in the file)")
    parser.add_argument("--meter-model", choices=METER_MODELS, help="a Shelly's model (default: ask it)")
    parser.add_argument("--web", help="HOST:PORT for the web page (default 127.0.0.1:8080)")
    parser.add_argument("--data-dir", help="where state and history are kept (or $SMARTSOFAR_DATA_DIR)")
    parser.add_argument("--mode", choices=Mode.names(), help="mode at the very first start")
    parser.add_argument("--mqtt", help="mqtt://[user:pass@]HOST:PORT of a broker")


def host_port(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6); InvalidInputError else."""
    host, sep, port = text.rpartition(":")
    host = host.strip("[]")
    if not sep or not host or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise InvalidInputError(f"expected HOST:PORT, got {text!r}")
    return host, int(port)


def resolve(args: argparse.Namespace) -> tuple[Config, Path]:
    """The configuration to run with (file, then flags) and where settings are saved."""
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    path = config_path(args.config)
    if path is None and (data_dir / CONFIG_FILE).exists():
        path = data_dir / CONFIG_FILE
    data: dict[str, Any] = load_toml(path) if path is not None else {}
    apply_flags(data, args)
    source = str(path) if path else "flags"
    config = parse_config(data, source)
    return config, path or config.storage.data_dir / CONFIG_FILE


def apply_flags(data: dict[str, Any], args: argparse.Namespace) -> None:
    """Put the command line's values over the file's."""
    if args.bus or args.units:
        if not (args.bus and args.units):
            raise ConfigError("--bus and --units go together, e.g. --bus tcp://192.0.2.10:8899 --units 1,2")
        data["buses"] = [{"url": args.bus, "units": [{"id": uid} for uid in ids_from_arg(args.units)]}]
    if args.meter or args.meter_password or args.meter_model:
        meter = data.setdefault("meter", {})
        for key, value in (("url", args.meter), ("password", args.meter_password), ("model", args.meter_model)):
            if value:
                meter[key] = value
    if args.web:
        host, port = host_port(args.web)
        data.setdefault("web", {}).update(host=host, port=port)
    if args.data_dir:
        data.setdefault("storage", {})["data_dir"] = args.data_dir
    if args.mode:
        data.setdefault("control", {})["mode"] = args.mode
    if args.mqtt:
        data.setdefault("mqtt", {})["url"] = args.mqtt


async def run_service(args: argparse.Namespace) -> int:
    """Run until SIGTERM / Ctrl-C."""
    config, settings_path = resolve(args)
    if missing := config.missing():
        print("smartsofar: nothing to run yet: " + "; ".join(missing) + ".\n"
              "  Give them as flags: smartsofar run --bus tcp://HOST:PORT --units 1,2 --meter http://SHELLY\n"
              "  or in a file:       smartsofar init smartsofar.toml, then smartsofar run --config smartsofar.toml\n"
              "  or try it all out:  smartsofar demo", file=sys.stderr)
        return 2
    setup_logging(args.verbose)
    return await serve(Service(config, settings_path, LogBuffer()))


async def run_config_check(args: argparse.Namespace) -> int:
    """Validate a file; describe what it configures; with --probe, see whether its units and meter answer."""
    config = load_config(args.file)
    print(f"{args.file}: valid")
    for bus, unit in config.units:
        print(f"  {unit.label}: slave id {unit.id} on {bus.url}, {unit.max_charge_w} W charge / "
              f"{unit.max_discharge_w} W discharge, {unit.capacity_wh} Wh")
    meter = config.meter
    print(f"  meter: {meter.label} at {redact_url(meter.url)}" if meter
          else "  meter: none (manual and standby modes only)")
    control = config.control
    print(f"  control: {control.mode} at first start, target {control.target_w:+d} W, allocation {control.allocation}")
    print(f"  web: http://{config.web.host}:{config.web.port} "
          f"({'password set' if config.web.password_hash else 'no password'})")
    print(f"  mqtt: {'on, ' + config.mqtt.base_topic if config.mqtt.url else 'off'}")
    print(f"  data: {config.storage.data_dir}")
    for problem in config.missing():
        print(f"  note: {problem}")
    if not args.probe:
        return 0
    print("probing (reads only):")
    results = await probe_site(config)
    for result in results:
        print(result.line(), flush=True)
    return 0 if all(r.answered for r in results) else 1


async def run_init(args: argparse.Namespace) -> int:
    """Write the commented example (never over an existing file unless --force)."""
    if args.file.exists() and not args.force:
        raise ConfigError(f"{args.file} exists; it was not changed (use --force to replace it)")
    atomic_write(args.file, example_config(), mode=0o600)
    print(f"wrote {args.file}: edit the bus, the units and the meter, then: smartsofar config check {args.file}")
    return 0


def _settings_file(args: argparse.Namespace) -> SettingsFile:
    data_dir = Path(args.data_dir) if args.data_dir else default_data_dir()
    path = config_path(args.config) or data_dir / CONFIG_FILE
    config = load_config(path) if path.exists() else Config()
    return SettingsFile(path, config)


def _read_password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("new web password: ")
    if getpass.getpass("again: ") != first:
        raise InvalidInputError("the two passwords differ; nothing was changed")
    return first


async def run_passwd(args: argparse.Namespace) -> int:
    """Store the web password's hash."""
    settings = _settings_file(args)
    hashed = hash_password(_read_password(args.stdin))
    settings.save({"web.password_hash": hashed}, hidden_ok=True)
    print(f"password saved in {settings.path}; restart SmartSofar for it to take effect "
          "(or change it from the web page's settings, which applies at once)")
    return 0


async def run_token(args: argparse.Namespace) -> int:
    """Store a new API token's hash and print the token once."""
    settings = _settings_file(args)
    token, hashed = new_token()
    settings.save({"web.api_token_hash": hashed}, hidden_ok=True)
    print(token)
    print(f"(saved as a hash in {settings.path}; it is not shown again. Use it as 'Authorization: Bearer TOKEN', "
          "or for /update as ?token=TOKEN)", file=sys.stderr)
    return 0


async def run_healthcheck(args: argparse.Namespace) -> int:
    """0 while the service answers that its control loop cycles; 1 (and why, on stderr) otherwise."""
    url = args.url.rstrip("/") + "/healthz"
    try:
        async with httpx.AsyncClient(timeout=args.timeout) as http:
            reply = await http.get(url)
    except httpx.HTTPError as exc:
        print(f"smartsofar: unhealthy: {url} did not answer ({exc.__class__.__name__}: {exc})", file=sys.stderr)
        return 1
    if reply.status_code != 200:
        print(f"smartsofar: unhealthy: {url} answered {reply.status_code} {reply.text[:200]}", file=sys.stderr)
        return 1
    print(reply.json().get("status", "ok"))
    return 0
