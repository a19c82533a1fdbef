"""Shelly Gen2+ meters pushed: their WebSocket RPC channel (``ws://HOST/rpc``) and its status notifications.

A client that sends one request over the channel is sent ``NotifyStatus`` frames from then on, each holding
the components whose values changed (only the changed keys: they are merged into the last full status). So
the first requests read the meter's components in full (``EM.GetStatus`` / ``EM1.GetStatus`` and their
energy counters), and every notification of a power component afterwards is one sample, timed by its arrival
(about once a second on a Pro 3EM, as soon as the device has measured, where a poll may wait up to a second):
such a sample says so (``lag_s``), and the controller then knows how old it is.

A password-protected device answers a request with error 401 and a digest challenge; the request is sent
again with Shelly's digest (SHA-256 of ``admin:realm:password``, the nonce, a client nonce and the fixed
``dummy_method:dummy_uri``). A second 401 means the password is wrong.

aioshelly (Home Assistant's library) does the same over aiohttp, with a device model and Bluetooth
support a meter reader does not need; websockets, already used for Home Assistant, carries these few frames.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection, connect

from smartsofar.errors import MeterAuthError, MeterReplyError, MeterUnavailableError
from smartsofar.meter.base import MeterOptions, MeterSample, PhaseSample, json_object, number
from smartsofar.meter.push import PushMeter
from smartsofar.meter.shelly_gen2 import decode_em, decode_em1

NOTIFIED_WITHIN_S = 0.2  # a notification leaves as the device has measured: a LAN delivers it well within this


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def rpc_auth(challenge: dict[str, Any], password: str, cnonce: str, user: str = "admin") -> dict[str, Any]:
    """The ``auth`` object answering a device's digest challenge (its 401 error message)."""
    realm, nonce, nc = challenge.get("realm"), challenge.get("nonce"), challenge.get("nc", 1)
    if not isinstance(realm, str) or nonce is None:
        raise MeterReplyError("the meter's authentication challenge has no realm or nonce")
    ha1 = _sha256(f"{user}:{realm}:{password}")
    ha2 = _sha256("dummy_method:dummy_uri")
    return {"realm": realm, "username": user, "nonce": nonce, "cnonce": cnonce,
            "response": _sha256(f"{ha1}:{nonce}:{nc}:{cnonce}:auth:{ha2}"), "algorithm": "SHA-256"}


def websocket_url(http_url: str) -> str:
    """ws(s)://HOST[:PORT]/rpc for a Shelly at http(s)://HOST[:PORT]."""
    parts = urlsplit(http_url)
    return f"{'wss' if parts.scheme == 'https' else 'ws'}://{parts.netloc.rsplit('@', 1)[-1]}/rpc"


