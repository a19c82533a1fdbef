"""The service as a user runs it: configuration, ``run``, ``demo``, history, passwords; real processes."""

from __future__ import annotations

import argparse
import asyncio
import re
import signal
import sqlite3
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
import tomlkit

from smartsofar.cli import build_parser
from smartsofar.config_example import example_config
from smartsofar.config_meters import ShellyMeterConfig
from smartsofar.errors import ConfigError
from smartsofar.service_cli import resolve
from smartsofar.sim.household import ConstantHousehold
from smartsofar.sim.meter_server import SimMeter, create_meter_app
from smartsofar.sim.plant import Plant
from smartsofar.web.auth import verify_password
from smartsofar.web.server import RunningHttpServer, start_http
from tests.cli_process import smartsofar
from tests.conftest import SimGateway, start_gateway
from tests.live_service import eventually
from tests.mqtt_broker import free_port


def args_for(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


# --- configuration ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "message"), [
    ('[control]\ndeadband = 5\n', "control.deadband: unknown key"),
    ('[control]\ndeadband_w = "wide"\n', "control.deadband_w: Input should be a valid number"),
    ('[[buses]]\nurl = "tcp://127.0.0.1:5020"\n', "buses.0.units: missing"),
    ('[meter]\nmodel = "pro3em"\n', "meter.url: missing"),
    ('[[buses]]\nurl = "tcp://127.0.0.1:5020"\n[[buses.units]]\nid = 136\n', "broadcast address"),
    ('[control\n', "not valid TOML"),
    ('[web]\nhost = "0.0.0.0\\n[web]"\n', "web.host: "),
    ('[storage]\ndata_dir = "/var/lib/a\\u0000b"\n', "storage.data_dir: has a control character"),
], ids=["unknown key", "wrong type", "missing units", "missing meter url", "broadcast id", "broken TOML",
        "newline in the host", "NUL in the data directory"])
