"""The simulated Shelly's WebSocket RPC channel (``/rpc``): requests answered, status changes notified.

As a Gen2+ device does: a frame ``{"id", "src", "method", "params"}`` is answered with ``{"id", "src",
"dst", "result"}`` (or ``error``); once a client has sent one, it is sent ``NotifyStatus`` frames holding
only the keys of the components that changed, at every meter update (or every ``notify_every_s``). With a
password, a request without ``auth`` gets error 401 whose message is the digest challenge, and ``auth`` is
checked as Shelly's RPC digest (``dummy_method:dummy_uri``). An outage fault silences the channel.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import time
from collections.abc import Callable
from typing import Any, Protocol

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect


class _Faults(Protocol):
    outage: bool


class SimMeter(Protocol):
    """What the channel needs of the simulated meter (``meter_server.SimMeter``)."""

    async def next_update(self, interval_s: float) -> None:
        """Wait for the next measurement."""

    @property
    def faults(self) -> _Faults:
        """What is wrong with it now."""


Method = Callable[[int], dict[str, Any] | None]  # params.id -> the component's status, None if there is none


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class _RpcChannel:
    def __init__(self, ws: WebSocket, meter: SimMeter, device_id: str, methods: dict[str, Method],
                 components: dict[str, tuple[str, int]], password: str | None, notify_every_s: float) -> None:
        self.ws = ws
        self.meter = meter
        self.device_id = device_id
        self.methods = methods
        self.components = components  # "em:0" -> ("EM.GetStatus", 0): what NotifyStatus reports
        self.password = password
        self.notify_every_s = notify_every_s
        self.nonces: set[int] = set()
        self.client: str | None = None

    def _authorised(self, auth: Any) -> bool:
        if not self.password:
            return True
        if not isinstance(auth, dict) or auth.get("nonce") not in self.nonces or auth.get("username") != "admin":
            return False
        ha1 = _sha256(f"admin:{self.device_id}:{self.password}")
        expected = _sha256(f"{ha1}:{auth['nonce']}:1:{auth.get('cnonce', '')}:auth:"
                           f"{_sha256('dummy_method:dummy_uri')}")
        return secrets.compare_digest(expected, str(auth.get("response", "")))

    async def answer(self, frame: dict[str, Any]) -> None:
        reply: dict[str, Any] = {"id": frame.get("id"), "src": self.device_id, "dst": frame.get("src")}
        if not self._authorised(frame.get("auth")):
            nonce = int(time.time()) ^ secrets.randbits(20)
            self.nonces.add(nonce)
            challenge = {"auth_type": "digest", "nonce": nonce, "nc": 1, "realm": self.device_id,
                         "algorithm": "SHA-256"}
            reply["error"] = {"code": 401, "message": json.dumps(challenge)}
        else:
            method = self.methods.get(str(frame.get("method")))
            params = frame.get("params") or {}
            result = method(int(params.get("id", 0))) if method is not None else None
            if result is None:
                reply["error"] = {"code": 404, "message": f"No handler for {frame.get('method')}"}
            else:
                reply["result"] = result
                self.client = str(frame.get("src"))
        await self.ws.send_text(json.dumps(reply))

    async def notify(self) -> None:
        last: dict[str, dict[str, Any]] = {}
        while True:
            await self.meter.next_update(self.notify_every_s)
            if self.client is None or self.meter.faults.outage:
                continue
            params: dict[str, Any] = {"ts": round(time.time(), 2)}
            for component, (method, index) in self.components.items():
                status = self.methods[method](index) or {}
                changed = {k: v for k, v in status.items() if last.get(component, {}).get(k) != v}
                last[component] = status
                if changed:
                    params[component] = {"id": index, **changed}
            if len(params) > 1:
                await self.ws.send_text(json.dumps({"src": self.device_id, "dst": self.client,
                                                    "method": "NotifyStatus", "params": params}))


def rpc_route(meter: SimMeter, device_id: str, methods: dict[str, Method], components: dict[str, tuple[str, int]],
              password: str | None = None, notify_every_s: float = 1.0) -> WebSocketRoute:
    """The ``/rpc`` WebSocket of one simulated Gen2+ device."""

    async def endpoint(ws: WebSocket) -> None:
        await ws.accept()
        channel = _RpcChannel(ws, meter, device_id, methods, components, password, notify_every_s)
        notifier = asyncio.create_task(channel.notify())
        try:
            while True:
                text = await ws.receive_text()
                if meter.faults.outage:
                    continue
                with contextlib.suppress(ValueError, TypeError, AttributeError):
                    await channel.answer(json.loads(text))
        except WebSocketDisconnect:
            pass
        finally:
            notifier.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await notifier

    return WebSocketRoute("/rpc", endpoint)
