"""``/api/v1/events``: the live stream the page listens to (Server-Sent Events).

Three kinds of message: ``snapshot`` (the site after a control cycle; only the newest is sent if several
are waiting), ``event`` (a command and its answer, a fault raised or cleared, a mode change) and ``log`` (a
new log line). A comment goes out after 15 s of quiet so proxies keep the connection open. The stream is
woken by the engine's topics, never makes the engine wait, and ends when the service closes them.

At most ``MAX_STREAMS_PER_CLIENT`` streams per client address and ``MAX_STREAMS`` in all are open at once;
one more is a 503 that says so, and the first refusal of a flood is logged, not every one.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from smartsofar.payloads import SitePayload, event_json
from smartsofar.web.api import Ctx
from smartsofar.web.context import WebContext

router = APIRouter(prefix="/api/v1")
KEEPALIVE_S = 15.0
MAX_STREAMS = 64
MAX_STREAMS_PER_CLIENT = 8
log = logging.getLogger(__name__)


class StreamSlots:
    """How many live streams are open, in all and per client; refusals logged once per flood."""

    def __init__(self) -> None:
        self.open: Counter[str] = Counter()
        self.refused = 0
        self._flooding = False

    def take(self, client: str) -> None:
        """Count one more stream for ``client``; HTTPException(503) if it would be one too many."""
        total = sum(self.open.values())
        if total >= MAX_STREAMS or self.open[client] >= MAX_STREAMS_PER_CLIENT:
            self.refused += 1
            if not self._flooding:
                log.warning("live streams refused: %d open in all, %d from %s (limits %d and %d)", total,
                            self.open[client], client, MAX_STREAMS, MAX_STREAMS_PER_CLIENT)
                self._flooding = True
            raise HTTPException(503, "too many live streams are open; close some pages and reload")
        self.open[client] += 1

    def give_back(self, client: str) -> None:
        """One of ``client``'s streams ended."""
        self.open[client] -= 1
        if self.open[client] <= 0:
            del self.open[client]
        if sum(self.open.values()) < MAX_STREAMS // 2:
            self._flooding = False


def sse(kind: str, data: BaseModel | dict[str, Any]) -> str:
    """One Server-Sent Event."""
    text = data.model_dump_json() if isinstance(data, BaseModel) else json.dumps(data, separators=(",", ":"))
    return f"event: {kind}\ndata: {text}\n\n"


async def stream(ctx: WebContext) -> AsyncIterator[str]:
    """The messages for one client, until it goes away (Starlette cancels this) or the service stops (the
    topics close). Woken by what arrives; only the newest of several waiting snapshots is sent."""
    engine = ctx.engine
    arrived = asyncio.Event()
    with engine.snapshots.subscribe(arrived) as snapshots, engine.events.subscribe(arrived) as events, \
            ctx.logs.stream.subscribe(arrived) as logs:
        yield sse("snapshot", SitePayload.of(engine.latest()))
        while not (snapshots.closed or events.closed or logs.closed):
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(KEEPALIVE_S):
                    await arrived.wait()
            arrived.clear()
            latest = None
            while (item := snapshots.get_nowait()) is not None:
                latest = item
            out = [sse("snapshot", SitePayload.of(latest))] if latest is not None else []
            while (event := events.get_nowait()) is not None:
                out.append(sse("event", event_json(event)))
            while (line := logs.get_nowait()) is not None:
                out.append(sse("log", line.to_json()))
            yield "".join(out) if out else ": keep-alive\n\n"


@router.get("/events", summary="Live stream (Server-Sent Events): snapshot, event and log messages",
            response_class=StreamingResponse,
            responses={200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                             "description": "One event per line group: snapshot, event or log"}})
async def get_events(request: Request, ctx: Ctx) -> StreamingResponse:
    ctx.auth.check_read(request)
    slots: StreamSlots = request.app.state.stream_slots
    client = ctx.auth.client_of(request)
    slots.take(client)
    return StreamingResponse(stream(ctx), media_type="text/event-stream",  # the slot is given back when it ends
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
                             background=BackgroundTask(slots.give_back, client))
