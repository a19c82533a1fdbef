"""A grid-power sensor in Home Assistant (the ``homeassistant`` source), followed over its WebSocket API.

After ``auth`` with a long-lived token, ``subscribe_entities`` for the entity (or the three phase entities):
Home Assistant answers with their states (``a``), then sends each change (``c``, the new state under ``+``).
A state is a number in the sensor's ``unit_of_measurement`` (W, kW or MW), converted to W. ``unknown`` /
``unavailable`` or a unit that is not a power is refused and logged. Home Assistant sends a change only when
the value changes, so a sensor stuck on one value goes silent, and its samples stale, like any meter that
stops.

With three entities (phases L1, L2, L3) each change gives a sample of all three: the changed phase's new
state and the others' last ones, which still hold (a phase that does not change sends nothing); their sum is
the grid's power, and ``phase`` can follow one of them. Until every phase has a usable state there is no
sample.

The first states are used only if one of them was updated recently: they may be hours old. The websockets
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
from smartsofar.meter.base import Meter, MeterOptions, MeterSample, PhaseSample, as_number, json_object
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
        self.units: dict[str, str | None] = {}  # each entity's unit_of_measurement
        self.states: dict[str, Any] = {}  # each entity's last state, as Home Assistant sent it

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
                                          "entity_ids": list(self.config.entity_ids)}))
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
            await self._event(event, taken_at)
        except MeterReplyError as exc:
            await self.refuse(exc)

    async def _event(self, event: dict[str, Any], taken_at: float) -> None:
        ours = self.config.entity_ids
        if any(entity in event.get("r", []) for entity in ours):
            raise MeterUnavailableError(f"Home Assistant removed {', '.join(e for e in ours if e in event['r'])}")
        added = {e: s for e, s in (event.get("a") or {}).items() if e in ours and isinstance(s, dict)}
        if added:
            newest_age = None
            for entity, state in added.items():
                self.units[entity] = (state.get("a") or {}).get("unit_of_measurement")
                self.states[entity] = state.get("s")
                updated = state.get("lu")
                if isinstance(updated, int | float):
                    age = max(0.0, self.wall_clock() - updated)
                    newest_age = age if newest_age is None else min(newest_age, age)
            if newest_age is None or newest_age > self.config.stale_after_s:
                return  # old states: wait for the next change
            await self.deliver(self._sample(taken_at - newest_age))
            return
        changes = {e: (c.get("+") or {}) for e, c in (event.get("c") or {}).items()
                   if e in ours and isinstance(c, dict)}
        for entity, change in changes.items():
            if "unit_of_measurement" in (change.get("a") or {}):
                self.units[entity] = change["a"]["unit_of_measurement"]
            if "s" in change:
                self.states[entity] = change["s"]
        if any("s" in change for change in changes.values()):
            await self.deliver(self._sample(taken_at))

    def _watts(self, entity: str) -> float:
        state = self.states.get(entity)
        if state in ("unknown", "unavailable", None):
            raise MeterReplyError(f"{entity} is {state or 'not known yet'}")
        unit = self.units.get(entity)
        factor = POWER_UNITS.get(unit or "W")
        if factor is None:
            raise MeterReplyError(f"{entity} is in {unit!r}, not a power (W, kW, MW)")
        return plausible_power(as_number(state, entity) * factor, entity)

    def _sample(self, taken_at: float) -> MeterSample:
        watts = [self._watts(entity) for entity in self.config.entity_ids]
        if len(watts) == 1:
            return self.options.sample([], taken_at, watts[0])
        return self.options.sample([PhaseSample(w) for w in watts], taken_at)


@register("homeassistant")
async def open_home_assistant(config: HomeAssistantMeterConfig) -> Meter:
    """The configured entity's follower (it connects on the first read)."""
    return HomeAssistantMeter(config)
