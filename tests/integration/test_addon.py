"""The Home Assistant add-on: ``smartsofar addon`` as the add-on's container runs it, with its options file, a
Supervisor on 127.0.0.1 (a real HTTP server answering its API as the Supervisor does) offering a Mosquitto that
takes only its credentials, and the simulated units and meter. Also the add-on's own files (config.yaml and the
others), checked against what the command accepts."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import tomlkit
import yaml
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from smartsofar import __version__
from smartsofar.addon import AddonOptions, apply_options, read_options
from smartsofar.errors import ConfigError
from smartsofar.web.server import RunningHttpServer, start_http
from tests.integration.test_service import Site, site  # noqa: F401  # the simulated units and meter
from tests.live_service import eventually
from tests.mqtt_broker import MOSQUITTO, Broker, Listener, free_port

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "supervisor-token-for-this-add-on"
USER, PASSWORD = "addons", "Th3 add-on's pw/!"
SLUG = "a0d7b954_smartsofar"


def supervisor_app(broker_port: int | None) -> Starlette:
    """The Supervisor's API, as far as the add-on uses it: its answers' shape, and the token it requires."""

    def answer(request: Request, data: dict[str, Any] | None) -> JSONResponse:
        if request.headers.get("authorization") != f"Bearer {TOKEN}":
            return JSONResponse({"result": "error", "message": "Unauthorized"}, 401)
        if data is None:
            return JSONResponse({"result": "error", "message": "No mqtt service available"}, 400)
        return JSONResponse({"result": "ok", "data": data})

    async def mqtt(request: Request) -> JSONResponse:
        return answer(request, None if broker_port is None else {
            "addon": "core_mosquitto", "host": "127.0.0.1", "port": broker_port, "ssl": False,
            "protocol": "3.1.1", "username": USER, "password": PASSWORD})

    async def info(request: Request) -> JSONResponse:
        return answer(request, {"name": "SmartSofar", "slug": SLUG, "ingress": True})

    return Starlette(routes=[Route("/services/mqtt", mqtt), Route("/addons/self/info", info)])


@pytest.fixture
async def supervisor(tmp_path: Path) -> AsyncIterator[tuple[RunningHttpServer, Broker]]:
    broker = Broker(tmp_path, users={USER: PASSWORD})
    broker.start()
    server = await start_http(supervisor_app(broker.port))
    try:
        yield server, broker
    finally:
        await server.stop()
        broker.stop()


async def start_addon(data_dir: Path, options: dict[str, Any], supervisor_url: str, port: int,
                      capture: bool = False) -> asyncio.subprocess.Process:
    """The add-on's command; with ``capture``, its log (stdout and stderr) in ``stdout``."""
    (data_dir / "options.json").write_text(json.dumps(options))
    env = {**os.environ, "SUPERVISOR_TOKEN": TOKEN}
    return await asyncio.create_subprocess_exec(
        sys.executable, "-m", "smartsofar.cli", "addon", "--options", str(data_dir / "options.json"),
        "--data-dir", str(data_dir), "--supervisor", supervisor_url, "--web", f"127.0.0.1:{port}", env=env,
        stdout=asyncio.subprocess.PIPE if capture else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.STDOUT if capture else asyncio.subprocess.DEVNULL)


async def healthy(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(f"{url}/healthz")).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
@pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto is not installed")
async def test_the_addon_runs_the_site_from_its_options_with_the_supervisors_broker(
        site: Site, supervisor: tuple[RunningHttpServer, Broker], tmp_path: Path) -> None:  # noqa: F811
    server, broker = supervisor
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    (data_dir / "smartsofar.toml").write_text("# set on the page\n[control]\ntarget_w = 20\n")
    options = {"gateway_url": site.gateway.url, "units": [{"id": 1, "name": "garage"}, {"id": 2, "name": "cellar"}],
               "meter_url": site.meter.url, "mqtt": "auto", "log_level": "info"}
    port = free_port()
    async with Listener(broker.port, USER, PASSWORD) as ha:
        proc = await start_addon(data_dir, options, server.url, port)
        try:
            assert await eventually(lambda: site.battery_w() < -1700, 30)  # the house's load, from the batteries
            url = f"http://127.0.0.1:{port}"
            assert await healthy(url)
            assert await eventually(lambda: any(t.endswith("/mode/config") for t in ha.messages), 20)  # discovery
            topic = next(t for t in ha.messages if t.startswith("homeassistant/select/") and t.endswith("/mode/config"))
            config = json.loads(ha.messages[topic][-1])
            assert config["device"]["configuration_url"] == f"homeassistant://hassio/ingress/{SLUG}"
            saved = tomllib.loads((data_dir / "smartsofar.toml").read_text())
            assert saved["control"]["target_w"] == 20  # what the page set stays
            assert saved["web"]["trusted_proxies"] == ["172.30.32.2"]
            assert saved["buses"][0]["url"] == site.gateway.url and saved["buses"][0]["units"][1]["name"] == "cellar"
            assert (data_dir / "smartsofar.toml").stat().st_mode & 0o077 == 0  # it holds the broker's password
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
            assert all(u.command.kind == "standby" for u in site.plant.units.values())
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()


