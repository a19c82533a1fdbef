"""A simulated Shelly grid meter: a real HTTP server answering as a Pro 3EM, Pro EM or 3EM Gen1 would.

Values come from the same ``Plant`` as the inverter simulator (grid = load - PV + batteries), split over
phases by its one phase model (``Plant.phase_powers``), with ±``noise_w`` of noise per phase; energy
counters integrate per phase. Gen2 models use digest authentication (SHA-256, user ``admin``, realm = device
id) when a password is set, Gen1 basic authentication; ``/shelly`` is always open. ``MeterFaults`` injects
an outage, frozen values, HTTP 500 and slow replies, and can be changed while the server runs.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import random
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from smartsofar.sim.plant import Plant, phase_voltage
from smartsofar.sim.shelly_ws_server import rpc_route

SimModel = Literal["pro3em", "pro3em-monophase", "proem", "3em-gen1", "em-gen1"]
SIM_MODELS: tuple[SimModel, ...] = ("pro3em", "pro3em-monophase", "proem", "3em-gen1", "em-gen1")


@dataclass(slots=True)
class MeterFaults:
    """What is wrong with the simulated meter right now."""

    outage: bool = False  # requests hang until the client gives up
    frozen: bool = False  # the same values as the last good reply, forever
    http_500: bool = False
    delay_s: float = 0.0


@dataclass(slots=True)
class _Phase:
    power: float
    voltage: float
    current: float
    pf: float


@dataclass(slots=True)
class MeterModelState:
    """Per-phase energy counters and the last values served (for freezing)."""

    import_wh: list[float] = field(default_factory=lambda: [1_520_336.42, 611_084.07, 402_977.91])
    export_wh: list[float] = field(default_factory=lambda: [201.5, 0.0, 18.3])
    last_at: float | None = None
    last: list[_Phase] | None = None


class SimMeter:
    """The measurement side: per-phase values of the plant's grid connection."""

    def __init__(self, plant: Plant, noise_w: float = 5.0, seed: int = 5, update_period_s: float = 0.0) -> None:
        self.plant = plant
        self.noise_w = noise_w
        self.faults = MeterFaults()
        self.state = MeterModelState()
        self.requests = 0
        self.update_period_s = update_period_s  # 0: measured at each request; else held between updates
        self.measured_at: float | None = None  # plant time of the values served now
        self.updated = asyncio.Event()  # set at every update (run_updates), for the pushing front ends
        self.on_measure: Callable[[float], None] | None = None  # told the time of each measurement (benchmarks)
        self._rng = random.Random(seed)

    def phases(self) -> list[_Phase]:
        """Current per-phase values (frozen values when the fault is on; between updates, the last ones)."""
        if (self.faults.frozen or self.update_period_s > 0) and self.state.last is not None:
            return self.state.last
        return self._measure()

    async def next_update(self, interval_s: float) -> None:
        """Wait for the next measurement (with ``update_period_s`` set), else ``interval_s``: when a pushing
        front end sends."""
        if self.update_period_s > 0:
            await self.updated.wait()
        else:
            await asyncio.sleep(interval_s)

    async def run_updates(self) -> None:
        """Measure every ``update_period_s``, on the period's instants, as a real meter's window closes."""
        if self.update_period_s <= 0:
            raise ValueError("run_updates needs a positive update_period_s")
        while True:
            now = self.plant.now()
            await asyncio.sleep(self.update_period_s - now % self.update_period_s)
            if not self.faults.frozen:
                self._measure()
            self.updated.set()
            self.updated.clear()

    def _measure(self) -> list[_Phase]:
        now = self.plant.now()
        self.plant.advance(now)
        phases = []
        for index, p in enumerate(self.plant.phase_powers(now)):
            p = round(p + self._rng.uniform(-self.noise_w, self.noise_w), 1)
            voltage = round(phase_voltage(index, p), 1)
            current = round(abs(p) / voltage / 0.95, 3)
            pf = round(0.95 if p >= 0 else -0.95, 2) if abs(p) > 1 else 0.0
            phases.append(_Phase(p, voltage, current, pf))
        self._integrate(now, phases)
        self.state.last = phases
        self.measured_at = now
        if self.on_measure is not None:
            self.on_measure(now)
        return phases

    def _integrate(self, now: float, phases: list[_Phase]) -> None:
        if self.state.last_at is not None and self.state.last is not None:
            hours = (now - self.state.last_at) / 3600
            for i, phase in enumerate(self.state.last):
                if phase.power >= 0:
                    self.state.import_wh[i] += phase.power * hours
                else:
                    self.state.export_wh[i] -= phase.power * hours
        self.state.last_at = now


