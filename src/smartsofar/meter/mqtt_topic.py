"""A grid meter read from one MQTT topic (the ``mqtt`` source), through aiomqtt.

A message is a plain number, or a JSON object in which dotted paths (``SML.Power_curr``, ``data.0.power``)
name the grid power, optionally a power to subtract from it, the phases and the energy counters. Powers are
multiplied by ``scale`` to get W, counters by ``energy_scale`` to get Wh. A message that does not hold what
the paths name, or a power beyond what a house can carry, is refused and logged, never used.

A retained message is skipped: it may be hours old, and samples are timed by their arrival.
"""

from __future__ import annotations

import json
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiomqtt

from smartsofar.config_meters import MqttMeterConfig
from smartsofar.errors import MeterAuthError, MeterReplyError, MeterUnavailableError
from smartsofar.meter.base import Meter, MeterOptions, MeterSample, PhaseSample, as_number
from smartsofar.meter.push import PushMeter, plausible_power
from smartsofar.meter.registry import register

MAX_MESSAGE_BYTES = 64 * 1024


def pick(body: Any, path: str) -> Any:
    """The value at a dotted path (``a.b.0.c``); MeterReplyError naming the path when it is not there."""
    value = body
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            raise MeterReplyError(f"the message has no {path!r}")
    return value


@dataclass(frozen=True, slots=True)
class MessageLayout:
    """Where a message holds the grid's values."""

    path: str | None = None
    minus_path: str | None = None
    phase_paths: tuple[str, ...] = ()
    import_path: str | None = None
    export_path: str | None = None
    scale: float = 1.0
    energy_scale: float = 1.0

    @classmethod
    def of(cls, config: MqttMeterConfig) -> MessageLayout:
        """The layout a configuration describes."""
        return cls(config.path, config.minus_path, config.phase_paths or (), config.import_path,
                   config.export_path, config.scale, config.energy_scale)

    def decode(self, payload: bytes, options: MeterOptions, taken_at: float) -> MeterSample:
        """One sample from one message; MeterReplyError when it does not hold what the layout names."""
        if len(payload) > MAX_MESSAGE_BYTES:
            raise MeterReplyError(f"the message is too long ({len(payload)} bytes)")
        try:
            body = json.loads(payload)
        except (ValueError, UnicodeDecodeError):
            raise MeterReplyError(f"the message is not JSON or a number: {payload[:40]!r}") from None
        needs_object = self.path is not None or self.phase_paths or self.minus_path
        if needs_object and not isinstance(body, dict | list):
            raise MeterReplyError(f"the message is not a JSON object: {payload[:40]!r}")

        def watts(path: str | None, what: str) -> float:
            raw = body if path is None else pick(body, path)
            return plausible_power(as_number(raw, what) * self.scale, what)

        def counter(path: str | None) -> float | None:
            if path is None:
                return None
            value = as_number(pick(body, path), path) * self.energy_scale
            if value < 0:
                raise MeterReplyError(f"the energy counter {path!r} is negative")
            return value

        phases = tuple(PhaseSample(watts(p, p)) for p in self.phase_paths)
        total: float | None = None
        if self.path is not None or not phases:
            total = watts(self.path, self.path or "the message")
            if self.minus_path is not None:
                total = plausible_power(total - watts(self.minus_path, self.minus_path))
        return options.sample(phases, taken_at, total, None, counter(self.import_path), counter(self.export_path))


class MqttTopicMeter(PushMeter):
    """Follows one topic on one broker; reconnects by itself."""

    def __init__(self, config: MqttMeterConfig, clock: Callable[[], float] | None = None) -> None:
        super().__init__(config.stale_after_s, clock or time.monotonic)
        self.config = config
        self.model = f"MQTT {config.topic} on {config.host}"
        self.layout = MessageLayout.of(config)
        self.options = MeterOptions(invert=config.invert, phase=config.phase)

    def _client(self) -> aiomqtt.Client:
        tls = None
        if self.config.tls:
            context = ssl.create_default_context(cafile=str(self.config.tls_ca_file) if self.config.tls_ca_file
                                                 else None)
            tls = context
        return aiomqtt.Client(self.config.host, self.config.port, username=self.config.username,
                              password=self.config.url_password, tls_context=tls,
                              timeout=self.config.timeout_s, keepalive=max(10, int(self.config.stale_after_s * 2)))

    async def receive(self) -> None:
        """Subscribe, then deliver every usable message."""
        try:
            async with self._client() as client:
                await client.subscribe(self.config.topic, qos=0)
                async for message in client.messages:
                    taken_at = self.clock()
                    if message.retain:
                        continue
                    payload = message.payload
                    if not isinstance(payload, bytes | bytearray):
                        payload = str(payload).encode()
                    try:
                        sample = self.layout.decode(bytes(payload), self.options, taken_at)
                    except MeterReplyError as exc:
                        await self.refuse(exc)
                        continue
                    await self.deliver(sample)
        except aiomqtt.MqttCodeError as exc:
            if getattr(exc.rc, "value", exc.rc) in (4, 5, 134, 135):  # bad user name or password / not authorised
                raise MeterAuthError(f"{self.config.host}: the broker refused the user name or password") from None
            raise MeterUnavailableError(f"{self.config.host}: {exc}") from None
        except aiomqtt.MqttError as exc:
            raise MeterUnavailableError(f"{self.config.host}:{self.config.port}: {exc}") from None


@register("mqtt")
async def open_mqtt(config: MqttMeterConfig) -> Meter:
    """The configured topic's client (it connects on the first read)."""
    return MqttTopicMeter(config)
