"""``smartsofar addon``: SmartSofar as a Home Assistant OS add-on.

The Supervisor starts the add-on's container with the options the user set in Home Assistant in
``/data/options.json`` and a token (``$SUPERVISOR_TOKEN``) for its API at ``http://supervisor``. At each
start this command:

1. maps the options onto ``/data/smartsofar.toml``: the bus (a serial port Home Assistant lists, or a
   ``tcp://`` gateway) with its units, and the grid meter. Keys the options leave empty stay as the settings
   page left them; the rest of the file is edited on the page;
2. with ``mqtt: auto``, takes the broker and its credentials from the Supervisor's MQTT service (the
   Mosquitto add-on), so discovery works with nothing typed;
3. serves the page for ingress: on port 8099, trusting only the Supervisor's ingress proxy (172.30.32.2),
   with the device's "Visit" link pointing at the add-on's panel;
4. runs the service, or, while no bus is set, the demo (simulated units and meter), saying what to set.

The file is validated as a whole before it is written (atomically); options that do not make a valid
configuration stop the add-on with the reason in its log, and the old file stays.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

import httpx
import tomlkit
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from smartsofar.config import Config, parse_config
from smartsofar.errors import ConfigError
from smartsofar.logbuffer import LogBuffer, setup_logging
from smartsofar.service import CONFIG_FILE, Service, serve
from smartsofar.service_cli import host_port
from smartsofar.sim.demo import run_demo
from smartsofar.storage.atomic import atomic_write

log = logging.getLogger(__name__)
SUPERVISOR = "http://supervisor"
INGRESS_PORT = 8099
INGRESS_PROXY = "172.30.32.2"  # the Supervisor's ingress gateway on the add-ons' network


class AddonUnit(BaseModel):
    """One unit on the bus, as the add-on's options list it."""

    model_config = ConfigDict(extra="forbid")
    id: int = Field(ge=1, le=247)
    name: str = Field("", max_length=40)


