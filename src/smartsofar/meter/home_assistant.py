"""A grid-power sensor in Home Assistant (the ``homeassistant`` source), followed over its WebSocket API.

After ``auth`` with a long-lived token, ``subscribe_entities`` for the one entity: Home Assistant answers
with its state (``a``), then sends each change (``c``, the new state under ``+``). The state is a number in
the sensor's ``unit_of_measurement`` (W, kW or MW), converted to W. ``unknown`` / ``unavailable`` or a unit
that is not a power is refused and logged. Home Assistant sends a change only when the value changes, so a
sensor stuck on one value goes silent, and its samples stale, like any meter that stops.

The first state is used only if its ``last_updated`` is recent: it may be hours old. The websockets
library (no dependencies of its own) carries the protocol; hass-client would bring aiohttp for the same.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from smartsofar.config_meters import HomeAssistantMeterConfig
from smartsofar.errors import MeterAuthError, MeterReplyError, MeterUnavailableError
from smartsofar.meter.base import Meter, MeterOptions, MeterSample, as_number, json_object
from smartsofar.meter.push import PushMeter, plausible_power
from smartsofar.meter.registry import register

POWER_UNITS = {"W": 1.0, "kW": 1000.0, "MW": 1_000_000.0, "mW": 0.001}
SUBSCRIPTION_ID = 1


class HomeAssistantMeter(PushMeter):
    """Follows one entity's state changes."""

    def __init__(self, config: HomeAssistantMeterConfig, clock: Callable[[], float] = time.monotonic,
                 wall_clock: Callable[[], float] = time.time) -> None:
        super().__init__(config.stale_after_s, clock)
        self.config = config
        self.model = config.label
        self.wall_clock = wall_clock
        self.options = MeterOptions(invert=config.invert, phase=config.phase)
        self.unit: str | None = None

    def _tls(self) -> ssl.SSLContext | None:
        if not self.config.websocket_url.startswith("wss:"):
            return None
        ca = self.config.tls_ca_file
        return ssl.create_default_context(cafile=str(ca) if ca else None)

    async def receive(self) -> None:
        """Connect, authenticate, subscribe, then deliver every usable state."""
        try:
            async with connect(self.config.websocket_url, ssl=self._tls(), proxy=None,
                               open_timeout=self.config.timeout_s, max_size=1 << 20) as ws:
                await self._authenticate(ws)
                await ws.send(json.dumps({"id": SUBSCRIPTION_ID, "type": "subscribe_entities",
                                          "entity_ids": [self.config.entity_id]}))
                async for raw in ws:
                    await self._handle(raw, self.clock())
        except (websockets.exceptions.WebSocketException, TimeoutError) as exc:
            raise MeterUnavailableError(f"{self.config.websocket_url}: {exc or type(exc).__name__}") from None

    async def _authenticate(self, ws: ClientConnection) -> None:
        hello = self._message(await ws.recv())
        if hello.get("type") != "auth_required":
            raise MeterUnavailableError(f"{self.config.websocket_url} does not answer like Home Assistant")
        await ws.send(json.dumps({"type": "auth", "access_token": self.config.token.get_secret_value()}))
        answer = self._message(await ws.recv())
        if answer.get("type") != "auth_ok":
            raise MeterAuthError(f"Home Assistant refused the token: {answer.get('message') or answer.get('type')}")

    @staticmethod
    def _message(raw: str | bytes) -> dict[str, Any]:
        return json_object(raw, "Home Assistant")

    async def _handle(self, raw: str | bytes, taken_at: float) -> None:
        try:
            message = self._message(raw)
            if message.get("type") == "result" and message.get("success") is False:
                error = message.get("error") or {}
                raise MeterUnavailableError(f"Home Assistant refused the subscription: {error.get('message')}")
            if message.get("type") != "event" or message.get("id") != SUBSCRIPTION_ID:
                return
            event = message.get("event")
            if not isinstance(event, dict):
                raise MeterReplyError("Home Assistant sent an event without a body")
            entity = self.config.entity_id
            if entity in event.get("a", {}):
                state = event["a"][entity]
                self.unit = (state.get("a") or {}).get("unit_of_measurement")
                updated = state.get("lu")
                age = self.wall_clock() - updated if isinstance(updated, int | float) else None
                if age is None or age > self.config.stale_after_s:
                    return  # an old state: wait for the next change
                await self.deliver(self._sample(state.get("s"), taken_at - max(0.0, age)))
            elif entity in event.get("c", {}):
                change = event["c"][entity].get("+") or {}
                if "unit_of_measurement" in (change.get("a") or {}):
                    self.unit = change["a"]["unit_of_measurement"]
                if "s" in change:
                    await self.deliver(self._sample(change["s"], taken_at))
            elif entity in event.get("r", []):
                raise MeterUnavailableError(f"Home Assistant removed {entity}")
        except MeterReplyError as exc:
            await self.refuse(exc)

    def _sample(self, state: Any, taken_at: float) -> MeterSample:
        entity = self.config.entity_id
        if state in ("unknown", "unavailable", None):
            raise MeterReplyError(f"{entity} is {state}")
        factor = POWER_UNITS.get(self.unit or "W")
        if factor is None:
            raise MeterReplyError(f"{entity} is in {self.unit!r}, not a power (W, kW, MW)")
        watts = plausible_power(as_number(state, entity) * factor, entity)
        return self.options.sample([], taken_at, watts)


@register("homeassistant")
async def open_home_assistant(config: HomeAssistantMeterConfig) -> Meter:
    """The configured entity's follower (it connects on the first read)."""
    return HomeAssistantMeter(config)
