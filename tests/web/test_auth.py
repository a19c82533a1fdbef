"""Password, sessions, CSRF and the API token, over real HTTP against a running service."""

from __future__ import annotations

import base64
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartsofar.web.auth import hash_password, verify_password
from tests.live_service import LiveService, live_service

PASSWORD = "correct horse battery"


@pytest.fixture
async def protected(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[LiveService]:
    read_only: bool = getattr(request, "param", True)
    web = {"password_hash": hash_password(PASSWORD), "read_only_without_login": read_only}
    async with live_service(tmp_path, config={"web": web}) as site:
        yield site


async def log_in(http: httpx.AsyncClient) -> str:
    response = await http.post("/api/v1/login", json={"password": PASSWORD})
    assert response.status_code == 200 and "smartsofar_session" in response.cookies
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    csrf: str = response.json()["csrf_token"]
    return csrf


async def test_without_login_one_may_watch_but_not_change(protected: LiveService) -> None:
    async with httpx.AsyncClient(base_url=protected.url) as http:
        assert (await http.get("/api/v1/state")).status_code == 200
        assert (await http.get("/data.json")).status_code == 200
        refused = await http.put("/api/v1/mode", json={"mode": "standby"})
        assert refused.status_code == 401 and "log in" in refused.json()["detail"]
        assert (await http.get("/update", params={"cmd": "setmode", "val": "0"})).status_code == 401
        session: dict[str, Any] = (await http.get("/api/v1/session")).json()
        assert session["auth_required"] and not session["can_write"] and session["can_read"]


@pytest.mark.parametrize("protected", [False], indirect=True)
async def test_reading_can_need_a_login_too(protected: LiveService) -> None:
    async with httpx.AsyncClient(base_url=protected.url) as http:
        for path in ("/api/v1/state", "/data.json", "/metrics", "/api/v1/events"):
            assert (await http.get(path)).status_code == 401, path
        await log_in(http)
        assert (await http.get("/api/v1/state")).status_code == 200


async def test_a_session_changes_things_with_its_csrf_token_only(protected: LiveService) -> None:
    async with httpx.AsyncClient(base_url=protected.url) as http:
        csrf = await log_in(http)
        without = await http.put("/api/v1/mode", json={"mode": "standby"})
        assert without.status_code == 403 and "CSRF" in without.json()["detail"]
        with_token = await http.put("/api/v1/mode", json={"mode": "standby"}, headers={"X-CSRF-Token": csrf})
        assert with_token.status_code == 200
        await http.post("/api/v1/logout")
        after = await http.put("/api/v1/mode", json={"mode": "auto"}, headers={"X-CSRF-Token": csrf})
        assert after.status_code == 401


async def test_wrong_passwords_are_refused_more_and_more_slowly(protected: LiveService) -> None:
    async with httpx.AsyncClient(base_url=protected.url, timeout=30) as http:
        started = time.monotonic()
        for _ in range(2):
            response = await http.post("/api/v1/login", json={"password": "guess"})
            assert response.status_code == 401 and response.json()["detail"] == "wrong password"
        assert time.monotonic() - started >= 1.4  # 0.5 s, then 1 s: doubling each time
        assert "smartsofar_session" not in http.cookies


async def test_the_api_token_works_for_scripts_and_v1_update(protected: LiveService) -> None:
    async with httpx.AsyncClient(base_url=protected.url) as browser:
        csrf = await log_in(browser)
        token = (await browser.post("/api/v1/token", headers={"X-CSRF-Token": csrf})).json()["token"]
    assert "api_token_hash" in protected.config_path.read_text() and token not in protected.config_path.read_text()
    async with httpx.AsyncClient(base_url=protected.url) as script:
        bearer = {"Authorization": f"Bearer {token}"}
        assert (await script.put("/api/v1/mode", json={"mode": "manual"}, headers=bearer)).status_code == 200
        assert (await script.get("/update", params={"cmd": "setpower", "val": "500", "token": token})).text == "OK"
        basic = {"Authorization": "Basic " + base64.b64encode(f"x:{token}".encode()).decode()}
        assert (await script.get("/update", params={"cmd": "setmode", "val": "1"}, headers=basic)).text == "OK"
        wrong = await script.get("/update", params={"cmd": "setmode", "val": "0", "token": "nope"})
        assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
        assert (await script.put("/api/v1/mode", json={"mode": "manual"},
                                 params={"token": token})).status_code == 401  # ?token= only for /update


async def test_changing_the_password_needs_the_current_one(protected: LiveService) -> None:
    async with httpx.AsyncClient(base_url=protected.url) as http:
        csrf = {"X-CSRF-Token": await log_in(http)}
        refused = await http.put("/api/v1/password", json={"new_password": "new password 1", "current_password": "x"},
                                 headers=csrf)
        assert refused.status_code == 403
        short = await http.put("/api/v1/password", json={"new_password": "short", "current_password": PASSWORD},
                               headers=csrf)
        assert short.status_code == 422 and "8 characters" in short.json()["detail"]
        changed = await http.put("/api/v1/password",
                                 json={"new_password": "new password 1", "current_password": PASSWORD}, headers=csrf)
        assert changed.status_code == 200
    stored = protected.config_path.read_text().split('password_hash = "')[1].split('"')[0]
    assert verify_password("new password 1", stored) and not verify_password(PASSWORD, stored)