async def test_config_check_names_the_key_and_the_problem(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "smartsofar.toml"
    path.write_text(text)
    code, _out, err = await smartsofar("config", "check", str(path))
    assert code == 2 and message in err and err.count("\n") == 1


async def test_init_writes_a_valid_commented_example_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "smartsofar.toml"
    code, out, _ = await smartsofar("init", str(path))
    assert code == 0 and "wrote" in out and path.read_text() == example_config()
    assert "# Errors smaller than this are left alone, W" in path.read_text()
    code, out, _ = await smartsofar("config", "check", str(path))
    assert code == 0 and "garage: slave id 1 on serial:///dev/ttyUSB0" in out
    path.write_text("# mine\n")
    code, _, err = await smartsofar("init", str(path))
    assert code == 2 and "exists" in err and path.read_text() == "# mine\n"


def test_flags_override_the_file(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text(tomlkit.dumps({"buses": [{"url": "tcp://127.0.0.1:1000", "units": [{"id": 1}]}],
                                   "meter": {"url": "http://127.0.0.1:1001", "password": "kept"},
                                   "control": {"deadband_w": 12}}))
    config, settings_path = resolve(args_for("--config", str(path), "--bus", "tcp://127.0.0.1:2000", "--units", "3,4",
                                             "--meter", "http://127.0.0.1:2001", "--web", "127.0.0.1:9999"))
    assert [(b.url, [u.id for u in b.units]) for b in config.buses] == [("tcp://127.0.0.1:2000", [3, 4])]
    assert isinstance(config.meter, ShellyMeterConfig) and config.meter.url == "http://127.0.0.1:2001"
    assert config.meter.password is not None and config.meter.password.get_secret_value() == "kept"
    assert config.control.deadband_w == 12 and config.web.port == 9999 and settings_path == path


def test_flags_alone_need_no_file(tmp_path: Path) -> None:
    config, settings_path = resolve(args_for("--bus", "tcp://127.0.0.1:2000", "--units", "1",
                                             "--meter", "http://127.0.0.1:2001", "--data-dir", str(tmp_path)))
    assert config.missing() == [] and settings_path == tmp_path / "smartsofar.toml"
    with pytest.raises(ConfigError, match="--bus and --units go together"):
        resolve(args_for("--bus", "tcp://127.0.0.1:2000", "--data-dir", str(tmp_path)))


async def test_run_with_nothing_configured_says_what_is_missing(tmp_path: Path) -> None:
    code, _out, err = await smartsofar("run", "--data-dir", str(tmp_path), env={"SMARTSOFAR_CONFIG": ""})
    assert code == 2 and "no bus with units" in err and "no grid meter" in err and "smartsofar demo" in err


# --- the service process ------------------------------------------------------------------------------------

class Site:
    def __init__(self, plant: Plant, gateway: SimGateway, meter: RunningHttpServer) -> None:
        self.plant, self.gateway, self.meter = plant, gateway, meter

    def battery_w(self) -> float:
        return sum(u.power_w for u in self.plant.units.values())


@pytest.fixture
async def site() -> AsyncIterator[Site]:
    plant = Plant(ConstantHousehold(load=1800.0), unit_ids=(1, 2))
    gateway, server = await start_gateway(plant, latency_s=0.01)
    meter = await start_http(create_meter_app(SimMeter(plant), "pro3em"))
    async with server:
        yield Site(plant, gateway, meter)
    await meter.stop()


async def start_service(*args: str) -> tuple[asyncio.subprocess.Process, str]:
    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "smartsofar.cli", *args,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    assert proc.stdout is not None
    while True:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        assert line, "the service ended before it served its page"
        if "web page on http://" in line:
            return proc, line.split("web page on ")[1].split()[0]


async def test_run_holds_the_grid_and_sigterm_puts_the_units_in_standby(site: Site, tmp_path: Path) -> None:
    port = free_port()
    proc, url = await start_service("run", "--bus", site.gateway.url, "--units", "1,2", "--meter", site.meter.url,
                                    "--web", f"127.0.0.1:{port}", "--data-dir", str(tmp_path))
    assert url == f"http://127.0.0.1:{port}"
    assert await eventually(lambda: site.battery_w() < -1700, 20)
    async with httpx.AsyncClient() as http:
        state = (await http.get(f"{url}/api/v1/state")).json()
    assert [u["unit_id"] for u in state["units"]] == [1, 2] and state["meter"]["model"] == "Shelly Pro 3EM (pushed)"
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 20) == 0
    assert all(u.command.kind == "standby" for u in site.plant.units.values())


async def test_config_check_probe_reads_every_unit_and_the_meter_and_commands_nothing(site: Site,
                                                                                      tmp_path: Path) -> None:
    path = tmp_path / "smartsofar.toml"
    path.write_text(tomlkit.dumps({
        "buses": [{"url": site.gateway.url, "timeout_s": 0.3, "retries": 0,
                   "units": [{"id": 1, "name": "garage"}, {"id": 7, "name": "loft"}]}],  # no unit 7 on this bus
        "meter": {"url": site.meter.url}}))
    before = {uid: unit.command for uid, unit in site.plant.units.items()}
    code, out, _ = await smartsofar("config", "check", str(path), "--probe")
    assert code == 1, out  # something did not answer
    lines = {line.split(": ", 1)[0].strip(): line for line in out.splitlines() if line.startswith(("  ok", "  NO"))}
    garage = lines[f"ok  garage (slave id 1 on {site.gateway.url})"]
    assert "serial SE1ES0SIM2B101" in garage and "SoC 50 %" in garage
    assert "swap A and B" in lines[f"NO  loft (slave id 7 on {site.gateway.url})"]
    meter_line = lines[f"ok  meter at {site.meter.url}"]
    assert re.search(r"Shelly Pro 3EM \(pushed\): grid 1[78]\d\d W import$", meter_line)  # 1800 W
    assert {uid: unit.command for uid, unit in site.plant.units.items()} == before  # reads only

    path.write_text(tomlkit.dumps({"buses": [{"url": site.gateway.url, "units": [{"id": 1}, {"id": 2}]}]}))
    code, out, _ = await smartsofar("config", "check", str(path), "--probe")
    assert code == 0 and out.count("\n  ok ") == 2

    path.write_text(tomlkit.dumps({"buses": [{"url": f"tcp://127.0.0.1:{free_port()}", "units": [{"id": 1}]}]}))
    code, out, _ = await smartsofar("config", "check", str(path), "--probe")  # nothing listens there
    assert code == 1 and "NO  unit 1" in out and "the gateway's address right?" in out


@pytest.mark.slow
async def test_history_survives_kill_9(site: Site, tmp_path: Path) -> None:
    config = tmp_path / "site.toml"
    config.write_text(tomlkit.dumps({
        "buses": [{"url": site.gateway.url, "units": [{"id": 1}, {"id": 2}]}],
        "meter": {"url": site.meter.url, "model": "pro3em"}, "web": {"port": free_port()},
        "storage": {"data_dir": str(tmp_path / "data"), "history_flush_s": 1}}))
    database = tmp_path / "data" / "history.db"

    def rows() -> int:
        if not database.exists():
            return 0
        with sqlite3.connect(database) as db:
            return int(db.execute("SELECT count(*) FROM site_10s").fetchone()[0])

    proc, _url = await start_service("run", "--config", str(config))
    assert await eventually(lambda: rows() >= 1, 40)  # a 10 s mean was written
    proc.kill()  # kill -9: no shutdown, no final write
    await proc.wait()
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        before = int(db.execute("SELECT count(*) FROM site_10s").fetchone()[0])
    assert before >= 1
    proc, _url = await start_service("run", "--config", str(config))  # and it carries on writing
    assert await eventually(lambda: rows() > before, 40)
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.wait_for(proc.wait(), 20) == 0


async def test_demo_starts_and_serves_its_page(tmp_path: Path) -> None:
    port = free_port()
    proc, url = await start_service("demo", "--web", f"127.0.0.1:{port}", "--data-dir", str(tmp_path), "--speed", "60",
                                    "--history-days", "1")
    try:
        async with httpx.AsyncClient() as http:
            page = await http.get(url)
            assert page.status_code == 200 and "SmartSofar" in page.text
            for _ in range(100):
                state = (await http.get(f"{url}/api/v1/state")).json()
                if all(u["reading"] for u in state["units"]) and state["grid_w"] is not None:
                    break
                await asyncio.sleep(0.2)
            assert [u["name"] for u in state["units"]] == ["garage", "cellar"]
            assert (await http.get(f"{url}/api/v1/session")).json()["demo"] is True
            # the History page has yesterday and today to show, simulated while the demo already ran
            yesterday = time.strftime("%Y-%m-%d", time.localtime(time.time() - 86400))
            today = time.strftime("%Y-%m-%d")

            async def days() -> list[dict[str, object]]:
                answer = await http.get(f"{url}/api/v1/history/days", params={"first": yesterday, "last": today})
                return list(answer.json()) if answer.status_code == 200 else []

            for _ in range(300):
                filled = await days()
                if len(filled) == 2 and float(str(filled[0]["load_wh"])) > 5000:  # a whole day lived-in, not minutes
                    break
                await asyncio.sleep(0.2)
            assert [d["day"] for d in filled] == [yesterday, today]
            assert float(str(filled[0]["load_wh"])) > 5000 and float(str(filled[0]["pv_wh"])) > 5000, filled
            midday = time.mktime(time.strptime(yesterday + " 12:00", "%Y-%m-%d %H:%M"))
            series = (await http.get(f"{url}/api/v1/history", params={"start": midday, "end": midday + 3600})).json()
            assert len(series["t"]) >= 300 and any(v is not None for v in series["soc_pct"])
            # the plan is made again from that history: the house's forecast is no longer empty
            for _ in range(100):
                plan = (await http.get(f"{url}/api/v1/plan")).json()["plan"]
                if plan and plan["zero_export_cost"] != 0:  # an empty forecast neither costs nor earns
                    break
                await asyncio.sleep(0.2)
            assert plan and plan["zero_export_cost"] != 0, plan
            # with the simulated evcc's PV forecast, which the plan uses: the history measured PV
            solar = (await http.get(f"{url}/api/v1/plan")).json()["pv_forecast"]
            assert solar["source"] == "evcc" and solar["error"] is None and solar["tomorrow_kwh"] > 5, solar
            assert solar["used"] is True, solar
        proc.send_signal(signal.SIGTERM)
        assert await asyncio.wait_for(proc.wait(), 20) == 0
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert (tmp_path / "smartsofar.toml").exists()  # a kept data directory keeps the demo's configuration


async def test_passwd_and_token_store_hashes_only(tmp_path: Path) -> None:
    path = tmp_path / "site.toml"
    path.write_text("# my site\n[control]\ndeadband_w = 9\n")
    code, out, _ = await smartsofar("passwd", "--config", str(path), "--stdin", stdin=b"a good password\n")
    assert code == 0 and "password saved" in out
    text = path.read_text()
    assert text.startswith("# my site") and "a good password" not in text
    stored = tomlkit.parse(text)["web"]["password_hash"]
    assert verify_password("a good password", str(stored))
    code, _out, err = await smartsofar("passwd", "--config", str(path), "--stdin", stdin=b"short\n")
    assert code == 2 and "8 characters" in err
    code, out, _ = await smartsofar("token", "--config", str(path))
    token = out.strip()
    assert code == 0 and len(token) > 30 and token not in path.read_text() and "api_token_hash" in path.read_text()