class _Auth:
    """RFC 7616 digest (SHA-256) for Gen2, basic for Gen1."""

    def __init__(self, realm: str, password: str | None, basic: bool) -> None:
        self.realm = realm
        self.password = password
        self.basic = basic
        self._nonces: set[str] = set()

    def check(self, request: Request) -> Response | None:
        """None when the request may pass, else the 401 to send."""
        if not self.password:
            return None
        header = request.headers.get("authorization", "")
        if self.basic:
            expected = "Basic " + base64.b64encode(f"admin:{self.password}".encode()).decode()
            if secrets.compare_digest(header, expected):
                return None
            return JSONResponse({"error": "unauthorized"}, 401, {"WWW-Authenticate": 'Basic realm="shelly"'})
        if header.startswith("Digest ") and self._digest_ok(request, _parse_digest(header[7:])):
            return None
        nonce = secrets.token_hex(8)
        self._nonces.add(nonce)
        challenge = f'Digest qop="auth", realm="{self.realm}", nonce="{nonce}", algorithm=SHA-256'
        return JSONResponse({"code": 401, "message": "unauthorized"}, 401, {"WWW-Authenticate": challenge})

    def _digest_ok(self, request: Request, fields: dict[str, str]) -> bool:
        if fields.get("username") != "admin" or fields.get("nonce") not in self._nonces:
            return False
        if fields.get("realm") != self.realm or fields.get("qop") != "auth":
            return False
        uri = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        if fields.get("uri") != uri:
            return False

        def sha(text: str) -> str:
            return hashlib.sha256(text.encode()).hexdigest()

        ha1 = sha(f"admin:{self.realm}:{self.password}")
        ha2 = sha(f"{request.method}:{uri}")
        expected = sha(f"{ha1}:{fields['nonce']}:{fields.get('nc', '')}:{fields.get('cnonce', '')}:auth:{ha2}")
        return secrets.compare_digest(expected, fields.get("response", ""))


def _parse_digest(text: str) -> dict[str, str]:
    out: dict[str, str] = {}
    for part in text.split(","):
        key, _, value = part.strip().partition("=")
        out[key.strip().lower()] = value.strip().strip('"')
    return out


