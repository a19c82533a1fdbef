"""MQTT topics and payloads: what SmartSofar publishes and which commands it takes.

Under the base topic (default ``smartsofar``):

- ``status``: ``online`` / ``offline`` (retained; ``offline`` is also the broker-held last will);
- ``state``: the site as JSON (retained): grid W and per phase, mode, setpoint, batteries, SoC, energies, the
  battery mode in force and why, the price now, the plan's SoC and its next action;
- ``unit/<id>/state`` (retained) and ``unit/<id>/availability`` (``online`` / ``offline``, retained);
- ``events``: commands with their decoded status word, faults raised and cleared (not retained);
- ``error``: why a command payload was refused (not retained).

Commands: ``set/mode`` (auto | manual | standby, or v1's 1 / 0), ``set/power`` (W, manual mode only),
``set/target`` (W), ``set/allow_charge`` and ``set/allow_discharge`` (ON / OFF), ``set/standby`` (any
payload), ``set/battery_mode`` (normal | hold | charge for 60 s, or JSON with ``lease_s``, ``charge_w``,
``soc_pct``). With ``sofar2mqtt_topics``: ``Sofar2mqtt/set/standby``, ``.../auto``, ``.../charge`` (W) and
``.../discharge`` (W), for people moving from Sofar2mqtt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import Field

from smartsofar.control.decision import SafetyState
from smartsofar.link import LinkHealth
from smartsofar.modes import Mode
from smartsofar.payloads import Payload, SitePayload, UnitPayload

SOFAR2MQTT_PREFIX = "Sofar2mqtt/set/"
COMMANDS = ("mode", "power", "target", "allow_charge", "allow_discharge", "standby", "battery_mode")


@dataclass(frozen=True, slots=True)
class Topics:
    """Every topic name for one base topic."""

    base: str

    @property
    def status(self) -> str:
        return f"{self.base}/status"

    @property
    def state(self) -> str:
        return f"{self.base}/state"

    @property
    def events(self) -> str:
        return f"{self.base}/events"

    @property
    def error(self) -> str:
        return f"{self.base}/error"

    def unit_state(self, unit_id: int) -> str:
        return f"{self.base}/unit/{unit_id}/state"

    def unit_availability(self, unit_id: int) -> str:
        return f"{self.base}/unit/{unit_id}/availability"

    def command(self, name: str) -> str:
        return f"{self.base}/set/{name}"

    def command_name(self, topic: str) -> str | None:
        """``mode`` for ``<base>/set/mode``; None for any other topic."""
        prefix = f"{self.base}/set/"
        if topic.startswith(prefix) and topic[len(prefix):] in COMMANDS:
            return topic[len(prefix):]
        return None


OnOff = Literal["ON", "OFF"]


class SiteState(Payload):
    """The ``state`` message (retained): what Home Assistant's controller entities read."""

    grid_w: float | None
    phases_w: list[float]
    mode: Mode
    manual_power_w: int
    target_w: int
    allow_charge: OnOff
    allow_discharge: OnOff
    setpoint_w: int
    battery_w: float | None
    soc_pct: float | None
    safety: SafetyState
    message: str
    meter_state: str | None
    grid_import_kwh: float | None  # the meter's counters (each phase counted on its own, summed)
    grid_export_kwh: float | None
    grid_import_net_kwh: float | None = None  # lifetime, netted across phases (storage.energy_totals)
    grid_export_net_kwh: float | None = None
    battery_charged_kwh: float | None = None  # lifetime, every unit, DC side
    battery_discharged_kwh: float | None = None
    today_import_kwh: float | None  # today's energies, from the history
    today_export_kwh: float | None
    today_charged_kwh: float | None
    today_discharged_kwh: float | None
    battery_mode: str = "normal"  # auto mode's: normal, hold, charge or export
    battery_mode_source: str = ""  # plan, schedule, external, or empty
    battery_mode_reason: str = ""
    price_now: float | None = None  # per kWh, from the tariff
    planned_soc_pct: float | None = None  # the plan's SoC at the end of the current slot
    next_action: str | None = None  # the plan's next change, in words


