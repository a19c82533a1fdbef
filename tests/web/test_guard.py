"""Protections of the web application (issue 17's high findings): secrets never read back, no DNS rebinding,
no large bodies. In-process, in front of a stub engine."""

from __future__ import annotations

import tomllib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartsofar.web.app import create_app
from smartsofar.web.guard import ProxyTrust
from tests.web.stub import Web, web_client

MQTT_URL = "mqtt://bob:s3cret-pw@127.0.0.1:9"


@pytest.fixture
async def web(tmp_path: Path) -> AsyncIterator[Web]:
    async with web_client(tmp_path, extra={"mqtt": {"url": MQTT_URL}}) as client:
        yield client


async def test_no_secret_can_be_read_back(web: Web) -> None:
    for path in ("/api/v1/settings", "/api/v1/diagnostics"):
        text = (await web.http.get(path)).text
        assert "s3cret-pw" not in text and "meter-secret" not in text, path
        assert "mqtt://bob:***@127.0.0.1:9" in text, path


async def test_a_url_saved_back_with_its_hidden_password_keeps_the_password(web: Web) -> None:
    saved = await web.http.put("/api/v1/settings", json={"values": {"mqtt.url": "mqtt://bob:***@127.0.0.1:9"}})
    assert saved.status_code == 200, saved.text
    assert tomllib.loads(web.config_path.read_text())["mqtt"]["url"] == MQTT_URL
    assert saved.json()["restart_needed"] == []  # the same URL: nothing changed
    moved = await web.http.put("/api/v1/settings", json={"values": {"mqtt.url": "mqtt://bob:***@192.0.2.7:1883"}})
    assert moved.status_code == 422 and "type it again" in moved.json()["detail"]
    assert tomllib.loads(web.config_path.read_text())["mqtt"]["url"] == MQTT_URL


async def test_a_whole_table_cannot_reach_the_password(web: Web) -> None:
    before = web.config_path.read_text()
    tables: list[dict[str, Any]] = [{"web": {"password_hash": ""}}, {"web": {}},
                                    {"web": {"password_hash": None, "port": 80}}]
    for values in tables:
        answer = await web.http.put("/api/v1/settings", json={"values": values})
        assert answer.status_code == 422, values
    assert web.config_path.read_text() == before
    nested = await web.http.put("/api/v1/settings", json={"values": {"web": {"read_only_without_login": False}}})
    assert nested.status_code == 200
    assert tomllib.loads(web.config_path.read_text())["web"]["read_only_without_login"] is False


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8080", "127.0.0.1.evil.example"])
async def test_a_page_that_rebinds_its_own_name_is_refused(web: Web, host: str) -> None:
    headers = {"Host": host, "Origin": f"http://{host}"}
    write = await web.http.put("/api/v1/power", json={"power_w": -2500}, headers=headers)
    assert write.status_code == 400 and "allowed_hosts" in write.text
    assert (await web.http.get("/api/v1/state", headers=headers)).status_code == 400
    assert web.engine.holder.mode.manual_power_w == 0


async def test_addresses_and_local_names_are_served(web: Web) -> None:
    for host in ("127.0.0.1:8080", "localhost:8080", "[::1]:8080", "192.0.2.5:8080"):
        assert (await web.http.get("/api/v1/state", headers={"Host": host})).status_code == 200, host


async def test_a_name_the_owner_allows_is_served(tmp_path: Path) -> None:
    extra = {"web": {"host": "0.0.0.0", "allowed_hosts": ["*.home.arpa"]}}
    async with web_client(tmp_path, extra=extra) as web:
        assert (await web.http.get("/api/v1/state", headers={"Host": "battery.home.arpa"})).status_code == 200
        assert (await web.http.get("/api/v1/state", headers={"Host": "home.arpa.evil.example"})).status_code == 400


async def test_a_large_body_is_refused_before_it_is_read(web: Web) -> None:
    padding = " " * (200 * 1024)
    body = ('{"power_w": 1000' + padding + "}").encode()
    answer = await web.http.put("/api/v1/power", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == 413

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: sent in chunks
        yield b'{"power_w": 1000'
        for _ in range(20):
            yield b" " * 16 * 1024
        yield b"}"

    chunked = await web.http.put("/api/v1/power", content=chunks(), headers={"Content-Type": "application/json"})
    assert chunked.status_code == 413
    assert web.engine.holder.mode.manual_power_w == 0
    small = await web.http.put("/api/v1/mode", content=b'{"mode": "manual"}',
                               headers={"Content-Type": "application/json"})
    assert small.status_code == 200  # and a normal request still works


@pytest.mark.parametrize("path", ["/", "/api/v1/state", "/static/js/main.js", "/data.json"])
async def test_every_answer_forbids_framing_and_foreign_scripts(web: Web, path: str) -> None:
    headers = (await web.http.get(path)).headers
    policy = headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy and "script-src 'self';" in policy and "unsafe-inline" not in policy
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


async def test_the_api_documentation_may_run_its_own_inline_start(web: Web) -> None:
    docs = await web.http.get("/api/docs")
    assert docs.status_code == 200 and "<script>" in docs.text  # Swagger UI starts from an inline script
    policy = docs.headers["content-security-policy"]
    assert "script-src 'self' 'unsafe-inline'" in policy and "frame-ancestors 'none'" in policy


@pytest.mark.parametrize(("peer", "served", "written"), [
    pytest.param("172.30.32.2", 200, 200, id="through Home Assistant's ingress proxy: its name and origin"),
    pytest.param("172.30.33.7", 400, 400, id="the same headers from anyone else: a rebound name, refused"),
])
async def test_a_trusted_proxy_decides_the_names_and_its_forwarded_host_is_the_origin(
        tmp_path: Path, peer: str, served: int, written: int) -> None:
    async with web_client(tmp_path) as web:
        app = ProxyTrust(create_app(web.context), ["172.30.32.2"])  # as start_http puts it in front
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        headers = {"Host": "homeassistant.local:8123", "X-Forwarded-Host": "homeassistant.local:8123",
                   "X-Forwarded-For": "192.168.1.20", "Origin": "http://homeassistant.local:8123"}
        async with httpx.AsyncClient(transport=transport, base_url="http://homeassistant.local:8123") as http:
            assert (await http.get("/api/v1/state", headers=headers)).status_code == served
            write = await http.put("/api/v1/mode", json={"mode": "standby"}, headers=headers)
            assert write.status_code == written
            elsewhere = await http.put("/api/v1/mode", json={"mode": "manual"},
                                       headers={**headers, "Origin": "http://evil.example"})
            assert elsewhere.status_code in (400, 403)  # another site's page is refused either way
        assert str(web.engine.holder.mode.mode) == ("standby" if written == 200 else "auto")
