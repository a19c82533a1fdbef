"""Home Assistant MQTT discovery: one device for the controller, one per inverter, and their entities.

Each config goes to ``<prefix>/<component>/<node>/<object>/config`` (retained), where ``node`` is
``smartsofar_<client id>``. Every entity is unavailable while the service is offline (its will); a unit's
entities also while that unit is offline (``availability_mode: all``). Sensors carry ``device_class``,
``state_class`` and units, so the energy sensors (``total_increasing``, kWh) are accepted by the Energy
dashboard. A JSON ``null`` in a state message renders as ``None``, which Home Assistant shows as unknown:
a value that is not known now is never shown stale.

Pure: configuration and snapshot in, ``{topic: payload}`` out.
"""

from __future__ import annotations

import re
from typing import Any

from smartsofar import __version__
from smartsofar.config import MqttConfig
from smartsofar.control.intent import BatteryMode
from smartsofar.modes import Mode
from smartsofar.mqtt.topics import Topics
from smartsofar.payloads import SitePayload, UnitPayload

ORIGIN = {"name": "SmartSofar", "sw_version": __version__}


def node_id(config: MqttConfig) -> str:
    """The discovery node: ``smartsofar_<client id>`` with only safe characters."""
    return "smartsofar_" + re.sub(r"[^a-zA-Z0-9_-]", "_", config.client_id)


def _sensor(name: str, template: str, unit: str | None = None, device_class: str | None = None,
            state_class: str | None = None, **extra: Any) -> dict[str, Any]:
    entity: dict[str, Any] = {"name": name, "value_template": template}
    if unit:
        entity["unit_of_measurement"] = unit
    if device_class:
        entity["device_class"] = device_class
    if state_class:
        entity["state_class"] = state_class
    entity.update(extra)
    return entity


def _power(name: str, key: str) -> dict[str, Any]:
    return _sensor(name, f"{{{{ value_json.{key} }}}}", "W", "power", "measurement")


def _energy(name: str, key: str) -> dict[str, Any]:
    return _sensor(name, f"{{{{ value_json.{key} }}}}", "kWh", "energy", "total_increasing")


def controller_entities(topics: Topics, state: SitePayload, currency: str = "EUR") \
        -> dict[tuple[str, str], dict[str, Any]]:
    """(component, object) -> config, for the controller device."""
    entities: dict[tuple[str, str], dict[str, Any]] = {
        ("sensor", "grid_power"): _power("Grid power", "grid_w"),
        ("sensor", "battery_power"): _power("Battery power", "battery_w"),
        ("sensor", "setpoint"): _power("Setpoint", "setpoint_w"),
        ("sensor", "soc"): _sensor("State of charge", "{{ value_json.soc_pct }}", "%", "battery", "measurement"),
        ("sensor", "grid_import"): _energy("Grid import", "grid_import_kwh"),
        ("sensor", "grid_export"): _energy("Grid export", "grid_export_kwh"),
        ("sensor", "charged_today"): _energy("Battery charged today", "today_charged_kwh"),
        ("sensor", "discharged_today"): _energy("Battery discharged today", "today_discharged_kwh"),
        ("sensor", "safety"): _sensor("Status", "{{ value_json.message }}", entity_category="diagnostic"),
        ("select", "mode"): {"name": "Mode", "command_topic": topics.command("mode"),
                             "value_template": "{{ value_json.mode }}", "options": list(Mode.names())},
        ("number", "manual_power"): {
            "name": "Manual power", "command_topic": topics.command("power"),
            "value_template": "{{ value_json.manual_power_w }}", "min": state.manual_min_w,
            "max": state.manual_max_w, "step": 50, "unit_of_measurement": "W", "device_class": "power",
            "mode": "box"},
        ("number", "target"): {
            "name": "Grid target", "command_topic": topics.command("target"),
            "value_template": "{{ value_json.target_w }}", "min": -5000, "max": 5000, "step": 1,
            "unit_of_measurement": "W", "device_class": "power", "mode": "box"},
        ("switch", "allow_charge"): {"name": "Charging allowed", "command_topic": topics.command("allow_charge"),
                                     "value_template": "{{ value_json.allow_charge }}"},
        ("switch", "allow_discharge"): {"name": "Discharging allowed",
                                        "command_topic": topics.command("allow_discharge"),
                                        "value_template": "{{ value_json.allow_discharge }}"},
        ("button", "standby"): {"name": "Standby", "command_topic": topics.command("standby"),
                                "payload_press": "standby"},
        # A mode chosen here lasts an hour (an automation may send its own lease_s); then auto mode is normal again.
        ("select", "battery_mode"): {"name": "Battery mode", "command_topic": topics.command("battery_mode"),
                                     "command_template": '{"mode": "{{ value }}", "lease_s": 3600}',
                                     "value_template": "{{ value_json.battery_mode }}",
                                     "options": [str(m) for m in BatteryMode]},
        ("sensor", "battery_mode_reason"): _sensor("Battery mode reason",
                                                   "{{ value_json.battery_mode_reason or value_json.battery_mode }}"),
        ("sensor", "price"): _sensor("Electricity price", "{{ value_json.price_now }}", f"{currency}/kWh",
                                     state_class="measurement", suggested_display_precision=4),
        ("sensor", "planned_soc"): _sensor("Planned state of charge", "{{ value_json.planned_soc_pct }}", "%",
                                           "battery"),
        ("sensor", "next_action"): _sensor("Next planned action", "{{ value_json.next_action or 'none' }}"),
    }
    for component, _object in entities:
        if component != "button":
            entities[(component, _object)]["state_topic"] = topics.state
    return entities


