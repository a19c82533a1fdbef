"""Password, sessions, CSRF and the API token: the web application in-process, in front of a stub engine."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from smartsofar.web.auth import FAILURES_FORGOTTEN_S, AccessError, Auth, hash_password, verify_password
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
    assert (await http.get("/update", params={"cmd": "setpower", "val": "500"}, headers=bearer)).text == "OK"
    assert protected.engine.holder.mode.manual_power_w == 500
    in_url = await http.get("/update", params={"cmd": "setpower", "val": "700", "token": token})
    assert in_url.status_code == 401 and "Authorization: Bearer" in in_url.text  # refused, and says how instead
    assert protected.engine.holder.mode.manual_power_w == 500
    basic = {"Authorization": "Basic " + base64.b64encode(f"x:{token}".encode()).decode()}
    assert (await http.get("/update", params={"cmd": "setmode", "val": "1"}, headers=basic)).text == "OK"
    wrong = await http.get("/update", params={"cmd": "setmode", "val": "0"},
                           headers={"Authorization": "Basic " + base64.b64encode(b"x:nope").decode()})
    assert wrong.status_code == 401 and wrong.headers["www-authenticate"].startswith("Basic")
    assert (await http.put("/api/v1/mode", json={"mode": "manual"},
                           params={"token": token})).status_code == 401


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


async def test_a_password_change_ends_every_other_session(protected: Web) -> None:
    owner = protected.http
    csrf = {"X-CSRF-Token": await log_in(owner)}
    transport = owner._transport  # a second browser on the same application
    async with httpx.AsyncClient(transport=transport, base_url=str(owner.base_url)) as other:
        other_csrf = {"X-CSRF-Token": await log_in(other)}
        assert (await other.put("/api/v1/mode", json={"mode": "standby"}, headers=other_csrf)).status_code == 200
        changed = await owner.put("/api/v1/password", headers=csrf,
                                  json={"new_password": "new password 1", "current_password": PASSWORD})
        assert changed.status_code == 200 and changed.json()["sessions_ended"] == 1
        assert (await other.put("/api/v1/mode", json={"mode": "auto"}, headers=other_csrf)).status_code == 401
    assert (await owner.put("/api/v1/mode", json={"mode": "auto"}, headers=csrf)).status_code == 200


async def test_one_client_s_wrong_passwords_do_not_hold_up_another() -> None:
    released = asyncio.Event()

    async def slow(seconds: float) -> None:  # the attacker's wait, held open until the owner is in
        await released.wait()

    auth = Auth(hash_password(PASSWORD), None, True, pause=slow)
    attacker = asyncio.create_task(auth.login("guess", "203.0.113.9"))
    await asyncio.sleep(0.2)  # its check is done; it is waiting out its delay
    assert not attacker.done()
    await asyncio.wait_for(auth.login(PASSWORD, "192.0.2.5"), 5)  # the owner is not queued behind it
    released.set()
    with pytest.raises(AccessError):
        await attacker


async def test_a_client_s_failures_are_forgotten_after_a_quarter_of_an_hour() -> None:
    now = [1_000_000.0]
    pauses: list[float] = []

    async def record(seconds: float) -> None:
        pauses.append(seconds)

    auth = Auth(hash_password(PASSWORD), None, True, pause=record, clock=lambda: now[0])
    for _ in range(3):
        with pytest.raises(AccessError):
            await auth.login("guess", "203.0.113.9")
    now[0] += FAILURES_FORGOTTEN_S + 1
    with pytest.raises(AccessError):
        await auth.login("guess", "203.0.113.9")
    assert pauses == [0.5, 1.0, 2.0, 0.5]


async def test_odd_input_to_the_login_machinery_is_a_clear_refusal_not_a_server_error(protected: Web) -> None:
    http = protected.http
    await log_in(http)
    not_ascii = await http.put("/api/v1/mode", json={"mode": "auto"}, headers={b"X-CSRF-Token": "jeton-é".encode()})
    assert not_ascii.status_code == 403  # it was a 500: compare_digest refuses non-ASCII text
    body = '{"new_password": "abc\\ud800defgh", "current_password": "correct horse battery"}'
    csrf = {"X-CSRF-Token": await log_in(http), "content-type": "application/json"}
    surrogate = await http.put("/api/v1/password", content=body, headers=csrf)
    assert surrogate.status_code == 422 and "not text" in surrogate.json()["detail"]


@pytest.mark.parametrize("headers", [
    {"Sec-Fetch-Site": "cross-site"}, {"Sec-Fetch-Site": "same-site"},
    {"Referer": "http://evil.example/page.html"}, {"Origin": "null"},
])
async def test_another_site_cannot_use_v1_update_even_without_a_password(tmp_path: Path,
                                                                      headers: dict[str, str]) -> None:
    async with web_client(tmp_path) as web:  # no password: only the cross-site check stands
        await web.http.get("/update", params={"cmd": "setmode", "val": "0"})  # manual, from a script
        refused = await web.http.get("/update", params={"cmd": "setpower", "val": "1500"}, headers=headers)
        assert refused.status_code == 403
        assert web.engine.holder.mode.manual_power_w == 0
        own_page = await web.http.get("/update", params={"cmd": "setpower", "val": "1500"},
                                      headers={"Referer": f"{web.http.base_url}/", "Sec-Fetch-Site": "same-origin"})
        assert own_page.status_code == 200 and web.engine.holder.mode.manual_power_w == 1500