def create_meter_app(meter: SimMeter, model: SimModel = "pro3em", password: str | None = None,
                     push: bool = True) -> Starlette:
    """The HTTP application of one simulated meter (with its WebSocket RPC channel for Gen2 models, if
    ``push``)."""
    device_id = {"pro3em": "shellypro3em-a8032ab12c34", "pro3em-monophase": "shellypro3em-a8032ab12c34",
                 "proem": "shellyproem50-08f9e0e5a1b2", "3em-gen1": "shellyem3-3494547B94EE",
                 "em-gen1": "shellyem-C45BBE6A0E21"}[model]
    gen1 = model in ("3em-gen1", "em-gen1")
    auth = _Auth(device_id, password, basic=gen1)

    async def guarded(request: Request, body: dict[str, Any] | None, open_: bool = False) -> Response:
        meter.requests += 1
        if meter.faults.outage:
            await asyncio.sleep(3600)
        if meter.faults.delay_s:
            await asyncio.sleep(meter.faults.delay_s)
        if not open_ and (refusal := auth.check(request)) is not None:
            return refusal
        if meter.faults.http_500:
            return JSONResponse({"code": 500, "message": "internal error"}, 500)
        if body is None:
            return JSONResponse({"code": 404, "message": f"No handler for {request.url.path}"}, 404)
        return JSONResponse(body)

    def info() -> dict[str, Any]:
        if gen1:
            return {"type": "SHEM-3" if model == "3em-gen1" else "SHEM", "mac": device_id.rsplit("-", 1)[1],
                    "auth": bool(password), "fw": "20230913-114244/v1.14.0-gcb84623", "num_outputs": 1}
        return {"name": None, "id": device_id, "mac": "A8032AB12C34", "slot": 0,
                "model": "SPEM-002CEBEU50" if model == "proem" else "SPEM-003CEBEU", "gen": 2,
                "fw_id": "20240625-122149/1.3.3-gbdfd9b3", "ver": "1.3.3",
                "app": "ProEM" if model == "proem" else "Pro3EM", "auth_en": bool(password),
                "auth_domain": device_id if password else None,
                "profile": "monophase" if model == "pro3em-monophase" else "triphase"}

    def em() -> dict[str, Any]:
        phases = meter.phases()
        body: dict[str, Any] = {"id": 0}
        for letter, ph in zip("abc", phases, strict=True):
            body.update({f"{letter}_current": ph.current, f"{letter}_voltage": ph.voltage,
                         f"{letter}_act_power": ph.power, f"{letter}_aprt_power": round(abs(ph.power) / 0.95, 1),
                         f"{letter}_pf": ph.pf, f"{letter}_freq": 50.0})
        body.update({"n_current": None, "total_current": round(sum(p.current for p in phases), 3),
                     "total_act_power": round(sum(p.power for p in phases), 3),
                     "total_aprt_power": round(sum(abs(p.power) / 0.95 for p in phases), 3),
                     "user_calibrated_phase": []})
        return body

    def emdata() -> dict[str, Any]:
        s = meter.state
        body: dict[str, Any] = {"id": 0}
        for i, letter in enumerate("abc"):
            body[f"{letter}_total_act_energy"] = round(s.import_wh[i], 2)
            body[f"{letter}_total_act_ret_energy"] = round(s.export_wh[i], 2)
        body["total_act"] = round(sum(s.import_wh), 2)
        body["total_act_ret"] = round(sum(s.export_wh), 2)
        return body

    def em1(channel: int) -> dict[str, Any] | None:
        if model == "proem":
            if channel not in (0, 1):
                return None
            phases = meter.phases()
            if channel == 0:
                p = round(sum(ph.power for ph in phases), 1)
                ph0 = _Phase(p, phases[0].voltage, round(abs(p) / phases[0].voltage / 0.95, 3),
                             0.95 if p >= 0 else -0.95)
            else:  # channel 1 watches the PV inverter (reads negative)
                pv = -round(meter.plant.pv_w(meter.plant.now()), 1)
                ph0 = _Phase(pv, phases[0].voltage, round(abs(pv) / phases[0].voltage, 3), -0.99)
        else:
            if channel not in (0, 1, 2):
                return None
            ph0 = meter.phases()[channel]
        return {"id": channel, "current": ph0.current, "voltage": ph0.voltage, "act_power": ph0.power,
                "aprt_power": round(abs(ph0.power) / 0.95, 1), "pf": ph0.pf, "freq": 50.0,
                "calibration": "factory"}

    def em1data(channel: int) -> dict[str, Any] | None:
        s = meter.state
        limit = 2 if model == "proem" else 3
        if not 0 <= channel < limit:
            return None
        if model == "proem" and channel == 0:
            return {"id": 0, "total_act_energy": round(sum(s.import_wh), 2),
                    "total_act_ret_energy": round(sum(s.export_wh), 2)}
        return {"id": channel, "total_act_energy": round(s.import_wh[channel], 2),
                "total_act_ret_energy": round(s.export_wh[channel], 2)}

    def gen1_status() -> dict[str, Any]:
        phases = meter.phases()
        s = meter.state
        if model == "em-gen1":  # channel 0 on the grid, channel 1 on the PV inverter
            grid = round(sum(p.power for p in phases), 2)
            pv = -round(meter.plant.pv_w(meter.plant.now()), 2)
            return {"time": "12:00", "unixtime": 1709223219, "relays": [{"ison": False, "is_valid": True}],
                    "emeters": [{"power": grid, "reactive": 0.0, "pf": 0.95, "voltage": phases[0].voltage,
                                 "is_valid": True, "total": round(sum(s.import_wh), 1),
                                 "total_returned": round(sum(s.export_wh), 1)},
                                {"power": pv, "reactive": 0.0, "pf": -0.99, "voltage": phases[0].voltage,
                                 "is_valid": True, "total": 0.0, "total_returned": 81234.5}],
                    "uptime": 13728721}
        return {"wifi_sta": {"connected": True, "ssid": "home", "ip": "127.0.0.1", "rssi": -50},
                "time": "12:00", "unixtime": 1709223219, "has_update": False, "mac": "3494547B94EE",
                "relays": [{"ison": False, "is_valid": True}],
                "emeters": [{"power": ph.power, "pf": ph.pf, "current": ph.current, "voltage": ph.voltage,
                             "is_valid": True, "total": round(s.import_wh[i], 1),
                             "total_returned": round(s.export_wh[i], 1)} for i, ph in enumerate(phases)],
                "total_power": round(sum(p.power for p in phases), 2),
                "emeter_n": {"current": 0.0, "ixsum": 1.29, "mismatch": False, "is_valid": False},
                "uptime": 13728721}

    def channel_of(request: Request) -> int:
        try:
            return int(request.query_params.get("id", "0"))
        except ValueError:
            return -1

    gen2 = not gen1
    triphase = model == "pro3em"

    async def shelly(request: Request) -> Response:
        return await guarded(request, info(), open_=True)

    async def device_info(request: Request) -> Response:
        return await guarded(request, info() if gen2 else None, open_=True)

    async def em_status(request: Request) -> Response:
        return await guarded(request, em() if triphase and channel_of(request) == 0 else None)

    async def emdata_status(request: Request) -> Response:
        return await guarded(request, emdata() if triphase and channel_of(request) == 0 else None)

    async def em1_status(request: Request) -> Response:
        return await guarded(request, em1(channel_of(request)) if gen2 and not triphase else None)

    async def em1data_status(request: Request) -> Response:
        return await guarded(request, em1data(channel_of(request)) if gen2 and not triphase else None)

    async def status(request: Request) -> Response:
        return await guarded(request, gen1_status() if not gen2 else None)

    routes: list[BaseRoute] = [
        Route("/shelly", shelly), Route("/rpc/Shelly.GetDeviceInfo", device_info),
        Route("/rpc/EM.GetStatus", em_status), Route("/rpc/EMData.GetStatus", emdata_status),
        Route("/rpc/EM1.GetStatus", em1_status), Route("/rpc/EM1Data.GetStatus", em1data_status),
        Route("/status", status),
    ]
    if gen2 and push:
        if triphase:
            methods = {"EM.GetStatus": lambda i: em() if i == 0 else None,
                       "EMData.GetStatus": lambda i: emdata() if i == 0 else None}
            components = {"em:0": ("EM.GetStatus", 0)}
        else:
            methods = {"EM1.GetStatus": em1, "EM1Data.GetStatus": em1data}
            components = {f"em1:{c}": ("EM1.GetStatus", c) for c in ((0, 1) if model == "proem" else (0, 1, 2))}
        routes.append(rpc_route(meter, device_id, methods, components, password))
    return Starlette(routes=routes)
