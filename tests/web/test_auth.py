"""Password, sessions, CSRF and the API token: the web application in-process, in front of a stub engine."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartsofar.web.auth import verify_password
from tests.web.stub import Web, web_client

PASSWORD = "correct horse battery"


@pytest.fixture
async def protected(tmp_path: Path, request: pytest.FixtureRequest) -> AsyncIterator[Web]:
    read_only: bool = getattr(request, "param", True)
    async with web_client(tmp_path, password=PASSWORD, read_only_without_login=read_only) as web:
        yield web


async def log_in(http: httpx.AsyncClient) -> str:
    response = await http.post("/api/v1/login", json={"password": PASSWORD})
    assert response.status_code == 200 and "smartsofar_session" in response.cookies
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=strict" in response.headers["set-cookie"].lower()
    csrf: str = response.json()["csrf_token"]
    return csrf


async def test_without_login_one_may_watch_but_not_change(protected: Web) -> None:
    http = protected.http
    assert (await http.get("/api/v1/state")).status_code == 200
    assert (await http.get("/data.json")).status_code == 200
    refused = await http.put("/api/v1/mode", json={"mode": "standby"})
    assert refused.status_code == 401 and "log in" in refused.json()["detail"]
    assert (await http.get("/update", params={"cmd": "setmode", "val": "0"})).status_code == 401
    session: dict[str, Any] = (await http.get("/api/v1/session")).json()
    assert session["auth_required"] and not session["can_write"] and session["can_read"]
    assert protected.engine.holder.mode.mode == "auto"


@pytest.mark.parametrize("protected", [False], indirect=True)
async def test_reading_can_need_a_login_too(protected: Web) -> None:
    http = protected.http
    for path in ("/api/v1/state", "/data.json", "/metrics", "/api/v1/events"):
        assert (await http.get(path)).status_code == 401, path
    await log_in(http)
    assert (await http.get("/api/v1/state")).status_code == 200


async def test_a_session_changes_things_with_its_csrf_token_only(protected: Web) -> None:
    http = protected.http
    csrf = await log_in(http)
    without = await http.put("/api/v1/mode", json={"mode": "standby"})
    assert without.status_code == 403 and "CSRF" in without.json()["detail"]
    with_token = await http.put("/api/v1/mode", json={"mode": "standby"}, headers={"X-CSRF-Token": csrf})
    assert with_token.status_code == 200 and protected.engine.holder.mode.mode == "standby"
    await http.post("/api/v1/logout")
    after = await http.put("/api/v1/mode", json={"mode": "auto"}, headers={"X-CSRF-Token": csrf})
    assert after.status_code == 401 and protected.engine.holder.mode.mode == "standby"


async def test_wrong_passwords_are_refused_more_and_more_slowly(protected: Web) -> None:
    http = protected.http
    for _ in range(3):
        response = await http.post("/api/v1/login", json={"password": "guess"})
        assert response.status_code == 401 and response.json()["detail"] == "wrong password"
    assert protected.pauses == [0.5, 1.0, 2.0]  # doubling each time, before the answer
    assert "smartsofar_session" not in http.cookies
    await log_in(http)  # the right one is let in at once ...
    assert protected.pauses == [0.5, 1.0, 2.0]
    assert (await http.post("/api/v1/login", json={"password": "guess"})).status_code == 401
    assert protected.pauses[-1] == 0.5  # ... and the count starts again


async def test_the_api_token_works_for_scripts_and_v1_update(protected: Web) -> None:
    http = protected.http
    csrf = await log_in(http)
    token = (await http.post("/api/v1/token", headers={"X-CSRF-Token": csrf})).json()["token"]
    assert "api_token_hash" in protected.config_path.read_text() and token not in protected.config_path.read_text()
    http.cookies.clear()  # a script: no session
    bearer = {"Authorization": f"Bearer {token}"}
    assert (await http.put("/api/v1/mode", json={"mode": "manual"}, headers=bearer)).status_code == 200
    assert (await http.get("/update", params={"cmd": "setpower", "val": "500", "token": token})).text == "OK"
    assert protected.engine.holder.mode.manual_power_w == 500
    basic = {"Authorization": "Basic " + base64.b64encode(f"x:{token}".encode()).decode()}
    assert (await http.get("/update", params={"cmd": "setmode", "val": "1"}, headers=basic)).text == "OK"
    wrong = await http.get("/update", params={"cmd": "setmode", "val": "0", "token": "nope"})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    assert (await http.put("/api/v1/mode", json={"mode": "manual"},
                           params={"token": token})).status_code == 401  # ?token= only for /update


async def test_changing_the_password_needs_the_current_one(protected: Web) -> None:
    http = protected.http
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
