"""The README's snippets work: the commands that need no hardware run, and the endpoints it names exist."""

from __future__ import annotations

import asyncio
import re
import shlex
import sys
import tomllib
from pathlib import Path

import httpx
import pytest

from smartsofar.config import parse_config
from smartsofar.mqtt.topics import COMMANDS
from tests.live_service import live_service

README = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")


def shell_lines() -> list[str]:
    blocks = re.findall(r"```sh\n(.*?)```", README, re.DOTALL)
    return [line.split("#")[0].strip() for block in blocks for line in block.splitlines() if line.strip()]


@pytest.mark.timeout(900)
async def test_the_simulate_snippet_runs_as_written() -> None:
    lines = [line for line in shell_lines() if line.startswith(("smartsofar simulate --day summer",
                                                                 "smartsofar simulate --day winter"))]
    assert lines, "the README shows no simulate command on a built-in day"
    for line in lines:
        proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "smartsofar.cli", *shlex.split(line)[1:],
                                                    stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, err = await asyncio.wait_for(proc.communicate(), 400)  # a simulated day: ~20 s alone, far more under load
        assert proc.returncode == 0, err.decode()
        assert "capture" in out.decode() and "commands/h" in out.decode()


async def test_every_api_path_and_mqtt_topic_the_readme_names_exists(tmp_path: Path) -> None:
    also = README.split("## HTTP API")[1].split("\n\n")[3]  # the "Also: `units`, ..." paragraph
    assert also.startswith("Also:"), "the README's HTTP API section changed shape"
    named = set(re.findall(r"/api/v1/([a-z_]+)", README)) | set(re.findall(r"`(?:POST )?([a-z_]+)(?:/\{id\})?`", also))
    async with live_service(tmp_path) as site, httpx.AsyncClient(base_url=site.url) as http:
        paths = (await http.get("/api/openapi.json")).json()["paths"]
    roots = {p.removeprefix("/api/v1/").split("/")[0] for p in paths if p.startswith("/api/v1/")}
    assert {"state", "mode", "power", "target", "history"} <= named
    missing = {name for name in named if name not in roots and name not in ("api", "v1")}
    assert missing <= {"metrics"}, f"the README names endpoints that do not exist: {sorted(missing)}"
    topics = set(re.findall(r"`(?:smartsofar/)?set/([a-z_]+)`", README))
    assert topics and topics <= set(COMMANDS), f"unknown command topics in the README: {topics - set(COMMANDS)}"


def test_every_configuration_snippet_is_a_valid_configuration() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", README, re.DOTALL)
    assert blocks, "the README shows no configuration snippet"
    for block in blocks:
        parse_config(tomllib.loads(block), "README snippet")  # raises, naming the key, if it is wrong


async def test_the_evcc_snippet_drives_the_battery_mode_as_evcc_would(tmp_path: Path) -> None:
    """evcc's http plugin reads ``jq`` keys from the state and, through its watchdog, PUTs the body with
    ``${batterymode}`` replaced by its number: done here the same way against the real service."""
    import yaml  # the tests' PyYAML: the snippet is evcc's YAML

    block = re.findall(r"```yaml\n(.*?)```", README, re.DOTALL)
    evcc = next(yaml.safe_load(b) for b in block if "batterymode" in b)
    meter = evcc["meters"][0]
    assert evcc["site"]["meters"]["battery"] == meter["name"] and meter["type"] == "custom"
    writer = meter["batterymode"]
    assert writer["source"] == "watchdog" and writer["reset"] == [1]
    assert float(writer["timeout"].removesuffix("s")) / 2 < 60  # renewed within the default lease
    put = writer["set"]
    async with live_service(tmp_path) as site, httpx.AsyncClient() as http:
        state = (await http.get(site.url + httpx.URL(meter["power"]["uri"]).path)).json()
        for reading in (meter["power"], meter["soc"]):
            assert reading["jq"].lstrip(".") in state
        path = httpx.URL(put["uri"]).path
        for number, mode in ((2, "hold"), (3, "charge"), (1, "normal")):
            answer = await http.request(put["method"], site.url + path, headers=put["headers"],
                                        content=put["body"].replace("${batterymode}", str(number)))
            assert answer.status_code == 200, answer.text
            plan = (await http.get(f"{site.url}/api/v1/plan")).json()
            assert plan["battery_mode"]["mode"] == mode
            assert (plan["external"] or {}).get("who") == (None if mode == "normal" else "evcc")  # normal ends it
