"""Shelly meters: open the right client for a URL, by the configured model or by asking the device's ``/shelly``.

Registered as the ``shelly`` meter source (``open_shelly``).

``/shelly`` never needs a password: Gen2+ devices answer with ``gen`` and ``app`` (and the Pro 3EM with its
``profile``), Gen1 devices with ``type``. Anything else is not a Shelly meter we can use.
"""

from __future__ import annotations

from typing import Any

import httpx

from smartsofar.config_meters import ShellyMeterConfig
from smartsofar.errors import InvalidInputError, MeterReplyError
from smartsofar.meter.base import METER_MODELS, Meter, MeterModel, MeterOptions, MeterSample
from smartsofar.meter.http import DEFAULT_TIMEOUT_S, JsonHttp
from smartsofar.meter.registry import register
from smartsofar.meter.shelly_gen1 import Shelly3EMGen1
from smartsofar.meter.shelly_gen2 import ShellyEM1Meter, ShellyEMMeter

_EM1_APPS = {"ProEM", "EMG3", "EM", "ProEM50", "S3EM"}


async def detect_model(url: str, timeout_s: float = DEFAULT_TIMEOUT_S,
                       transport: httpx.AsyncBaseTransport | None = None) -> MeterModel:
    """Ask ``/shelly`` which kind of meter this is."""
    http = JsonHttp(url, timeout_s=timeout_s, transport=transport)
    try:
        info = await http.get_json("/shelly")
    finally:
        await http.aclose()
    gen = info.get("gen")
    if isinstance(gen, int) and gen >= 2:
        app = str(info.get("app", ""))
        if app == "Pro3EM" or app.startswith("Pro3EM"):
            return "pro3em-monophase" if info.get("profile") == "monophase" else "pro3em"
        if app in _EM1_APPS or app.startswith("EM"):
            return "proem"
        raise MeterReplyError(f"{url} is a Shelly {app or 'device'} without an energy meter we support")
    if info.get("type") == "SHEM-3":
        return "3em-gen1"
    if "type" in info:
        raise MeterReplyError(f"{url} is a Shelly {info['type']}, not a 3EM")
    raise MeterReplyError(f"{url} does not answer like a Shelly device")


async def open_meter(url: str, *, model: MeterModel = "auto", user: str | None = None,
                     password: str | None = None, options: MeterOptions | None = None, channel: int = 0,
                     timeout_s: float = DEFAULT_TIMEOUT_S,
                     transport: httpx.AsyncBaseTransport | None = None) -> Meter:
    """A ready meter client. ``channel`` is the grid channel of a Pro EM / EM Gen3."""
    if model not in METER_MODELS:
        raise InvalidInputError(f"meter model must be one of {', '.join(METER_MODELS)}, got {model!r}")
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"meter URL must start with http:// or https://, got {url!r}")
    if model == "auto":
        model = await detect_model(url, timeout_s, transport)
    auth: httpx.Auth | None = None
    if password:
        auth = (httpx.BasicAuth(user or "admin", password) if model == "3em-gen1"
                else httpx.DigestAuth(user or "admin", password))
    http = JsonHttp(url, auth, timeout_s, transport)
    if model == "pro3em":
        return ShellyEMMeter(http, options)
    if model == "pro3em-monophase":
        return ShellyEM1Meter(http, (0, 1, 2), options, model="Shelly Pro 3EM (monophase profile)")
    if model == "proem":
        if channel not in (0, 1):
            raise InvalidInputError(f"Pro EM grid channel must be 0 or 1, got {channel}")
        return ShellyEM1Meter(http, (channel,), options, model="Shelly Pro EM")
    return Shelly3EMGen1(http, options)


class DetectingMeter:
    """A meter whose model is asked from the device on the first read that reaches it.

    So the service starts while the meter is unreachable; until then every read fails like any other
    unreachable meter (and the poller reports it).
    """

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self.model = f"meter at {url}"
        self._kwargs = kwargs
        self._inner: Meter | None = None

    async def read(self) -> MeterSample:
        """Detect on the first successful contact, then read."""
        if self._inner is None:
            self._inner = await open_meter(self.url, **self._kwargs)
            self.model = self._inner.model
        return await self._inner.read()

    async def aclose(self) -> None:
        """Close the detected client, if any."""
        if self._inner is not None:
            await self._inner.aclose()


@register("shelly")
async def open_shelly(config: ShellyMeterConfig) -> Meter:
    """The configured Shelly's client (its model detected on first contact when it is 'auto')."""
    password = config.password.get_secret_value() if config.password else None
    options = MeterOptions(invert=config.invert, phase=config.phase)
    if config.model == "auto":
        return DetectingMeter(config.url, user=config.user, password=password, options=options,
                              channel=config.channel, timeout_s=config.timeout_s)
    return await open_meter(config.url, model=config.model, user=config.user, password=password, options=options,
                            channel=config.channel, timeout_s=config.timeout_s)
