"""``/api/v1/events``: the live stream the page listens to (Server-Sent Events).

Three kinds of message: ``snapshot`` (the site after a control cycle; only the newest is sent if several
are waiting), ``event`` (a command and its answer, a fault raised or cleared, a mode change) and ``log`` (a
new log line). A comment goes out every 15 s so proxies keep the connection open. The stream reads the
engine's topics without ever making the engine wait.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse

from smartsofar.web.api import Ctx
from smartsofar.web.context import WebContext

router = APIRouter(prefix="/api/v1")
POLL_S = 0.2
KEEPALIVE_S = 15.0


def sse(kind: str, data: dict[str, Any]) -> str:
    """One Server-Sent Event."""
    return f"event: {kind}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


async def stream(request: Request, ctx: WebContext) -> AsyncIterator[str]:
    """The messages for one client, until it goes away."""
    engine = ctx.engine
    with engine.snapshots.subscribe() as snapshots, engine.events.subscribe() as events, \
            ctx.logs.stream.subscribe() as logs:
        yield sse("snapshot", engine.latest().to_json())
        quiet_since = time.monotonic()
        while not ctx.closing.is_set() and not await request.is_disconnected():
            latest = None
            while (item := snapshots.get_nowait()) is not None:
                latest = item
            out = [sse("snapshot", latest.to_json())] if latest is not None else []
            while (event := events.get_nowait()) is not None:
                out.append(sse("event", event.to_json()))
            while (line := logs.get_nowait()) is not None:
                out.append(sse("log", line.to_json()))
            if out:
                yield "".join(out)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since > KEEPALIVE_S:
                yield ": keep-alive\n\n"
                quiet_since = time.monotonic()
            await asyncio.sleep(POLL_S)


@router.get("/events", summary="Live stream (Server-Sent Events): snapshot, event and log messages")
async def get_events(request: Request, ctx: Ctx) -> StreamingResponse:
    ctx.auth.check_read(request)
    return StreamingResponse(stream(request, ctx), media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