class ShellyPushMeter(PushMeter):
    """One Gen2+ meter's notifications: ``em:0`` (Pro 3EM triphase) or ``em1:N`` channels (Pro EM, EM Gen3,
    Pro 3EM monophase)."""

    def __init__(self, url: str, channels: Sequence[int] | None, *, model: str, password: str | None = None,
                 options: MeterOptions | None = None, wait_s: float = 5.0, timeout_s: float = 2.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``channels`` None reads ``em:0``; else those ``em1`` channels, each a phase."""
        super().__init__(wait_s, clock)
        self.url = websocket_url(url)
        self.model = f"{model} (pushed)"
        self.channels = tuple(channels) if channels is not None else None
        self.password = password
        self.options = options or MeterOptions()
        self.timeout_s = timeout_s
        self.src = f"smartsofar-{secrets.token_hex(4)}"
        self.status: dict[str, dict[str, Any]] = {}
        self._ids = itertools.count(1)

    @property
    def power_components(self) -> tuple[str, ...]:
        """The components whose notifications are samples."""
        return ("em:0",) if self.channels is None else tuple(f"em1:{c}" for c in self.channels)

    def _energy_components(self) -> tuple[tuple[str, str, int], ...]:
        if self.channels is None:
            return (("emdata:0", "EMData.GetStatus", 0),)
        return tuple((f"em1data:{c}", "EM1Data.GetStatus", c) for c in self.channels)

    async def receive(self) -> None:
        """Read the components in full, then deliver each notification of their powers."""
        self.status.clear()
        try:
            async with connect(self.url, proxy=None, open_timeout=self.timeout_s, max_size=1 << 20) as ws:
                for component in self.power_components:
                    kind, _, number_text = component.partition(":")
                    method = "EM.GetStatus" if kind == "em" else "EM1.GetStatus"
                    self.status[component] = await self._call(ws, method, int(number_text))
                for component, method, index in self._energy_components():
                    with contextlib.suppress(MeterReplyError):  # counters are a nicety; powers are what matters
                        self.status[component] = await self._call(ws, method, index)
                await self.deliver(self.sample(self.clock()))
                async for raw in ws:
                    taken_at = self.clock()
                    try:
                        if self._merge(self._frame(raw)):
                            await self.deliver(replace(self.sample(taken_at), lag_s=NOTIFIED_WITHIN_S))
                    except MeterReplyError as exc:
                        await self.refuse(exc)
        except (websockets.exceptions.WebSocketException, TimeoutError) as exc:
            raise MeterUnavailableError(f"{self.url}: {exc or type(exc).__name__}") from None

    @staticmethod
    def _frame(raw: str | bytes) -> dict[str, Any]:
        return json_object(raw, "the meter")

    async def _call(self, ws: ClientConnection, method: str, index: int) -> dict[str, Any]:
        """One RPC call's result (answering an authentication challenge once)."""
        auth: dict[str, Any] | None = None
        for _ in range(2):
            request: dict[str, Any] = {"id": next(self._ids), "src": self.src, "method": method,
                                       "params": {"id": index}}
            if auth is not None:
                request["auth"] = auth
            await ws.send(json.dumps(request))
            while True:
                reply = self._frame(await ws.recv())
                if reply.get("id") == request["id"]:
                    break
                self._merge(reply)  # a notification before our answer
            error = reply.get("error")
            if not error:
                result = reply.get("result")
                if not isinstance(result, dict):
                    raise MeterReplyError(f"{method} answered without a result")
                return result
            if error.get("code") != 401:
                raise MeterReplyError(f"{method}: {error.get('message') or error}")
            if not self.password:
                raise MeterAuthError(f"{self.url}: the meter is password-protected; give its password")
            if auth is not None:
                raise MeterAuthError(f"{self.url}: the meter refused the password")
            try:
                challenge = json.loads(error.get("message") or "{}")
            except ValueError:
                raise MeterReplyError("the meter's authentication challenge is not JSON") from None
            auth = rpc_auth(challenge, self.password, secrets.token_hex(8))
        raise MeterAuthError(f"{self.url}: the meter refused the password")  # pragma: no cover (loop returns)

    def _merge(self, frame: dict[str, Any]) -> bool:
        """Apply a notification; True if it changed a power component."""
        if frame.get("method") not in ("NotifyStatus", "NotifyFullStatus"):
            return False
        params = frame.get("params")
        if not isinstance(params, dict):
            raise MeterReplyError("a status notification has no params")
        changed = False
        for component, values in params.items():
            if component in self.status and isinstance(values, dict):
                self.status[component] = {**self.status[component], **values}
                changed = changed or component in self.power_components
        return changed

    def sample(self, taken_at: float) -> MeterSample:
        """The sample the merged status holds now."""
        if self.channels is None:
            phases, total, freq = decode_em(self.status["em:0"])
            energy = self.status.get("emdata:0", {})
            return self.options.sample(phases, taken_at, total, freq, number(energy, "total_act", required=False),
                                       number(energy, "total_act_ret", required=False))
        channel_phases: list[PhaseSample] = []
        freq = None
        imported: float | None = 0.0
        exported: float | None = 0.0
        for channel in self.channels:
            phase, channel_freq = decode_em1(self.status[f"em1:{channel}"])
            channel_phases.append(phase)
            freq = freq or channel_freq
            energy = self.status.get(f"em1data:{channel}", {})
            i = number(energy, "total_act_energy", required=False)
            e = number(energy, "total_act_ret_energy", required=False)
            imported = None if i is None or imported is None else imported + i
            exported = None if e is None or exported is None else exported + e
        return self.options.sample(channel_phases, taken_at, None, freq, imported, exported)
