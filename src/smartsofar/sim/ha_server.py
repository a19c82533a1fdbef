"""A simulated Home Assistant WebSocket API with grid-power sensors fed by a simulated meter: the grid's power
(``sensor.grid_power``), and each phase's (``sensor.grid_power_l1`` .. ``_l3``).

It speaks the part of the protocol a subscriber sees: ``auth_required``, ``auth`` with a token (``auth_ok`` /
``auth_invalid``), ``subscribe_entities`` answered by a ``result`` and the entities' states (``a``), then a
change event (``c``) at every meter update, or every ``interval_s``. As Home Assistant does, a change names
only the entities whose value changed. ``unit`` is the sensors' unit (W or kW); ``unavailable`` makes the next
changes read ``unavailable`` (``unavailable_entity``: that one sensor only).
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
    unavailable_entity: str | None = None

    @property
    def entities(self) -> tuple[str, ...]:
        """The grid's power, then its phases'."""
        return (self.entity_id, *(f"{self.entity_id}_l{i}" for i in (1, 2, 3)))

    def states(self) -> dict[str, str]:
        """Every sensor's state now, as Home Assistant shows it (a string)."""
        phases = [p.power for p in self.meter.phases()]
        phases += [0.0] * (3 - len(phases))
        out = {}
        for entity, watts in zip(self.entities, (sum(phases), *phases[:3]), strict=True):
            if self.unavailable or entity == self.unavailable_entity:
                out[entity] = "unavailable"
            else:
                out[entity] = f"{watts / 1000:.3f}" if self.unit == "kW" else f"{watts:.1f}"
        return out

    async def _changes(self, ws: ServerConnection, sub_id: int, wanted: list[str]) -> None:
        last = {e: s for e, s in self.states().items() if e in wanted}
        attributes = {"unit_of_measurement": self.unit, "device_class": "power", "state_class": "measurement"}
        await ws.send(json.dumps({"id": sub_id, "type": "event", "event": {"a": {entity: {
            "s": state, "a": {**attributes, "friendly_name": entity}, "c": "01JD0000000000000000000000",
            "lc": time.time(), "lu": time.time()} for entity, state in last.items()}}}))
        while True:
            await self.meter.next_update(self.interval_s)
            if self.meter.faults.outage:
                continue
            now = {e: s for e, s in self.states().items() if e in wanted}
            changed = {e: s for e, s in now.items() if s != last.get(e)}
            if not changed:
                continue
            last = now
            await ws.send(json.dumps({"id": sub_id, "type": "event", "event": {"c": {entity: {
                "+": {"s": state, "lu": time.time(), "c": "01JD0000000000000000000001"}}
                for entity, state in changed.items()}}}))

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
                    known = [e for e in request.get("entity_ids") or [] if e in self.entities]
                    await ws.send(json.dumps({"id": request["id"], "type": "result", "success": True,
                                              "result": None}))
                    if known and pusher is None:
                        pusher = asyncio.create_task(self._changes(ws, request["id"], known))
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
