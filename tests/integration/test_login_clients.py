"""Through the real service: a login's client is the address it connects from, whatever X-Forwarded-For
says, unless the request comes from a configured proxy (issue 17, finding 4)."""

from __future__ import annotations

from pathlib import Path

import httpx

from smartsofar.web.auth import hash_password
from tests.live_service import live_service


async def test_a_forged_forwarded_for_does_not_start_the_count_afresh(tmp_path: Path) -> None:
    web = {"password_hash": hash_password("correct horse"), "read_only_without_login": True}
    async with live_service(tmp_path, config={"web": web}) as site, httpx.AsyncClient(base_url=site.url) as http:
        for forged in ("198.51.100.1", "198.51.100.2"):
            refused = await http.post("/api/v1/login", json={"password": "guess"},
                                      headers={"X-Forwarded-For": forged}, timeout=10)
            assert refused.status_code == 401
        context = site.service.context
        assert context is not None
        assert context.auth.failed_logins() == {"127.0.0.1": 2}  # one client, two failures


async def test_a_configured_proxy_is_believed(tmp_path: Path) -> None:
    web = {"password_hash": hash_password("correct horse"), "trusted_proxies": ["127.0.0.1"]}
    async with live_service(tmp_path, config={"web": web}) as site, httpx.AsyncClient(base_url=site.url) as http:
        await http.post("/api/v1/login", json={"password": "guess"}, headers={"X-Forwarded-For": "198.51.100.7"},
                        timeout=10)
        context = site.service.context
        assert context is not None and context.auth.failed_logins() == {"198.51.100.7": 1}
