"""MQTT topics and payloads: what SmartSofar publishes and which commands it takes.

Under the base topic (default ``smartsofar``):

- ``status``: ``online`` / ``offline`` (retained; ``offline`` is also the broker-held last will);
- ``state``: the site as JSON (retained): grid W and per phase, mode, setpoint, batteries, SoC, energies;
- ``unit/<id>/state`` (retained) and ``unit/<id>/availability`` (``online`` / ``offline``, retained);
- ``events``: commands with their decoded status word, faults raised and cleared (not retained);
- ``error``: why a command payload was refused (not retained).

Commands: ``set/mode`` (auto | manual | standby, or v1's 1 / 0), ``set/power`` (W, manual mode only),
``set/target`` (W), ``set/allow_charge`` and ``set/allow_discharge`` (ON / OFF), ``set/standby`` (any
payload). With ``sofar2mqtt_topics``: ``Sofar2mqtt/set/standby``, ``.../auto``, ``.../charge`` (W) and
``.../discharge`` (W), for people moving from Sofar2mqtt.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartsofar.engine.snapshot import SiteSnapshot, UnitSnapshot

SOFAR2MQTT_PREFIX = "Sofar2mqtt/set/"
COMMANDS = ("mode", "power", "target", "allow_charge", "allow_discharge", "standby")


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


def site_payload(state: SiteSnapshot, today: dict[str, float] | None = None) -> dict[str, Any]:
    """The ``state`` message."""
    meter = state.meter
    sample = meter.sample if meter is not None and meter.fresh else None
    payload: dict[str, Any] = {
        "grid_w": None if state.grid_w is None else round(state.grid_w, 1),
        "phases_w": [round(p.power_w, 1) for p in sample.phases] if sample else [],
        "mode": str(state.mode.mode), "manual_power_w": state.mode.manual_power_w, "target_w": state.mode.target_w,
        "allow_charge": "ON" if state.mode.allow_charge else "OFF",
        "allow_discharge": "ON" if state.mode.allow_discharge else "OFF",
        "setpoint_w": state.setpoint_total_w,
        "battery_w": None if state.battery_w is None else round(state.battery_w),
        "soc_pct": None if state.soc_pct is None else round(state.soc_pct, 1),
        "safety": state.safety, "message": state.message,
        "meter_state": meter.state if meter else None,
        "grid_import_kwh": round(sample.import_wh / 1000, 3) if sample and sample.import_wh is not None else None,
        "grid_export_kwh": round(sample.export_wh / 1000, 3) if sample and sample.export_wh is not None else None,
    }
    for key in ("import_wh", "export_wh", "charged_wh", "discharged_wh"):
        value = (today or {}).get(key)
        payload[f"today_{key.removesuffix('_wh')}_kwh"] = None if value is None else round(value / 1000, 3)
    return payload


def unit_payload(unit: UnitSnapshot) -> dict[str, Any]:
    """A ``unit/<id>/state`` message."""
    r = unit.reading
    payload: dict[str, Any] = {
        "name": unit.name, "available": unit.available, "link": unit.link, "reason": unit.unavailable_reason,
        "setpoint_w": unit.setpoint_w,
        "last_command": unit.last_command, "last_result": unit.status.result.name.lower() if unit.status else None,
    }
    if r is not None:
        payload.update({
            "running_state": r.running_state.name.lower(), "running_state_words": r.running_state.words,
            "battery_w": r.battery_w, "battery_v": r.battery_v, "battery_a": r.battery_a, "soc_pct": r.soc_pct,
            "battery_temp_c": r.battery_temp_c, "inverter_temp_c": r.inverter_temp_c,
            "heatsink_temp_c": r.heatsink_temp_c, "grid_v": r.grid_a_v, "grid_hz": r.grid_hz,
            "pv_today_kwh": round(r.pv_today_wh / 1000, 2), "export_today_kwh": round(r.export_today_wh / 1000, 2),
            "import_today_kwh": round(r.import_today_wh / 1000, 2), "load_today_kwh": round(r.load_today_wh / 1000, 2),
            "battery_cycles": r.battery_cycles,
            "faults": [f.label for f in (*r.faults, *r.battery_faults)], "alerts": [f.label for f in r.alerts],
        })
    return payload