class UnitState(Payload):
    """A ``unit/<id>/state`` message (retained); the reading's values are null until the unit was read."""

    name: str
    available: bool
    link: LinkHealth
    reason: str | None
    setpoint_w: int | None
    last_command: str | None
    last_result: str | None
    running_state: str | None = None
    running_state_words: str | None = None
    battery_w: float | None = None
    battery_v: float | None = None
    battery_a: float | None = None
    soc_pct: float | None = None
    battery_temp_c: float | None = None
    inverter_temp_c: float | None = None
    heatsink_temp_c: float | None = None
    grid_v: float | None = None
    grid_hz: float | None = None
    pv_today_kwh: float | None = None
    export_today_kwh: float | None = None
    import_today_kwh: float | None = None
    load_today_kwh: float | None = None
    battery_cycles: float | None = None
    battery_charged_kwh: float | None = None  # lifetime, DC side (storage.energy_totals)
    battery_discharged_kwh: float | None = None
    faults: list[str] = Field(default_factory=list)
    alerts: list[str] = Field(default_factory=list)


def site_payload(state: SitePayload, today: dict[str, float] | None = None,
                 plan: dict[str, Any] | None = None, totals: dict[str, Any] | None = None) -> SiteState:
    """The ``state`` message (``plan``: ``Planning.summary``; ``totals``: ``EnergyTotals.persisted``)."""
    meter = state.meter
    fresh = meter is not None and meter.fresh
    mode = state.mode
    energies = {f"today_{key.removesuffix('_wh')}_kwh": _kwh((today or {}).get(key), 3)
                for key in ("import_wh", "export_wh", "charged_wh", "discharged_wh")}
    return SiteState(
        grid_w=state.grid_w, phases_w=[round(p.power_w, 1) for p in meter.phases] if meter and fresh else [],
        mode=mode.mode, manual_power_w=mode.manual_power_w, target_w=mode.target_w,
        allow_charge="ON" if mode.allow_charge else "OFF", allow_discharge="ON" if mode.allow_discharge else "OFF",
        setpoint_w=state.setpoint_total_w, battery_w=state.battery_w, soc_pct=state.soc_pct, safety=state.safety,
        message=state.message, meter_state=meter.state if meter else None,
        grid_import_kwh=_kwh(meter.import_wh, 3) if meter else None,
        grid_export_kwh=_kwh(meter.export_wh, 3) if meter else None, **energies,
        battery_mode=str(state.battery_mode.mode), battery_mode_source=state.battery_mode.source,
        battery_mode_reason=state.battery_mode.reason[:200], price_now=(plan or {}).get("price_now"),
        planned_soc_pct=(plan or {}).get("planned_soc_pct"), next_action=(plan or {}).get("next_action"),
        **_lifetime((totals or {}).get("site"), grid_import_net="grid_import_wh", grid_export_net="grid_export_wh",
                    battery_charged="charged_wh", battery_discharged="discharged_wh"))


def unit_payload(unit: UnitPayload, totals: dict[str, Any] | None = None) -> UnitState:
    """A ``unit/<id>/state`` message (``totals``: ``EnergyTotals.persisted``)."""
    r = unit.reading
    common = {"name": unit.name, "available": unit.available, "link": unit.link, "reason": unit.unavailable_reason,
              "setpoint_w": unit.setpoint_w, "last_command": unit.last_command,
              "last_result": unit.status.result if unit.status else None,
              **_lifetime(((totals or {}).get("units") or {}).get(str(unit.unit_id)),
                          battery_charged="charged_wh", battery_discharged="discharged_wh")}
    if r is None:
        return UnitState.model_validate(common)
    return UnitState.model_validate({
        **common, "running_state": r.running_state, "running_state_words": r.running_state_words,
        "battery_w": r.battery_w, "battery_v": r.battery_v, "battery_a": r.battery_a, "soc_pct": r.soc_pct,
        "battery_temp_c": r.battery_temp_c, "inverter_temp_c": r.inverter_temp_c,
        "heatsink_temp_c": r.heatsink_temp_c, "grid_v": r.grid_a_v, "grid_hz": r.grid_hz,
        "pv_today_kwh": _kwh(r.pv_today_wh, 2), "export_today_kwh": _kwh(r.export_today_wh, 2),
        "import_today_kwh": _kwh(r.import_today_wh, 2), "load_today_kwh": _kwh(r.load_today_wh, 2),
        "battery_cycles": r.battery_cycles, "faults": r.fault_labels, "alerts": r.alert_labels,
    })


def _lifetime(counters: dict[str, float] | None, **names: str) -> dict[str, float | None]:
    """``<name>_kwh`` for each lifetime counter (None when not counted yet); kWh to 3 decimals, so a counter
    never shows less than it did (the Wh on disk only grow)."""
    return {f"{name}_kwh": None if counters is None or key not in counters else round(counters[key] / 1000, 3)
            for name, key in names.items()}


def _kwh(wh: float | None, digits: int) -> float | None:
    return None if wh is None else round(wh / 1000, digits)
