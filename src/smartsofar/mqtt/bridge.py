"""The MQTT bridge: publishes the site, takes commands, and keeps Home Assistant's discovery current.

It reads the engine's snapshot and event topics (bounded queues that drop their oldest items), so the
control loop never waits on the broker. When the broker goes away the bridge reconnects with a growing
delay (1 s up to 60 s) and announces itself again. Its last will makes everything unavailable in Home
Assistant if the service dies; a clean stop publishes ``offline`` itself.

On every (re)connection: ``status`` ``online``, the discovery configs, each unit's availability, and the
current state. When Home Assistant announces itself (its birth message, ``<prefix>/status = online``), all
of it again after a random 1-5 s, so that many devices do not answer at once, and once per birth however
often the message comes; a retained birth seen on connecting is already answered by the connection's own.
Discovery configs found on the broker for this node that no longer match a configured unit are removed
(empty retained payloads). Commands go through ``SiteCommands``; a refused payload is answered on ``<base>/error`` and
changes nothing. Retained command messages are refused: a command must not be replayed on reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
from pydantic import BaseModel

from smartsofar.config import MqttConfig
from smartsofar.control.intent import EXTERNAL_LEASE_S, BatteryMode
from smartsofar.engine.facade import EngineApi
from smartsofar.engine.hub import Subscription
from smartsofar.engine.snapshot import Event, SiteSnapshot
from smartsofar.errors import InvalidInputError, StorageError
from smartsofar.logbuffer import shorten
from smartsofar.modes import parse_watts
from smartsofar.mqtt.discovery import DiscoveryContext, discovery_messages
from smartsofar.mqtt.topics import SOFAR2MQTT_PREFIX, Topics, site_payload, unit_payload
from smartsofar.payloads import SitePayload, event_json
from smartsofar.tasks import cancel_and_wait

log = logging.getLogger(__name__)
MAX_BACKOFF_S = 60.0
MAX_COMMAND_CHARS = 256  # a command is a word or a number; anything longer is refused unread
ECHO_CHARS = 200  # how much of a refused payload is logged and echoed on <base>/error
BIRTH_DELAY_S = (1.0, 5.0)  # Home Assistant's advice: answer its birth after a short random delay


class MqttBridge:
    """One broker connection (renewed as needed) for the life of the service."""

    def __init__(self, config: MqttConfig, engine: EngineApi, context: DiscoveryContext,
                 today: Callable[[], dict[str, float]] | None = None,
                 totals: Callable[[], dict[str, Any] | None] | None = None) -> None:
        assert config.url is not None
        self.config = config
        self.engine = engine
        self.context = context
        self.today = today
        self.totals = totals
        self.topics = Topics(config.base_topic)
        self.node = context.node()
        parts = urlsplit(config.url)
        self.tls = parts.scheme == "mqtts"
        self.host = parts.hostname or ""
        self.port = parts.port or (8883 if self.tls else 1883)
        self.username = config.username or (unquote(parts.username) if parts.username else None)
        secret = config.password.get_secret_value() if config.password else None
        self.password = secret or (unquote(parts.password) if parts.password else None)
        self.connected = False
        self.last_error: str | None = None
        self.published = 0
        self.received = 0
        self.refused = 0
        self._client: aiomqtt.Client | None = None
        self._state_due = True
        self._availability: dict[int, bool] = {}
        self._discovery_topics: set[str] = set()
        self._described: tuple[object, ...] | None = None  # what the published discovery describes
        self._birth: asyncio.Task[None] | None = None  # the answer to Home Assistant's birth, while it waits
        self.birth_delay_s = BIRTH_DELAY_S

    def status(self) -> dict[str, Any]:
        """For diagnostics."""
        return {"broker": f"{'mqtts' if self.tls else 'mqtt'}://{self.host}:{self.port}", "connected": self.connected,
                "last_error": self.last_error, "published": self.published, "received": self.received,
                "refused": self.refused}

    def _make_client(self) -> aiomqtt.Client:
        tls = aiomqtt.TLSParameters(ca_certs=self.config.tls_ca_file) if self.tls else None
        return aiomqtt.Client(self.host, self.port, username=self.username, password=self.password,
                              identifier=self.config.client_id, keepalive=30, timeout=10, tls_params=tls,
                              tls_insecure=self.config.tls_insecure if self.tls else None,
                              will=aiomqtt.Will(self.topics.status, "offline", qos=1, retain=True))

    # --- the connection ------------------------------------------------------------------------------------

    async def run(self) -> None:
        """Stay connected until cancelled."""
        backoff = 1.0
        engine = self.engine
        arrived = asyncio.Event()
        with engine.snapshots.subscribe(arrived) as snapshots, engine.events.subscribe(arrived) as events:
            while not snapshots.closed:
                try:
                    async with self._make_client() as client:
                        self._client = client
                        self._set_connected(True, None)
                        backoff = 1.0
                        await self._subscribe(client)
                        await self._announce(client)
                        await self._serve(client, snapshots, events, arrived)
                except aiomqtt.MqttError as exc:
                    self._client = None
                    self._set_connected(False, str(exc))
                    await asyncio.sleep(backoff)
                    backoff = min(MAX_BACKOFF_S, backoff * 2)

    async def _serve(self, client: aiomqtt.Client, snapshots: Subscription[SiteSnapshot],
                     events: Subscription[Event], arrived: asyncio.Event) -> None:
        """Listen and publish until one of them ends (the connection dropped, or the service stops); never
        leave either behind."""
        tasks = {asyncio.create_task(self._listen(client)),
                 asyncio.create_task(self._publish_loop(client, snapshots, events, arrived))}
        try:
            done, _pending = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                task.result()  # re-raise why the connection ended
        finally:
            if self._birth is not None:
                tasks.add(self._birth)
                self._birth = None
            await cancel_and_wait(tasks)

    async def stop(self) -> None:
        """Say ``offline`` before the connection is closed (the will only covers an unclean end)."""
        client = self._client
        if client is not None and self.connected:
            with contextlib.suppress(aiomqtt.MqttError, TimeoutError):
                async with asyncio.timeout(2.0):
                    await client.publish(self.topics.status, "offline", qos=1, retain=True)

    def _set_connected(self, connected: bool, error: str | None) -> None:
        if connected != self.connected:
            if connected:
                log.info("MQTT connected to %s:%d", self.host, self.port)
            else:
                log.warning("MQTT broker %s:%d lost: %s; reconnecting", self.host, self.port, error)
        elif error and error != self.last_error:
            log.warning("MQTT broker %s:%d unreachable: %s; retrying", self.host, self.port, error)
        self.connected = connected
        self.last_error = error

    async def _subscribe(self, client: aiomqtt.Client) -> None:
        await client.subscribe(f"{self.config.base_topic}/set/#", qos=1)
        if self.config.discovery:
            await client.subscribe(f"{self.config.discovery_prefix}/status", qos=1)
            await client.subscribe(f"{self.config.discovery_prefix}/+/{self.node}/+/config", qos=1)
        if self.config.sofar2mqtt_topics:
            await client.subscribe(f"{SOFAR2MQTT_PREFIX}#", qos=1)

    async def _publish(self, client: aiomqtt.Client, topic: str, payload: str | BaseModel | dict[str, Any],
                       retain: bool = False) -> None:
        if isinstance(payload, BaseModel):
            text = payload.model_dump_json()
        else:
            text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        await client.publish(topic, text, qos=1, retain=retain)
        self.published += 1

    # --- what goes out -------------------------------------------------------------------------------------

    def _snapshot(self) -> SitePayload:
        return SitePayload.of(self.engine.latest())

    async def _announce(self, client: aiomqtt.Client) -> None:
        await self._publish(client, self.topics.status, "online", retain=True)
        state = self._snapshot()
        await self._publish_discovery(client, state)
        self._availability.clear()
        await self._publish_state(client, state)

    @staticmethod
    def _description(state: SitePayload) -> tuple[object, ...]:
        """What discovery depends on: the units, their names and identities, manual mode's range."""
        return (state.manual_min_w, state.manual_max_w,
                *((u.unit_id, u.name, u.info) for u in state.units))

    async def _publish_discovery(self, client: aiomqtt.Client, state: SitePayload) -> None:
        self._described = self._description(state)
        if not self.config.discovery:
            return
        messages = discovery_messages(self.config, state, self.context)
        self._discovery_topics = set(messages)
        for topic, config in messages.items():
            await self._publish(client, topic, config, retain=True)

    async def _publish_state(self, client: aiomqtt.Client, state: SitePayload) -> None:
        totals = self.totals() if self.totals else None
        await self._publish(client, self.topics.state, site_payload(state, self.today() if self.today else None,
                                                                    self.engine.planning.summary(), totals),
                            retain=True)
        for unit in state.units:
            if self._availability.get(unit.unit_id) != unit.available:
                self._availability[unit.unit_id] = unit.available
                await self._publish(client, self.topics.unit_availability(unit.unit_id),
                                    "online" if unit.available else "offline", retain=True)
            await self._publish(client, self.topics.unit_state(unit.unit_id), unit_payload(unit, totals),
                                retain=True)
        self._state_due = False

    async def _publish_loop(self, client: aiomqtt.Client, snapshots: Subscription[SiteSnapshot],
                            events: Subscription[Event], arrived: asyncio.Event) -> None:
        """Publish what the engine publishes, woken by it; ends when the engine's topics close."""
        last_state = time.monotonic()
        while not snapshots.closed:
            await arrived.wait()
            arrived.clear()
            newest: SiteSnapshot | None = None
            while (item := snapshots.get_nowait()) is not None:
                newest = item
            event: Event | None
            while (event := events.get_nowait()) is not None:
                await self._publish(client, self.topics.events, event_json(event))
                if event.kind in ("mode", "link", "safety"):
                    self._state_due = True
            now = time.monotonic()
            latest = None if newest is None else SitePayload.of(newest)
            if latest is not None and self._description(latest) != self._described:
                await self._publish_discovery(client, latest)  # e.g. a unit's serial number is known now
            if latest is not None and (self._state_due or now - last_state >= self.config.publish_interval_s
                                       or any(self._availability.get(u.unit_id) != u.available
                                              for u in latest.units)):
                await self._publish_state(client, latest)
                last_state = now

    # --- what comes in -------------------------------------------------------------------------------------

    async def _listen(self, client: aiomqtt.Client) -> None:
        async for message in client.messages:
            self.received += 1
            topic = str(message.topic)
            payload = message.payload.decode("utf-8", "replace") if isinstance(message.payload, bytes | bytearray) \
                else "" if message.payload is None else str(message.payload)
            if topic == f"{self.config.discovery_prefix}/status":
                if payload == "online" and not message.retain and self._birth is None:
                    self._birth = asyncio.create_task(self._answer_birth(client))
            elif topic.endswith("/config") and f"/{self.node}/" in topic:
                if payload and topic not in self._discovery_topics:
                    log.info("removing discovery of an entity that no longer exists: %s", topic)
                    await client.publish(topic, b"", qos=1, retain=True)
            elif name := self.topics.command_name(topic):
                await self._command(client, topic, payload, message.retain,
                                    functools.partial(self._apply, name, payload))
            elif topic.startswith(SOFAR2MQTT_PREFIX) and self.config.sofar2mqtt_topics:
                verb = topic.removeprefix(SOFAR2MQTT_PREFIX)
                await self._command(client, topic, payload, message.retain,
                                    functools.partial(self._sofar2mqtt, verb, payload))

    async def _answer_birth(self, client: aiomqtt.Client) -> None:
        """Home Assistant (re)started: it needs everything again, once, after a short random delay."""
        try:
            await asyncio.sleep(random.uniform(*self.birth_delay_s))
            await self._announce(client)
        except aiomqtt.MqttError:
            pass  # the connection is lost: the next one announces everything itself
        finally:
            self._birth = None

    async def _command(self, client: aiomqtt.Client, topic: str, payload: str, retained: bool,
                       apply: Callable[[], None]) -> None:
        try:
            if retained:
                raise InvalidInputError("retained commands are refused: publish commands without the retain flag")
            if len(payload) > MAX_COMMAND_CHARS:
                raise InvalidInputError(f"a command is at most {MAX_COMMAND_CHARS} characters, this one has "
                                        f"{len(payload)}")
            apply()
        except (InvalidInputError, StorageError) as exc:
            self.refused += 1
            shown, reason = shorten(payload, ECHO_CHARS), shorten(str(exc), ECHO_CHARS)
            log.warning("MQTT %s %r refused: %s", topic, shown, reason)
            await self._publish(client, self.topics.error, {"topic": topic, "payload": shown, "error": reason})
        else:
            self._state_due = True

    def _apply(self, name: str, payload: str) -> None:
        commands = self.engine.commands
        if name == "mode":
            commands.set_mode(payload)
        elif name == "power":
            commands.set_manual_power(payload)
        elif name == "target":
            commands.set_target(payload)
        elif name == "allow_charge":
            commands.set_permissions(allow_charge=payload)
        elif name == "allow_discharge":
            commands.set_permissions(allow_discharge=payload)
        elif name == "battery_mode":
            self._battery_mode(payload)
        else:
            commands.standby()

    def _battery_mode(self, payload: str) -> None:
        """``hold`` (for 60 s), or ``{"mode": "charge", "lease_s": 3600, "charge_w": 2000, "soc_pct": 80}``."""
        text = payload.strip()
        if not text.startswith("{"):
            self.engine.planning.request(BatteryMode.parse(text), lease_s=EXTERNAL_LEASE_S, who="mqtt")
            return
        try:
            data = json.loads(text)
        except json.JSONDecodeError:
            raise InvalidInputError("battery_mode takes a mode (normal, hold, charge) or a JSON object") from None
        if not isinstance(data, dict) or set(data) - {"mode", "lease_s", "charge_w", "soc_pct"} or "mode" not in data:
            raise InvalidInputError('battery_mode JSON is {"mode": ..., "lease_s": ..., "charge_w": ..., '
                                    '"soc_pct": ...}')
        numbers = {}
        for key in ("lease_s", "charge_w", "soc_pct"):
            value = data.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
                raise InvalidInputError(f"battery_mode: {key} must be a number")
            numbers[key] = None if value is None else float(value)
        self.engine.planning.request(BatteryMode.parse(data["mode"]),
                                     lease_s=numbers["lease_s"] or EXTERNAL_LEASE_S, charge_w=numbers["charge_w"],
                                     soc_pct=numbers["soc_pct"], who="mqtt")

    def _sofar2mqtt(self, verb: str, payload: str) -> None:
        """Sofar2mqtt's set topics: standby / auto ('true'), charge / discharge (W)."""
        commands = self.engine.commands
        if verb in ("standby", "auto"):
            if payload.strip().lower() not in ("true", "1", "on"):
                raise InvalidInputError(f"Sofar2mqtt/set/{verb} takes 'true'")
            if verb == "standby":
                commands.standby()
            else:
                commands.set_mode("auto")
        elif verb in ("charge", "discharge"):
            watts = parse_watts(payload, f"Sofar2mqtt/set/{verb}")
            if watts < 0:
                raise InvalidInputError(f"Sofar2mqtt/set/{verb} takes a positive number of watts, got {watts}")
            signed = watts if verb == "charge" else -watts
            if not commands.manual_low_w <= signed <= commands.manual_high_w:
                raise InvalidInputError(f"power must be between {commands.manual_low_w} and "
                                        f"{commands.manual_high_w} W, got {signed}")
            commands.set_mode("manual")  # only once the payload is known to be good
            commands.set_manual_power(signed)
        else:
            raise InvalidInputError(f"unknown Sofar2mqtt command {verb!r}: use standby, auto, charge or discharge")
