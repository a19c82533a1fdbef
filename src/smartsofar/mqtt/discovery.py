"""Home Assistant MQTT discovery: one device for the controller, one per inverter, and their entities.

Each config goes to ``<prefix>/<component>/<node>/<object>/config`` (retained), where ``node`` is
``smartsofar_<site id>`` (``storage.site_identity``: stored once, so renaming the MQTT client moves no
entity). Each entity suggests its entity id with ``default_entity_id`` (``sensor.smartsofar_grid_power``).
Single-component discovery is kept on purpose: Home Assistant supports it with no end planned, and moving to
device-based discovery would need a migration that cannot be checked against Home Assistant here.

Every entity is unavailable while the service is offline (its will); a unit's entities also while that unit
is offline (``availability_mode: all``); live sensors also when no state message came for ``expire_after``
seconds (a stalled service). Templates read keys with ``value_json.get``: a missing key, like a JSON
``null``, renders ``None``, which Home Assistant shows as unknown, never as the old value.

Statistics: one sensor per quantity has a ``state_class``. The Energy dashboard's are lifetime
``total_increasing`` counters that never decrease (``storage.energy_totals``): grid import and export netted
across phases, and battery energy in and out (DC side) for the site and per unit. The meter's own counters
(each phase on its own, summed) are kept as their own statistics. "Today" values and the inverter's CT and PV
counters (an ME3000SP has no PV input) are diagnostics without a ``state_class``.

Pure: configuration and snapshot in, ``{topic: payload}`` out.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from smartsofar import __version__
from smartsofar.config import MqttConfig
from smartsofar.control.intent import BatteryMode
from smartsofar.modes import Mode
from smartsofar.mqtt.topics import Topics
from smartsofar.payloads import SitePayload, UnitPayload
from smartsofar.sofar.status import RunningState
from smartsofar.storage.site_identity import safe_id


@dataclass(frozen=True, slots=True)
class DiscoveryContext:
    """What discovery needs besides the configuration and the site."""

    site_id: str
    page_url: str  # the web page: the devices' configuration_url and the origin's support_url
    currency: str = "EUR"

    def node(self) -> str:
        """The discovery node: ``smartsofar_<site id>``."""
        return "smartsofar_" + safe_id(self.site_id)


def expire_after_s(config: MqttConfig) -> int:
    """How long a live value is believed without a new state message: three missed publications, 30 s at least."""
    return int(max(30.0, 3 * config.publish_interval_s))


def _get(key: str) -> str:
    return f"{{{{ value_json.get('{key}') }}}}"


def _sensor(name: str, template: str, unit: str | None = None, device_class: str | None = None,
            state_class: str | None = None, precision: int | None = None, **extra: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"name": name, "value_template": template}
    if unit:
        entity["unit_of_measurement"] = unit
    if device_class:
        entity["device_class"] = device_class
    if state_class:
        entity["state_class"] = state_class
    if precision is not None:
        entity["suggested_display_precision"] = precision
    entity.update(extra)
    return entity


def _power(name: str, key: str) -> dict[str, Any]:
    return _sensor(name, _get(key), "W", "power", "measurement", 0)


def _soc(name: str, key: str, state_class: str | None = "measurement") -> dict[str, Any]:
    return _sensor(name, _get(key), "%", "battery", state_class, 0)


def _lifetime(name: str, key: str) -> dict[str, Any]:
    """A counter that never decreases: a statistics source for the Energy dashboard."""
    return _sensor(name, _get(key), "kWh", "energy", "total_increasing", 2)


def _energy_info(name: str, key: str) -> dict[str, Any]:
    """An energy that is shown, not counted: no state_class, so it makes no statistics."""
    return _sensor(name, _get(key), "kWh", "energy", None, 2, entity_category="diagnostic")


def controller_entities(topics: Topics, state: SitePayload, currency: str = "EUR") \
        -> dict[tuple[str, str], dict[str, Any]]:
    """(component, object) -> config, for the controller device."""
    entities: dict[tuple[str, str], dict[str, Any]] = {
        ("sensor", "grid_power"): _power("Grid power", "grid_w"),
        ("sensor", "battery_power"): _power("Battery power", "battery_w"),
        ("sensor", "setpoint"): _power("Setpoint", "setpoint_w"),
        ("sensor", "soc"): _soc("State of charge", "soc_pct"),
        # The Energy dashboard's grid and battery sources: lifetime, netted across phases, never decreasing.
        ("sensor", "grid_import_net"): _lifetime("Grid import", "grid_import_net_kwh"),
        ("sensor", "grid_export_net"): _lifetime("Grid export", "grid_export_net_kwh"),
        ("sensor", "battery_charged_total"): _lifetime("Battery energy in", "battery_charged_kwh"),
        ("sensor", "battery_discharged_total"): _lifetime("Battery energy out", "battery_discharged_kwh"),
        # The meter's own counters: each phase counted on its own, then summed (what a per-phase meter bills).
        ("sensor", "grid_import"): _lifetime("Grid import (meter, phases summed)", "grid_import_kwh"),
        ("sensor", "grid_export"): _lifetime("Grid export (meter, phases summed)", "grid_export_kwh"),
        ("sensor", "charged_today"): _energy_info("Battery charged today", "today_charged_kwh"),
        ("sensor", "discharged_today"): _energy_info("Battery discharged today", "today_discharged_kwh"),
        ("sensor", "safety"): _sensor("Status", _get("message"), entity_category="diagnostic"),
        ("binary_sensor", "problem"): {
            "name": "Problem", "device_class": "problem",
            "value_template": "{{ 'OFF' if value_json.get('safety') in ('ok', 'starting') else 'ON' }}"},
        ("select", "mode"): {"name": "Mode", "command_topic": topics.command("mode"),
                             "value_template": _get("mode"), "options": list(Mode.names())},
        ("number", "manual_power"): {
            "name": "Manual power", "command_topic": topics.command("power"),
            "value_template": _get("manual_power_w"), "min": state.manual_min_w,
            "max": state.manual_max_w, "step": 50, "unit_of_measurement": "W", "device_class": "power",
            "mode": "box"},
        ("number", "target"): {
            "name": "Grid target", "command_topic": topics.command("target"),
            "value_template": _get("target_w"), "min": -5000, "max": 5000, "step": 1,
            "unit_of_measurement": "W", "device_class": "power", "mode": "box"},
        ("switch", "allow_charge"): {"name": "Charging allowed", "command_topic": topics.command("allow_charge"),
                                     "value_template": _get("allow_charge")},
        ("switch", "allow_discharge"): {"name": "Discharging allowed",
                                        "command_topic": topics.command("allow_discharge"),
                                        "value_template": _get("allow_discharge")},
        ("button", "standby"): {"name": "Standby", "command_topic": topics.command("standby"),
                                "payload_press": "standby"},
        # A mode chosen here lasts an hour (an automation may send its own lease_s); then auto mode is normal again.
        ("select", "battery_mode"): {"name": "Battery mode", "command_topic": topics.command("battery_mode"),
                                     "command_template": '{"mode": "{{ value }}", "lease_s": 3600}',
                                     "value_template": _get("battery_mode"),
                                     "options": [str(m) for m in BatteryMode]},
        ("sensor", "battery_mode_reason"): _sensor(
            "Battery mode reason", "{{ value_json.get('battery_mode_reason') or value_json.get('battery_mode') }}"),
        ("sensor", "price"): _sensor("Electricity price", _get("price_now"), f"{currency}/kWh",
                                     state_class="measurement", precision=4),
        ("sensor", "planned_soc"): _soc("Planned state of charge", "planned_soc_pct", None),
        ("sensor", "next_action"): _sensor("Next planned action",
                                           "{{ value_json.get('next_action') or 'none' }}"),
    }
    for component, _object in entities:
        if component != "button":
            entities[(component, _object)]["state_topic"] = topics.state
    return entities


RUNNING_STATES = [state.words for state in RunningState]


def unit_entities(topics: Topics, unit: UnitPayload) -> dict[tuple[str, str], dict[str, Any]]:
    """(component, object) -> config, for one unit's device."""
    entities = {
        ("sensor", "battery_power"): _power("Battery power", "battery_w"),
        ("sensor", "soc"): _soc("State of charge", "soc_pct"),
        ("sensor", "battery_voltage"): _sensor("Battery voltage", _get("battery_v"), "V", "voltage", "measurement", 1),
        ("sensor", "battery_current"): _sensor("Battery current", _get("battery_a"), "A", "current", "measurement", 1),
        ("sensor", "battery_temperature"): _sensor("Battery temperature", _get("battery_temp_c"), "°C",
                                                   "temperature", "measurement", 1),
        ("sensor", "inverter_temperature"): _sensor("Inverter temperature", _get("inverter_temp_c"), "°C",
                                                    "temperature", "measurement", 1, entity_category="diagnostic"),
        ("sensor", "state"): _sensor("Running state", _get("running_state_words"), device_class="enum",
                                     options=RUNNING_STATES),
        ("sensor", "setpoint"): _power("Setpoint", "setpoint_w"),
        # This unit as a battery in the Energy dashboard: DC side (0x020D), both counters positive.
        ("sensor", "battery_charged"): _lifetime("Battery energy in", "battery_charged_kwh"),
        ("sensor", "battery_discharged"): _lifetime("Battery energy out", "battery_discharged_kwh"),
        ("sensor", "pv_today"): _energy_info("PV today", "pv_today_kwh"),
        ("sensor", "import_today"): _energy_info("Imported today (inverter CT)", "import_today_kwh"),
        ("sensor", "export_today"): _energy_info("Exported today (inverter CT)", "export_today_kwh"),
        ("binary_sensor", "fault"): {"name": "Fault", "device_class": "problem",
                                     "value_template": "{{ 'ON' if value_json.get('faults') else 'OFF' }}"},
        ("sensor", "faults"): _sensor("Faults", "{{ value_json.get('faults') | join(', ') "
                                                "if value_json.get('faults') else 'none' }}",
                                      entity_category="diagnostic"),
    }
    for config in entities.values():
        config["state_topic"] = topics.unit_state(unit.unit_id)
    return entities