def unit_entities(topics: Topics, unit: UnitPayload) -> dict[tuple[str, str], dict[str, Any]]:
    """(component, object) -> config, for one unit's device."""
    entities = {
        ("sensor", "battery_power"): _power("Battery power", "battery_w"),
        ("sensor", "soc"): _sensor("State of charge", "{{ value_json.soc_pct }}", "%", "battery", "measurement"),
        ("sensor", "battery_voltage"): _sensor("Battery voltage", "{{ value_json.battery_v }}", "V", "voltage",
                                               "measurement"),
        ("sensor", "battery_current"): _sensor("Battery current", "{{ value_json.battery_a }}", "A", "current",
                                               "measurement"),
        ("sensor", "battery_temperature"): _sensor("Battery temperature", "{{ value_json.battery_temp_c }}", "°C",
                                                   "temperature", "measurement"),
        ("sensor", "inverter_temperature"): _sensor("Inverter temperature", "{{ value_json.inverter_temp_c }}",
                                                    "°C", "temperature", "measurement", entity_category="diagnostic"),
        ("sensor", "state"): _sensor("Running state", "{{ value_json.running_state_words }}"),
        ("sensor", "setpoint"): _power("Setpoint", "setpoint_w"),
        ("sensor", "pv_today"): _energy("PV today", "pv_today_kwh"),
        ("sensor", "import_today"): _energy("Imported today (inverter CT)", "import_today_kwh"),
        ("sensor", "export_today"): _energy("Exported today (inverter CT)", "export_today_kwh"),
        ("sensor", "faults"): _sensor("Faults", "{{ value_json.faults | join(', ') if value_json.faults else 'none' }}",
                                      entity_category="diagnostic"),
    }
    for config in entities.values():
        config["state_topic"] = topics.unit_state(unit.unit_id)
    return entities


def discovery_messages(config: MqttConfig, state: SitePayload, currency: str = "EUR") -> dict[str, dict[str, Any]]:
    """Every discovery topic with its config."""
    topics = Topics(config.base_topic)
    node = node_id(config)
    controller = {"identifiers": [node], "name": "SmartSofar", "manufacturer": "SmartSofar",
                  "model": "Battery controller", "sw_version": __version__}
    site_availability = [{"topic": topics.status}]
    out: dict[str, dict[str, Any]] = {}
    for (component, object_id), entity in controller_entities(topics, state, currency).items():
        entity.update(unique_id=f"{node}_{object_id}", object_id=f"smartsofar_{object_id}", device=controller,
                      availability=site_availability, origin=ORIGIN)
        out[f"{config.discovery_prefix}/{component}/{node}/{object_id}/config"] = entity
    for unit in state.units:
        device = {"identifiers": [f"{node}_unit{unit.unit_id}"], "name": unit.name, "manufacturer": "Sofar",
                  "model": "ME3000SP", "via_device": node}
        if unit.info is not None:
            device.update(serial_number=unit.info.serial, sw_version=unit.info.software_version,
                          hw_version=unit.info.hardware_version)
        for (component, object_id), entity in unit_entities(topics, unit).items():
            full_id = f"unit{unit.unit_id}_{object_id}"
            entity.update(unique_id=f"{node}_{full_id}", object_id=f"smartsofar_{full_id}", device=device,
                          availability=[*site_availability, {"topic": topics.unit_availability(unit.unit_id)}],
                          availability_mode="all", origin=ORIGIN)
            out[f"{config.discovery_prefix}/{component}/{node}/{full_id}/config"] = entity
    return out
