"""How the settings page names each setting for people, and which ones it folds away as advanced.

Keys are matched with their list indices as ``*`` (``buses.*.units.*.max_charge_w``). A key with no label
here gets one made from its name, its unit spelled out ("heartbeat_interval_s" → "Heartbeat interval, s").
Everything not listed as essential is advanced: shown folded under "Advanced" on its card.
"""

from __future__ import annotations

import re

LABELS: dict[str, str] = {
    "control.mode": "Mode at the very first start",
    "control.target_w": "Grid target, W",
    "control.allow_charge": "Auto mode may charge",
    "control.allow_discharge": "Auto mode may discharge",
    "control.deadband_w": "Deadband, W",
    "control.step_w": "Correct at once above, W",
    "control.persistence_ws": "Correct small errors after, W·s",
    "control.lean_w": "Lean to import while working, W",
    "control.min_change_w": "Smallest change sent to a unit, W",
    "control.allocation": "How power is shared between units",
    "control.grid_import_limit_w": "Grid import limit, W",
    "control.grid_export_limit_w": "Grid export limit, W",
    "control.meter_standby_after_s": "Standby when the meter is silent for, s",
    "control.shutdown_action": "On stop",
    "control.confirm_below_w": "Confirm jumps smaller than, W",
    "meter.type": "Meter type",
    "meter.url": "Meter address",
    "meter.invert": "Invert the sign (export read as positive)",
    "meter.phase": "Phase to follow",
    "meter.password": "Meter password",
    "meter.user": "Meter user",
    "buses.*.url": "Bus address (serial:///dev/ttyUSB0 or tcp://HOST:PORT)",
    "buses.*.timeout_s": "Reply timeout, s",
    "buses.*.retries": "Retries",
    "buses.*.units.*.id": "Modbus slave id",
    "buses.*.units.*.name": "Name",
    "buses.*.units.*.phase": "Grid phase",
    "buses.*.units.*.max_charge_w": "Maximum charge power, W",
    "buses.*.units.*.max_discharge_w": "Maximum discharge power, W",
    "buses.*.units.*.capacity_wh": "Usable battery energy, Wh",
    "buses.*.units.*.min_soc_pct": "Minimum state of charge, %",
    "buses.*.units.*.reserve_soc_pct": "Reserve kept by auto mode, %",
    "buses.*.units.*.max_soc_pct": "Maximum state of charge, %",
    "buses.*.units.*.dead_time_s": "Dead time (first guess), s",
    "buses.*.units.*.ramp_w_per_s": "Ramp (first guess), W/s",
    "buses.*.units.*.learn_response": "Learn the unit's response",
    "tariff.kind": "Tariff",
    "tariff.price": "Price, per kWh",
    "tariff.preset": "Off-peak hours preset",
    "tariff.offpeak_hours": "Off-peak hours (HH:MM-HH:MM, ...)",
    "tariff.offpeak_price": "Off-peak price, per kWh",
    "tariff.source": "Price source",
    "tariff.area": "Price area (FR, DE-LU, SE3, ...)",
    "tariff.home": "Tibber home id",
    "tariff.token": "Price source token",
    "tariff.feed_in": "Feed-in price, per kWh",
    "planner.enabled": "Plan the day ahead",
    "planner.grid_charge": "Charge from the grid when it pays",
    "planner.grid_charge_w": "Grid charge power, W",
    "planner.grid_export": "Export from the batteries when it pays",
    "planner.grid_export_w": "Battery export power, W",
    "pv_forecast.source": "PV forecast source",
    "pv_forecast.latitude": "Panels' latitude",
    "pv_forecast.longitude": "Panels' longitude",
    "pv_forecast.declination": "Panels' tilt, degrees",
    "pv_forecast.azimuth": "Panels' azimuth (-90 east, 0 south, 90 west)",
    "pv_forecast.kwp": "Panels' peak power, kWp",
    "pv_forecast.second_declination": "Second plane's tilt, degrees",
    "pv_forecast.second_azimuth": "Second plane's azimuth (-90 east, 0 south, 90 west)",
    "pv_forecast.second_kwp": "Second plane's peak power, kWp (empty: one plane)",
    "pv_forecast.token": "Forecast.Solar API key",
    "pv_forecast.url": "evcc's address (or another API address)",
    "mqtt.url": "Broker (mqtt://HOST:1883)",
    "mqtt.username": "Broker user",
    "mqtt.password": "Broker password",
    "mqtt.client_id": "MQTT client id",
    "mqtt.base_topic": "Base topic",
    "mqtt.discovery": "Home Assistant discovery",
    "mqtt.discovery_prefix": "Home Assistant discovery prefix",
    "mqtt.publish_interval_s": "Publish the state every, s",
    "mqtt.tls_ca_file": "CA file for mqtts://",
    "mqtt.tls_insecure": "Do not check the broker's certificate",
    "mqtt.sofar2mqtt_topics": "Also take Sofar2mqtt's topics",
    "web.host": "Listen on address (0.0.0.0: the whole network)",
    "web.port": "Port",
    "web.read_only_without_login": "Visitors may watch without logging in",
    "web.public_url": "Public address of this page",
    "web.allowed_hosts": "Other host names this page is reached by",
    "web.trusted_proxies": "Trusted reverse proxies",
    "storage.data_dir": "Data directory",
    "storage.history_fine_days": "Keep 10 s history for, days",
    "storage.history_coarse_days": "Keep 5 min history for, days",
    "storage.history_flush_s": "Write history every, s",
}

ESSENTIAL = {
    "control.target_w", "control.allow_charge", "control.allow_discharge",
    "control.grid_import_limit_w", "control.grid_export_limit_w",
    "meter.url", "meter.password",
    "buses.*.url",
    "buses.*.units.*.id", "buses.*.units.*.name", "buses.*.units.*.phase", "buses.*.units.*.max_charge_w",
    "buses.*.units.*.max_discharge_w", "buses.*.units.*.capacity_wh", "buses.*.units.*.reserve_soc_pct",
    "tariff.kind", "tariff.price", "tariff.preset", "tariff.offpeak_price", "tariff.source", "tariff.area",
    "tariff.token", "tariff.feed_in",
    "planner.enabled", "planner.grid_charge",
    "pv_forecast.source", "pv_forecast.latitude", "pv_forecast.longitude", "pv_forecast.kwp", "pv_forecast.url",
    "mqtt.url", "mqtt.username", "mqtt.password", "mqtt.discovery",
    "web.host", "web.port", "web.read_only_without_login",
    "storage.data_dir",
}

_UNITS = (("_w_per_s", "W/s"), ("_ws", "W·s"), ("_wh", "Wh"), ("_pct", "%"), ("_min", "min"), ("_w", "W"),
          ("_s", "s"), ("_h", "h"))


def pattern(key: str) -> str:
    """The key with its list indices as ``*``."""
    return re.sub(r"(?<=\.)\d+(?=\.)", "*", key)


def label(key: str) -> str:
    """The setting's name for people."""
    known = LABELS.get(pattern(key))
    if known:
        return known
    name = key.rsplit(".", 1)[-1]
    for suffix, unit in _UNITS:
        if name.endswith(suffix) and len(name) > len(suffix):
            words = name.removesuffix(suffix).replace("_", " ")
            return f"{words[0].upper()}{words[1:]}, {unit}"
    words = name.replace("_", " ")
    return words[0].upper() + words[1:]


def advanced(key: str) -> bool:
    """True for the settings folded away under "Advanced"."""
    return pattern(key) not in ESSENTIAL
