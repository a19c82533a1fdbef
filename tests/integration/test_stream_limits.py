"""Through the real service: live streams are capped per client and in all, and a flood is logged once
(issue 17, finding 13)."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

import httpx
import pytest

from smartsofar.web.live import MAX_STREAMS_PER_CLIENT
from tests.live_service import live_service


async def test_one_client_gets_its_share_of_live_streams_and_no_more(tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    async with live_service(tmp_path) as site, httpx.AsyncClient(base_url=site.url, timeout=10) as http:
        async with contextlib.AsyncExitStack() as streams:
            for _ in range(MAX_STREAMS_PER_CLIENT):
                response = await streams.enter_async_context(http.stream("GET", "/api/v1/events"))
                assert response.status_code == 200
            for _ in range(3):
                refused = await http.get("/api/v1/events")
                assert refused.status_code == 503 and "too many live streams" in refused.json()["detail"]
            assert (await http.get("/api/v1/state")).status_code == 200  # the rest of the service answers
        floods = [r for r in caplog.records
                  if r.levelno == logging.WARNING and "live streams refused" in r.getMessage()]
        assert len(floods) == 1  # one line for the flood, not one per attempt
        async with http.stream("GET", "/api/v1/events") as again:  # the closed ones gave their slots back
            assert again.status_code == 200
