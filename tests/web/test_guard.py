"""Protections of the running service (issue 17's high findings): secrets never read back, no DNS rebinding,
no large bodies. Over real HTTP on 127.0.0.1, against both simulators."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.live_service import LiveService, live_service

MQTT_URL = "mqtt://bob:s3cret-pw@127.0.0.1:9"  # nothing listens there: the bridge keeps retrying, harmlessly


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveService]:
    async with live_service(tmp_path, meter_password="meter-secret", config={"mqtt": {"url": MQTT_URL}}) as site:
        yield site


@pytest.fixture
async def http(live: LiveService) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as client:
        yield client


async def test_no_secret_can_be_read_back(http: httpx.AsyncClient) -> None:
    for path in ("/api/v1/settings", "/api/v1/diagnostics"):
        text = (await http.get(path)).text
        assert "s3cret-pw" not in text and "meter-secret" not in text, path
        assert "mqtt://bob:***@127.0.0.1:9" in text, path


async def test_a_url_saved_back_with_its_hidden_password_keeps_the_password(live: LiveService,
                                                                           http: httpx.AsyncClient) -> None:
    saved = await http.put("/api/v1/settings", json={"values": {"mqtt.url": "mqtt://bob:***@127.0.0.1:9"}})
    assert saved.status_code == 200, saved.text
    assert tomllib.loads(live.config_path.read_text())["mqtt"]["url"] == MQTT_URL
    moved = await http.put("/api/v1/settings", json={"values": {"mqtt.url": "mqtt://bob:***@192.0.2.7:1883"}})
    assert moved.status_code == 422 and "type it again" in moved.json()["detail"]
    assert tomllib.loads(live.config_path.read_text())["mqtt"]["url"] == MQTT_URL


async def test_a_whole_table_cannot_reach_the_password(live: LiveService, http: httpx.AsyncClient) -> None:
    before = live.config_path.read_text()
    tables: list[dict[str, Any]] = [{"web": {"password_hash": ""}}, {"web": {}},
                                    {"web": {"password_hash": None, "port": 80}}]
    for values in tables:
        answer = await http.put("/api/v1/settings", json={"values": values})
        assert answer.status_code == 422, values
    assert live.config_path.read_text() == before
    nested = await http.put("/api/v1/settings", json={"values": {"web": {"read_only_without_login": False}}})
    assert nested.status_code == 200
    assert tomllib.loads(live.config_path.read_text())["web"]["read_only_without_login"] is False


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example"])
async def test_a_page_that_rebinds_its_own_name_is_refused(live: LiveService, http: httpx.AsyncClient,
                                                          host: str) -> None:
    headers = {"Host": host, "Origin": f"http://{host}"}
    write = await http.put("/api/v1/power", json={"power_w": -2500}, headers=headers)
    assert write.status_code == 400 and "allowed_hosts" in write.text
    assert (await http.get("/api/v1/state", headers=headers)).status_code == 400
    assert live.service.engine is not None and live.service.engine.site.mode.manual_power_w == 0


async def test_addresses_and_local_names_are_served(live: LiveService, http: httpx.AsyncClient) -> None:
    port = live.url.rsplit(":", 1)[1]
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}", f"192.0.2.5:{port}"):
        assert (await http.get("/api/v1/state", headers={"Host": host})).status_code == 200, host


async def test_a_large_body_is_refused_before_it_is_read(live: LiveService, http: httpx.AsyncClient) -> None:
    padding = " " * (200 * 1024)
    body = ('{"power_w": 1000' + padding + "}").encode()
    answer = await http.put("/api/v1/power", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent in chunks
        yield b'{"power_w": 1000'
        for _ in range(20):
            yield b" " * 16 * 1024
        yield b"}"

    chunked = await http.put("/api/v1/power", content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert live.service.engine is not None and live.service.engine.site.mode.manual_power_w == 0
    small = await http.put("/api/v1/mode", content=b'{"mode": "manual"}', headers={"Content-Type": "application/json"})
    assert small.status_code == 200  # and a normal request still works
