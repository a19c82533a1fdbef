"""The page below Home Assistant's ingress, in headless Chromium: a real nginx on 127.0.0.1 plays Home
Assistant and its Supervisor's ingress proxy (``/api/hassio_ingress/<token>/`` to the service's ``/``, with
``X-Ingress-Path``, the browser's ``Host`` passed on with ``X-Forwarded-Host`` and ``X-Forwarded-For``, and no
buffering), and an outer page of the same origin frames it, as Home Assistant's panel does. The browser
reaches it by a name, ``homeassistant.test``, mapped to 127.0.0.1 inside Chromium only, as a user reaches
``homeassistant.local``."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from playwright.async_api import Browser, FrameLocator, async_playwright, expect

from tests.browser.chromium import ARGS, CHROMIUM, PAGE_ERRORS, open_page
from tests.live_service import LiveService, eventually, live_service
from tests.mqtt_broker import free_port

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
PREFIX = "/api/hassio_ingress/Xq3lV9pG2cE"
pytestmark = pytest.mark.skipif(not Path(NGINX).exists() or not Path(CHROMIUM).exists(),
                                reason="nginx or chromium is not installed (scripts/install --dev installs them)")

CONFIG = """
worker_processes 1;
pid {root}/nginx.pid;
error_log {root}/error.log warn;
events {{ worker_connections 64; }}
http {{
  access_log off;
  client_body_temp_path {root}/body; proxy_temp_path {root}/proxy; fastcgi_temp_path {root}/fastcgi;
  uwsgi_temp_path {root}/uwsgi; scgi_temp_path {root}/scgi;
  server {{
    listen 127.0.0.1:{port};
    location = / {{ default_type text/html; return 200 '<!doctype html><title>Home Assistant</title>
      <iframe id="panel" src="{prefix}/" style="width:1200px;height:1600px"></iframe>'; }}
    location {prefix}/ {{
      proxy_pass http://127.0.0.1:{upstream}/;
      proxy_http_version 1.1;
      proxy_set_header Host $http_host;
      proxy_set_header X-Forwarded-Host $http_host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Ingress-Path {prefix};
      proxy_buffering off;
    }}
  }}
}}
"""


NAME = "homeassistant.test"


@pytest.fixture
async def live(tmp_path: Path) -> AsyncIterator[LiveService]:
    async with live_service(tmp_path, config={"web": {"trusted_proxies": ["127.0.0.1"]}}) as site:
        yield site


@pytest.fixture
async def named_browser() -> AsyncIterator[Browser]:
    """Chromium that finds ``homeassistant.test`` at 127.0.0.1 (and nothing else anywhere)."""
    PAGE_ERRORS.clear()
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=[*ARGS, f"--host-resolver-rules=MAP {NAME} 127.0.0.1"])
        yield chromium
        await chromium.close()
    assert not PAGE_ERRORS, f"the page's scripts failed: {PAGE_ERRORS}"


@pytest.fixture
def ingress(live: LiveService, tmp_path: Path) -> Iterator[str]:
    root = tmp_path / "nginx"
    root.mkdir()
    port = free_port()
    upstream = live.url.rsplit(":", 1)[1]
    (root / "nginx.conf").write_text(CONFIG.format(root=root, port=port, prefix=PREFIX, upstream=upstream))
    proc = subprocess.Popen([NGINX, "-p", str(root), "-c", str(root / "nginx.conf"), "-g", "daemon off;"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                httpx.get(url, timeout=0.5)
                break
            except httpx.HTTPError:
                assert proc.poll() is None, (root / "error.log").read_text()
                subprocess.run(["sleep", "0.05"], check=True)
        yield f"http://{NAME}:{port}"
    finally:
        proc.terminate()
        proc.wait(10)


async def test_the_page_works_inside_home_assistant_below_the_ingress_prefix(
        named_browser: Browser, live: LiveService, ingress: str) -> None:
    page = await open_page(named_browser, ingress)
    panel: FrameLocator = page.frame_locator("#panel")
    await expect(panel.locator(".unit-card")).to_have_count(2)  # assets, scripts and the API through the prefix
    await expect(panel.get_by_test_id("grid-w")).not_to_have_text("–")  # the live stream through the proxy
    await panel.get_by_label("Manual").check()
    await panel.locator("#power-number").fill("1200")
    await panel.locator("#power-apply").click()
    assert await eventually(lambda: abs(live.battery_w() - 1200) < 30)
    await expect(panel.locator("#setpoint-w")).to_have_text("1,200")
    proxy = ingress.replace(NAME, "127.0.0.1")
    async with httpx.AsyncClient() as http:
        answer = await http.get(f"{proxy}{PREFIX}/api/docs", headers={"Host": ingress.split("//")[1]})
        direct = await http.get(f"{live.url}/")

    assert f"'{PREFIX}/api/openapi.json'" in answer.text  # the documentation's links carry the prefix
    assert "frame-ancestors 'self'" in answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in direct.headers["content-security-policy"]  # framed only below ingress
    assert direct.headers["x-frame-options"] == "DENY"
