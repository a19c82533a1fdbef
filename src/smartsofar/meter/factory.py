"""Shelly meters: open the right client for a URL, by the configured model or by asking the device's ``/shelly``.

Registered as the ``shelly`` meter source (``open_shelly``).

``/shelly`` never needs a password: Gen2+ devices answer with ``gen`` and ``app`` (and the Pro 3EM with its
``profile``), Gen1 devices with ``type``. A Gen2+ meter whose ``app`` we do not know (a 3EM-63 Gen3, a newer
model) is asked which component it has: ``em:0`` reads as a Pro 3EM, ``em1:0`` as a Pro EM. Anything else is
not a Shelly meter we can use.

Gen2+ meters are read from their WebSocket notifications where they work (``push``: auto), polled otherwise.
"""

from __future__ import annotations

from typing import Any, Literal

import httpx

from smartsofar.config_meters import ShellyMeterConfig
from smartsofar.errors import InvalidInputError, MeterAuthError, MeterReplyError, MeterUnavailableError
from smartsofar.meter.base import METER_MODELS, Meter, MeterModel, MeterOptions, MeterSample
from smartsofar.meter.fallback import PushThenPoll
from smartsofar.meter.http import DEFAULT_TIMEOUT_S, JsonHttp
from smartsofar.meter.registry import register
from smartsofar.meter.shelly_gen1 import Shelly3EMGen1, ShellyEMGen1
from smartsofar.meter.shelly_gen2 import ShellyEM1Meter, ShellyEMMeter
from smartsofar.meter.shelly_ws import ShellyPushMeter

_EM1_APPS = {"ProEM", "EMG3", "EM", "ProEM50", "S3EM"}


async def detect_model(url: str, timeout_s: float = DEFAULT_TIMEOUT_S,
                       transport: httpx.AsyncBaseTransport | None = None, auth: httpx.Auth | None = None) -> MeterModel:
    """Ask ``/shelly`` which kind of meter this is (and, for an app we do not know, its components)."""
    http = JsonHttp(url, auth, timeout_s=timeout_s, transport=transport)
    try:
        info = await http.get_json("/shelly")
        gen = info.get("gen")
        if isinstance(gen, int) and gen >= 2:
            app = str(info.get("app", ""))
            if app == "Pro3EM" or app.startswith("Pro3EM"):
                return "pro3em-monophase" if info.get("profile") == "monophase" else "pro3em"
            if app in _EM1_APPS or app.startswith("EM"):
                return "proem"
            return await _model_by_components(http, url, app)
        if info.get("type") == "SHEM-3":
            return "3em-gen1"
        if info.get("type") == "SHEM":
            return "em-gen1"
        if "type" in info:
            raise MeterReplyError(f"{url} is a Shelly {info['type']}, not an energy meter we support")
        raise MeterReplyError(f"{url} does not answer like a Shelly device")
    finally:
        await http.aclose()


async def _model_by_components(http: JsonHttp, url: str, app: str) -> MeterModel:
    for method, model in (("EM.GetStatus", "pro3em"), ("EM1.GetStatus", "proem")):
        try:
            await http.get_json(f"/rpc/{method}", {"id": 0})
        except MeterUnavailableError:
            continue  # 404: the device has no such component
        return model  # type: ignore[return-value]
    raise MeterReplyError(f"{url} is a Shelly {app or 'device'} without an energy meter we support")


PushChoice = Literal["auto", "on", "off"]
GEN1_MODELS = ("3em-gen1", "em-gen1")


async def open_meter(url: str, *, model: MeterModel = "auto", user: str | None = None,
                     password: str | None = None, options: MeterOptions | None = None, channel: int = 0,
                     timeout_s: float = DEFAULT_TIMEOUT_S, push: PushChoice = "off", wait_s: float = 5.0,
                     transport: httpx.AsyncBaseTransport | None = None) -> Meter:
    """A ready meter client. ``channel`` is the grid channel of a Pro EM / EM Gen3 / EM Gen1; ``push`` whether
    a Gen2+ meter's notifications are used (``wait_s``: how long one may be awaited)."""
    if model not in METER_MODELS:
        raise InvalidInputError(f"meter model must be one of {', '.join(METER_MODELS)}, got {model!r}")
    if not url.startswith(("http://", "https://")):
        raise InvalidInputError(f"meter URL must start with http:// or https://, got {url!r}")
    if channel not in (0, 1):
        raise InvalidInputError(f"the grid channel must be 0 or 1, got {channel}")

    def auth_for(kind: MeterModel) -> httpx.Auth | None:
        if not password:
            return None
        return (httpx.BasicAuth(user or "admin", password) if kind in GEN1_MODELS
                else httpx.DigestAuth(user or "admin", password))

    if model == "auto":
        try:
            model = await detect_model(url, timeout_s, transport)
        except MeterAuthError:  # only a device that hides /shelly; ask again with the password
            model = await detect_model(url, timeout_s, transport, auth_for("pro3em"))
    http = JsonHttp(url, auth_for(model), timeout_s, transport)
    if model == "3em-gen1":
        return Shelly3EMGen1(http, options)
    if model == "em-gen1":
        return ShellyEMGen1(http, channel, options)
    channels: tuple[int, ...] | None = {"pro3em": None, "pro3em-monophase": (0, 1, 2), "proem": (channel,)}[model]
    name = {"pro3em": "Shelly Pro 3EM", "pro3em-monophase": "Shelly Pro 3EM (monophase profile)",
            "proem": "Shelly Pro EM"}[model]
    polled: Meter = (ShellyEMMeter(http, options) if channels is None
                     else ShellyEM1Meter(http, channels, options, model=name))
    if push == "off" or transport is not None:  # an in-process transport has no WebSocket
        return polled
    pushed = ShellyPushMeter(url, channels, model=name, password=password, options=options, wait_s=wait_s,
                             timeout_s=timeout_s)
    if push == "on":
        await polled.aclose()
        return pushed
    return PushThenPoll(pushed, polled)


class DetectingMeter:
    """A meter whose model is asked from the device on the first read that reaches it.

    So the service starts while the meter is unreachable; until then every read fails like any other
    unreachable meter (and the poller reports it).
    """

    def __init__(self, url: str, **kwargs: Any) -> None:
        self.url = url
        self._model = f"meter at {url}"
        self._kwargs = kwargs
        self._inner: Meter | None = None

    @property
    def model(self) -> str:
        """The detected meter's model (and how it is read), once known."""
        return self._inner.model if self._inner is not None else self._model

    @model.setter
    def model(self, value: str) -> None:
        self._model = value

    @property
    def pushes(self) -> bool:
        """Whether the detected meter is read from its push (the poller paces itself by it)."""
        return bool(getattr(self._inner, "pushes", False))

    @property
    def wait_s(self) -> float:
        """How long a pushed meter's read waits for a message."""
        return float(getattr(self._inner, "wait_s", self._kwargs.get("wait_s", 5.0)))

    @wait_s.setter
    def wait_s(self, value: float) -> None:
        self._kwargs["wait_s"] = value
        if self._inner is not None and hasattr(self._inner, "wait_s"):
            self._inner.wait_s = value

    async def read(self) -> MeterSample:
        """Detect on the first successful contact, then read."""
        if self._inner is None:
            self._inner = await open_meter(self.url, **self._kwargs)
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
    common: dict[str, Any] = {"user": config.user, "password": password, "options": options,
                              "channel": config.channel, "timeout_s": config.timeout_s, "push": config.push,
                              "wait_s": config.stale_after_s}
    if config.model == "auto":
        return DetectingMeter(config.url, **common)
    return await open_meter(config.url, model=config.model, **common)
