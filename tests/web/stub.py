"""A stub engine and an in-process client for the web adapter's tests (no server, no simulators, no sleeps).

``StubEngine`` implements ``EngineApi``: its operating state goes through the real ``SiteCommands`` (so
validation is the real one), its snapshot is built from registers a simulated unit serves, and what it was
asked (reconfigurations, reads) is recorded. ``web_client`` puts the real application in front of it
through ``httpx.ASGITransport``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import tomlkit

from smartsofar.config import Config, parse_config
from smartsofar.control.decision import SafetyState
from smartsofar.engine.commands import SiteCommands
from smartsofar.engine.facade import OPERATING_KEYS, Reconfigured, applies_live, changed_keys
from smartsofar.engine.hub import Topic
from smartsofar.engine.site import Site
from smartsofar.engine.snapshot import Event, MeterSnapshot, SiteSnapshot, UnitSnapshot
from smartsofar.errors import DeviceError, NotFoundError
from smartsofar.link import LinkHealth
from smartsofar.logbuffer import LogBuffer
from smartsofar.meter.base import MeterSample, PhaseSample
from smartsofar.modes import ModeState
from smartsofar.plan.service import Planning
from smartsofar.sim.plant import Plant
from smartsofar.sofar.device_info import UnitInfo
from smartsofar.sofar.passive import StatusWord
from smartsofar.sofar.register_map import UnitReading, decode_running_data
from smartsofar.storage.history import History
from smartsofar.web.app import create_app
from smartsofar.web.auth import Auth, hash_password
from smartsofar.web.context import WebContext
from smartsofar.web.settings import SettingsFile

SITE = {
    "buses": [{"url": "tcp://127.0.0.1:1502", "units": [{"id": 1, "name": "garage"}, {"id": 2, "name": "cellar"}]}],
    "meter": {"url": "http://127.0.0.1:8081", "model": "pro3em", "password": "meter-secret"},
    "web": {"host": "127.0.0.1", "port": 8080},
}


@dataclass
class ModeHolder:
    mode: ModeState = field(default_factory=ModeState)

    def set_mode_state(self, state: ModeState) -> None:
        self.mode = state


def reading(unit_id: int, battery_w: float = -700.0) -> UnitReading:
    """What a simulated unit serves when it delivers ``battery_w`` (registers decoded as from the bus)."""
    plant = Plant(unit_ids=(unit_id,), clock=lambda: 0.0)
    plant.units[unit_id].power_w = battery_w
    return decode_running_data(plant.unit_registers(unit_id, 0.0))


@dataclass
class StubEngine:
    """An engine that does what it is told and remembers it."""

    config: Config
    grid_w: float | None = 12.0
    safety: SafetyState = SafetyState.OK
    offline: set[int] = field(default_factory=set)
    meter_answers: bool = True
    software: str = "V110"  # the units' firmware, as their identity registers say
    holder: ModeHolder = field(default_factory=ModeHolder)
    snapshots: Topic[SiteSnapshot] = field(default_factory=Topic)
    events: Topic[Event] = field(default_factory=Topic)
    reconfigured: list[tuple[str, ...]] = field(default_factory=list)
    reads: list[int] = field(default_factory=list)
    _listeners: list[Callable[[Config], None]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.commands = SiteCommands(self.holder, None, (-6000, 6000))
        # the real planning and steering, over a site with no units (the stub has no bus)
        self.planning = Planning(self.config, Site(self.config.control, [], None, ModeState()), None)

    def latest(self) -> SiteSnapshot:
        units = tuple(self._unit(position, unit.id, unit.label)
                      for position, (_bus, unit) in enumerate(self.config.units, start=1))
        sample = None if self.grid_w is None else self._sample()
        meter = MeterSnapshot(model="Shelly Pro 3EM", state="ok" if sample else "unavailable", sample=sample,
                              age_s=0.3 if sample else None, fresh=sample is not None,
                              error=None if sample else "timed out", reads=10, failures=0 if sample else 3)
        battery = [u.reading.battery_w for u in units if u.reading]
        return SiteSnapshot(at=1_764_600_000.0, mode=self.holder.mode, safety=self.safety,
                            message="holding the grid at the target", grid_w=self.grid_w, base_w=1412.0,
                            setpoint_total_w=-1400, battery_w=sum(battery) if battery else None, soc_pct=50.0,
                            units=units, meter=meter, commands_sent=7, decision="within deadband",
                            manual_min_w=-6000, manual_max_w=6000,
                            control_lag={"p50_s": 0.0002, "p99_s": 0.01, "max_s": 0.02, "samples": 40})

    def _sample(self) -> MeterSample:
        assert self.grid_w is not None
        phases = tuple(PhaseSample(self.grid_w / 3, 230.0, 0.5, 0.95) for _ in range(3))
        return MeterSample(power_w=self.grid_w, total_power_w=self.grid_w, phases=phases, taken_at=100.0,
                           frequency_hz=50.0, import_wh=1_520_336.0, export_wh=201.5)

    def _unit(self, position: int, unit_id: int, name: str) -> UnitSnapshot:
        offline = unit_id in self.offline
        return UnitSnapshot(
            unit_id=unit_id, name=name, position=position, bus="tcp://127.0.0.1:1502",
            link=LinkHealth.OFFLINE if offline else LinkHealth.OK, available=not offline,
            unavailable_reason="offline" if offline else None, setpoint_w=-700, expected_w=-700.0,
            charge_room_w=3000.0, discharge_room_w=3000.0, reading=None if offline else reading(unit_id),
            reading_age_s=0.8, status=StatusWord(0x0300), last_command="discharge 700 W", last_command_age_s=12.0,
            info=UnitInfo(1, f"SE1ES230M{unit_id}000", self.software, "V100"), commands_sent=3,
            link_counters={"requests": 40, "retries": 1, "timeouts": 0, "stray_frames": 0},
            response={"dead_time_s": 1.2, "ramp_w_per_s": 800, "samples": 4, "learned": True, "fixed": False,
                      "up": {"dead_time_s": 1.2, "ramp_w_per_s": 800, "samples": 2},
                      "down": {"dead_time_s": 1.1, "ramp_w_per_s": 900, "samples": 2}})

    async def read_unit(self, unit_id: int) -> UnitReading:
        if unit_id not in {u.id for _b, u in self.config.units}:
            raise NotFoundError(f"no unit {unit_id}")
        self.reads.append(unit_id)
        if unit_id in self.offline:
            raise DeviceError(f"unit {unit_id} did not answer: no reply within 1.5 s, after 3 attempts")
        return reading(unit_id)

    async def read_meter(self) -> tuple[str, MeterSample]:
        if not self.meter_answers:
            raise DeviceError("the meter did not answer: timed out")
        return "Shelly Pro 3EM", self._sample()

    def diagnostics(self) -> dict[str, Any]:
        return {"cycles": 120, "first_decision_s": 1.2, "commands_sent": 7, "pending_restart": [],
                "buses": [{"url": "tcp://127.0.0.1:1502", "connected": True, "frames_sent": 300, "crc_errors": 0,
                           "foreign_frames": 0, "undecodable_frames": 0}]}

    def reconfigure(self, config: Config, touched: Iterable[str] = ()) -> Reconfigured:
        changed = sorted(set(changed_keys(self.config, config)) | (OPERATING_KEYS & set(touched)))
        self.config = config
        self.planning.reconfigure(config)
        self.reconfigured.append(tuple(changed))
        for listener in self._listeners:
            listener(config)
        return Reconfigured(tuple(k for k in changed if applies_live(k)),
                            tuple(k for k in changed if not applies_live(k)))

    def on_reconfigure(self, listener: Callable[[Config], None]) -> None:
        self._listeners.append(listener)


@dataclass
class Web:
    """The application in front of a stub engine, and what it was built from."""

    http: httpx.AsyncClient
    engine: StubEngine
    context: WebContext
    config_path: Path
    pauses: list[float]  # the waits refused logins asked for, s


@asynccontextmanager
async def web_client(tmp_path: Path, *, password: str | None = None, read_only_without_login: bool = False,
                     extra: dict[str, Any] | None = None, history: bool = False,
                     logs: LogBuffer | None = None) -> AsyncIterator[Web]:
    """The real web application, in-process, in front of a ``StubEngine`` for the site in ``SITE``."""
    data = {**SITE, **(extra or {})}
    path = tmp_path / "smartsofar.toml"
    path.write_text(tomlkit.dumps(data))
    config = parse_config(data)
    engine = StubEngine(config)
    pauses: list[float] = []

    async def pause(seconds: float) -> None:  # a refused login waits: recorded, not slept
        pauses.append(seconds)

    auth = Auth(hash_password(password) if password else None, None, read_only_without_login, pause=pause)
    store = History(tmp_path / "history.db") if history else None
    context = WebContext(engine, auth, logs or LogBuffer(), store, SettingsFile(path, config))
    transport = httpx.ASGITransport(app=create_app(context), client=("127.0.0.1", 50000))
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1:8080") as http:
            yield Web(http, engine, context, path, pauses)
    finally:
        if store is not None:
            store.close()