class AddonOptions(BaseModel):
    """``/data/options.json``: what ``config.yaml``'s schema lets the user set."""

    model_config = ConfigDict(extra="forbid")
    serial_port: str | None = None
    gateway_url: str | None = None
    units: list[AddonUnit] = Field(default_factory=list)
    meter_url: str | None = None
    meter_password: str | None = None
    mqtt: Literal["auto", "off"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"

    def bus_url(self) -> str | None:
        """The bus to use: the gateway when one is given, else the serial port."""
        if self.gateway_url:
            return self.gateway_url
        if self.serial_port:
            return self.serial_port if "://" in self.serial_port else f"serial://{self.serial_port}"
        return None


def read_options(path: Path) -> AddonOptions:
    """The options the Supervisor wrote; ConfigError saying which one is wrong."""
    try:
        return AddonOptions.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return AddonOptions()
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: not JSON ({exc})") from None
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'options'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(f"add-on options: {problems}") from None


class Supervisor:
    """The few Supervisor API calls the add-on makes."""

    def __init__(self, url: str, token: str | None) -> None:
        self.url = url.rstrip("/")
        self.token = token

    async def _get(self, path: str) -> dict[str, Any] | None:
        if not self.token:
            return None
        try:
            async with httpx.AsyncClient(timeout=10) as http:
                reply = await http.get(f"{self.url}{path}", headers={"Authorization": f"Bearer {self.token}"})
            body = reply.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("the Supervisor did not answer %s: %s", path, exc)
            return None
        if reply.status_code != 200 or not isinstance(body, dict) or body.get("result") != "ok":
            message = body.get("message") if isinstance(body, dict) else None
            log.info("the Supervisor has no %s (%s)", path, message or reply.status_code)
            return None
        data = body.get("data")
        return data if isinstance(data, dict) else None

    async def mqtt_url(self) -> str | None:
        """``mqtt[s]://user:password@host:port`` of the broker the Supervisor offers, if any."""
        data = await self._get("/services/mqtt")
        if not data or not data.get("host"):
            return None
        credentials = ""
        if data.get("username"):
            credentials = quote(str(data["username"]), safe="") + ":" + quote(str(data.get("password", "")), safe="")
            credentials += "@"
        scheme = "mqtts" if data.get("ssl") else "mqtt"
        return f"{scheme}://{credentials}{data['host']}:{int(data.get('port') or 1883)}"

    async def slug(self) -> str | None:
        """This add-on's slug, for its panel's address."""
        data = await self._get("/addons/self/info")
        slug = data.get("slug") if data else None
        return str(slug) if slug else None


def web_settings(slug: str | None, listen: str = f"0.0.0.0:{INGRESS_PORT}") -> dict[str, Any]:
    """The page behind ingress: every address of the add-ons' network, the ingress proxy trusted."""
    host, port = host_port(listen)
    web: dict[str, Any] = {"host": host, "port": port, "trusted_proxies": [INGRESS_PROXY]}
    if slug:
        web["public_url"] = f"homeassistant://hassio/ingress/{slug}"
    return web


def apply_options(document: tomlkit.TOMLDocument, options: AddonOptions, mqtt_url: str | None,
                  slug: str | None, data_dir: Path, listen: str = f"0.0.0.0:{INGRESS_PORT}") -> None:
    """Put the options over the file's values (in place)."""
    bus_url = options.bus_url()
    if bus_url:
        units = options.units or [AddonUnit(id=1)]
        buses = tomlkit.aot()
        bus = tomlkit.table()
        old = document.get("buses")
        if old and isinstance(old[0], dict):
            bus.update({k: v for k, v in old[0].items() if k not in ("url", "units")})  # its timeouts stay
        bus["url"] = bus_url
        bus["units"] = [{"id": u.id, **({"name": u.name} if u.name else {})} for u in units]
        buses.append(bus)
        document["buses"] = buses
    if options.meter_url:
        meter = {"url": options.meter_url}
        if options.meter_password:
            meter["password"] = options.meter_password
        document["meter"] = meter
    mqtt = document.get("mqtt") or tomlkit.table()
    if options.mqtt == "auto" and mqtt_url:
        mqtt["url"] = mqtt_url
        for key in ("username", "password"):  # the URL carries the Supervisor's credentials
            mqtt.pop(key, None)
        document["mqtt"] = mqtt
    elif options.mqtt == "off" and "url" in mqtt:
        del mqtt["url"]
    web = document.get("web") or tomlkit.table()
    web.update(web_settings(slug, listen))
    document["web"] = web
    storage = document.get("storage") or tomlkit.table()
    storage["data_dir"] = str(data_dir)
    document["storage"] = storage


def write_config(path: Path, options: AddonOptions, mqtt_url: str | None, slug: str | None,
                 listen: str = f"0.0.0.0:{INGRESS_PORT}") -> Config:
    """Map the options onto the file and return what it now configures; ConfigError (the file unchanged)
    when they make no valid configuration."""
    document = tomlkit.parse(path.read_text(encoding="utf-8")) if path.exists() else tomlkit.document()
    apply_options(document, options, mqtt_url, slug, path.parent, listen)
    config = parse_config(document.unwrap(), "the add-on options")
    atomic_write(path, tomlkit.dumps(document), mode=0o600)
    return config


def add_addon_command(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``addon``."""
    addon = sub.add_parser("addon", help="run as a Home Assistant OS add-on (the add-on's container runs this)")
    addon.add_argument("--options", type=Path, default=Path("/data/options.json"), help="the add-on's options")
    addon.add_argument("--data-dir", type=Path, default=Path("/data"), help="the add-on's data directory")
    addon.add_argument("--supervisor", default=SUPERVISOR, help="the Supervisor's API (default %(default)s)")
    addon.add_argument("--web", default=f"0.0.0.0:{INGRESS_PORT}", help="where the page listens: ingress's port "
                       "(default %(default)s)")
    addon.set_defaults(handler=run_addon)


async def run_addon(args: argparse.Namespace) -> int:
    """Map the options, then run the service, or the demo while no bus is set."""
    options = read_options(args.options)
    setup_logging(args.verbose or options.log_level == "debug")
    logging.getLogger("smartsofar").setLevel(options.log_level.upper())
    supervisor = Supervisor(args.supervisor, os.environ.get("SUPERVISOR_TOKEN"))
    mqtt_url = await supervisor.mqtt_url() if options.mqtt == "auto" else None
    if options.mqtt == "auto" and mqtt_url is None:
        log.info("no MQTT broker offered by the Supervisor (install the Mosquitto add-on for Home Assistant's "
                 "discovery), or set mqtt to off")
    slug = await supervisor.slug()
    data_dir: Path = args.data_dir
    if options.bus_url() is None:
        log.warning("no serial_port or gateway_url in the add-on's options: running the demo (simulated units "
                    "and meter) until they are set")
        demo = argparse.Namespace(day="summer", speed=1.0, soc=50.0, data_dir=str(data_dir / "demo"),
                                  history_days=7, mqtt=mqtt_url, web=args.web, verbose=args.verbose,
                                  web_settings=web_settings(slug, args.web))
        (data_dir / "demo").mkdir(parents=True, exist_ok=True)
        return await run_demo(demo)
    path = data_dir / CONFIG_FILE
    config = write_config(path, options, mqtt_url, slug, args.web)
    if missing := config.missing():
        raise ConfigError("the add-on cannot run yet: " + "; ".join(missing) + " (set it in the add-on's options "
                          "or on the settings page)")
    return await serve(Service(config, path, LogBuffer()))