def _live(component: str, entity: dict[str, Any], expire_s: int) -> None:
    if component in ("sensor", "binary_sensor"):
        entity["expire_after"] = expire_s


def discovery_messages(config: MqttConfig, state: SitePayload, context: DiscoveryContext) -> dict[str, dict[str, Any]]:
    """Every discovery topic with its config."""
    topics = Topics(config.base_topic)
    node = context.node()
    origin = {"name": "SmartSofar", "sw_version": __version__, "support_url": context.page_url}
    controller = {"identifiers": [node], "name": "SmartSofar", "manufacturer": "SmartSofar",
                  "model": "Battery controller", "sw_version": __version__, "configuration_url": context.page_url}
    site_availability = [{"topic": topics.status}]
    expire_s = expire_after_s(config)
    out: dict[str, dict[str, Any]] = {}
    for (component, object_id), entity in controller_entities(topics, state, context.currency).items():
        entity.update(unique_id=f"{node}_{object_id}", default_entity_id=f"{component}.smartsofar_{object_id}",
                      device=controller, availability=site_availability, origin=origin)
        _live(component, entity, expire_s)
        out[f"{config.discovery_prefix}/{component}/{node}/{object_id}/config"] = entity
    for unit in state.units:
        device = {"identifiers": [f"{node}_unit{unit.unit_id}"], "name": unit.name, "manufacturer": "Sofar",
                  "model": "ME3000SP", "via_device": node, "configuration_url": context.page_url}
        if unit.info is not None:
            device.update(serial_number=unit.info.serial, sw_version=unit.info.software_version,
                          hw_version=unit.info.hardware_version)
        for (component, object_id), entity in unit_entities(topics, unit).items():
            full_id = f"unit{unit.unit_id}_{object_id}"
            entity.update(unique_id=f"{node}_{full_id}", default_entity_id=f"{component}.smartsofar_{full_id}",
                          device=device, availability=[*site_availability,
                                                       {"topic": topics.unit_availability(unit.unit_id)}],
                          availability_mode="all", origin=origin)
            _live(component, entity, expire_s)
            out[f"{config.discovery_prefix}/{component}/{node}/{full_id}/config"] = entity
    return out