@pytest.mark.slow
async def test_with_no_bus_set_the_addon_runs_the_demo(tmp_path: Path) -> None:
    server = await start_http(supervisor_app(None))  # and no broker: the Mosquitto add-on is not installed
    port = free_port()
    try:
        proc = await start_addon(tmp_path, {"units": [{"id": 1, "name": "unit 1"}], "mqtt": "auto",
                                            "log_level": "info"}, server.url, port, capture=True)
        try:
            url = f"http://127.0.0.1:{port}"
            assert await eventually_async(lambda: healthy(url), 30)
            async with httpx.AsyncClient() as http:
                assert (await http.get(f"{url}/api/v1/session")).json()["demo"] is True
            proc.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(proc.wait(), 30) == 0
            assert proc.stdout is not None
            log = (await proc.stdout.read()).decode()
            assert "running the demo" in log and "no MQTT broker offered by the Supervisor" in log
        finally:
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
    finally:
        await server.stop()


async def eventually_async(check: Any, timeout_s: float) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while asyncio.get_running_loop().time() < deadline:
        if await check():
            return True
        await asyncio.sleep(0.2)
    return False


# --- the options, mapped ------------------------------------------------------------------------------------

@pytest.mark.parametrize(("options", "expected"), [
    pytest.param({"serial_port": "/dev/serial/by-id/usb-FTDI-if00-port0", "units": [{"id": 3}]},
                 {"buses": [{"url": "serial:///dev/serial/by-id/usb-FTDI-if00-port0", "units": [{"id": 3}]}]},
                 id="the adapter Home Assistant lists"),
    pytest.param({"serial_port": "/dev/ttyUSB0", "gateway_url": "tcp://192.0.2.10:8899",
                  "units": [{"id": 1, "name": "garage"}]},
                 {"buses": [{"url": "tcp://192.0.2.10:8899", "units": [{"id": 1, "name": "garage"}]}]},
                 id="a gateway wins over the adapter"),
    pytest.param({"meter_url": "http://192.0.2.40", "meter_password": "pw"},
                 {"meter": {"url": "http://192.0.2.40", "password": "pw"}}, id="the meter"),
    pytest.param({"mqtt": "off"}, {"mqtt": {"base_topic": "home"}}, id="mqtt off: the page's broker is dropped"),
])
def test_the_options_go_over_the_file(tmp_path: Path, options: dict[str, Any], expected: dict[str, Any]) -> None:
    document = tomlkit.parse('[mqtt]\nurl = "mqtt://192.0.2.30"\nbase_topic = "home"\n')
    apply_options(document, AddonOptions.model_validate(options), None, SLUG, tmp_path)
    data = document.unwrap()
    assert {k: data[k] for k in expected} == expected
    assert data["web"]["public_url"] == f"homeassistant://hassio/ingress/{SLUG}"


@pytest.mark.parametrize(("content", "message"), [
    pytest.param('{"units": [{"id": 300}]}', "units.0.id", id="a slave id out of range"),
    pytest.param('{"mqtt": "sometimes"}', "mqtt: Input should be 'auto' or 'off'", id="an unknown choice"),
    pytest.param("{oops", "not JSON", id="not JSON"),
])
def test_bad_options_are_refused_with_the_reason(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "options.json"
    path.write_text(content)
    with pytest.raises(ConfigError, match=message):
        read_options(path)


async def test_options_that_make_no_valid_configuration_stop_it_and_leave_the_file(tmp_path: Path) -> None:
    config = tmp_path / "smartsofar.toml"
    config.write_text("[control]\ntarget_w = 20\n")
    before = config.read_text()
    proc = await start_addon(tmp_path, {"gateway_url": "ftp://nowhere", "units": [{"id": 1}], "mqtt": "off"},
                             "http://127.0.0.1:9", free_port(), capture=True)
    assert await asyncio.wait_for(proc.wait(), 30) == 2
    assert proc.stdout is not None
    assert "buses.0.url" in (await proc.stdout.read()).decode()
    assert config.read_text() == before


# --- the add-on's files -------------------------------------------------------------------------------------

def test_the_addon_files_match_what_the_command_accepts() -> None:
    config = yaml.safe_load((ROOT / "config.yaml").read_text())
    assert config["version"] == __version__ and config["slug"] == "smartsofar"
    assert config["uart"] is True and config["ingress"] is True and config["ingress_port"] == 8099
    assert "mqtt:want" in config["services"] and config["timeout"] >= 30
    assert set(config["schema"]) == set(AddonOptions.model_fields)
    AddonOptions.model_validate(config["options"])  # the defaults are valid options
    build = yaml.safe_load((ROOT / "build.yaml").read_text())
    assert set(build["build_from"]) == set(config["arch"])
    translations = yaml.safe_load((ROOT / "translations" / "en.yaml").read_text())
    assert set(translations["configuration"]) == set(config["schema"])
    assert yaml.safe_load((ROOT / "repository.yaml").read_text())["name"] == "SmartSofar"
    assert 'CMD ["smartsofar", "addon"]' in (ROOT / "Dockerfile").read_text()
    assert (ROOT / "DOCS.md").exists()
