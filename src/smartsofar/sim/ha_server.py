"""A simulated Home Assistant WebSocket API with one grid-power sensor fed by a simulated meter.

It speaks the part of the protocol a subscriber of one entity sees: ``auth_required``, ``auth`` with a token
(``auth_ok`` / ``auth_invalid``), ``subscribe_entities`` answered by a ``result`` and the entity's state
(``a``), then a change event (``c``) at every meter update, or every ``interval_s``. As Home Assistant does,
a change is sent only when the value changed. ``unit`` is the sensor's unit (W or kW); ``unavailable``
makes the next changes read ``unavailable``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed

from smartsofar.sim.meter_server import SimMeter


@dataclass
class SimHomeAssistant:
    """The sensor's settings, changeable while the server runs."""

    meter: SimMeter
    token: str
    entity_id: str = "sensor.grid_power"
    unit: str = "W"
    interval_s: float = 1.0
    unavailable: bool = False

    def state(self) -> str:
        """The sensor's state now, as Home Assistant shows it (a string)."""
        if self.unavailable:
            return "unavailable"
        watts = sum(p.power for p in self.meter.phases())
        return f"{watts / 1000:.3f}" if self.unit == "kW" else f"{watts:.1f}"

    async def _changes(self, ws: ServerConnection, sub_id: int) -> None:
        last = self.state()
        attributes = {"unit_of_measurement": self.unit, "device_class": "power", "state_class": "measurement",
                      "friendly_name": "Grid power"}
        await ws.send(json.dumps({"id": sub_id, "type": "event", "event": {"a": {self.entity_id: {
            "s": last, "a": attributes, "c": "01JD0000000000000000000000", "lc": time.time(), "lu": time.time()}}}}))
        while True:
            await self.meter.next_update(self.interval_s)
            if self.meter.faults.outage:
                continue
            state = self.state()
            if state == last:
                continue
            last = state
            await ws.send(json.dumps({"id": sub_id, "type": "event", "event": {"c": {self.entity_id: {
                "+": {"s": state, "lu": time.time(), "c": "01JD0000000000000000000001"}}}}}))

    async def handle(self, ws: ServerConnection) -> None:
        """One client connection."""
        pusher: asyncio.Task[None] | None = None
        try:
            await ws.send(json.dumps({"type": "auth_required", "ha_version": "2026.11.3"}))
            auth: dict[str, Any] = json.loads(await ws.recv())
            if auth.get("type") != "auth" or auth.get("access_token") != self.token:
                await ws.send(json.dumps({"type": "auth_invalid", "message": "Invalid access token or password"}))
                return
            await ws.send(json.dumps({"type": "auth_ok", "ha_version": "2026.11.3"}))
            async for raw in ws:
                request = json.loads(raw)
                if request.get("type") == "subscribe_entities":
                    ids = request.get("entity_ids") or []
                    known = self.entity_id in ids
                    await ws.send(json.dumps({"id": request["id"], "type": "result", "success": True,
                                              "result": None}))
                    if known and pusher is None:
                        pusher = asyncio.create_task(self._changes(ws, request["id"]))
                else:
                    await ws.send(json.dumps({"id": request.get("id"), "type": "result", "success": False,
                                              "error": {"code": "unknown_command", "message": "Unknown command."}}))
        except ConnectionClosed:
            pass
        finally:
            if pusher is not None:
                pusher.cancel()
                with contextlib.suppress(asyncio.CancelledError, ConnectionClosed):
                    await pusher


async def serve_home_assistant(ha: SimHomeAssistant, host: str = "127.0.0.1", port: int = 0) -> Server:
    """Serve ``/api/websocket`` (any path) until the returned server is closed."""
    return await serve(ha.handle, host, port)
