"""The commented example configuration ``smartsofar init`` writes, generated from the configuration models.

Every key appears with its help text as a comment and its default as the value, so the example cannot
drift from what the file accepts. Optional keys without a default (passwords, limits) are commented out.
"""

from __future__ import annotations

from typing import Any

import tomlkit
from pydantic import BaseModel

from smartsofar.config import (
    BusConfig,
    ControlConfig,
    MqttConfig,
    StabilityFilterConfig,
    StorageConfig,
    UnitConfig,
    WebConfig,
)
from smartsofar.config_meters import ShellyMeterConfig

_EXAMPLES: dict[str, Any] = {
    "buses.url": "serial:///dev/ttyUSB0?baudrate=9600",
    "meter.url": "http://192.0.2.20",
    "meter.password": "the-meter-password",
    "mqtt.url": "mqtt://user:password@192.0.2.30:1883",
    "control.grid_import_limit_w": 6000,
    "control.grid_export_limit_w": 0,
    "meter.user": "admin",
    "buses.units.phase": "a",
    "mqtt.username": "smartsofar",
    "mqtt.password": "the-broker-password",
    "mqtt.tls_ca_file": "/etc/ssl/certs/ca-certificates.crt",
}
_SKIP = {"web.password_hash", "web.api_token_hash", "meter.type"}  # a meter is named by its URL


def _value(value: Any) -> str:
    return str(tomlkit.item(value).as_string())


def _section(model: type[BaseModel], prefix: str, indent: str = "", values: dict[str, Any] | None = None) -> list[str]:
    lines: list[str] = []
    for name, field in model.model_fields.items():
        key = f"{prefix}.{name}"
        if key in _SKIP or name in ("units", "stability_filter"):
            continue
        if field.description:
            lines.append(f"{indent}# {field.description}")
        given = (values or {}).get(name)
        if given is not None:
            lines.append(f"{indent}{name} = {_value(given)}")
            continue
        default = None if field.default_factory is not None else field.default
        if name == "data_dir":
            lines.append(f'{indent}data_dir = "/var/lib/smartsofar"')
        elif default is None or key in _EXAMPLES:
            example = _EXAMPLES.get(key, _EXAMPLES.get(f"{prefix.split('.')[0]}.{name}"))
            if example is None:
                lines.append(f"{indent}# {name} =")
            elif default is None:
                lines.append(f"{indent}# {name} = {_value(example)}")
            else:
                lines.append(f"{indent}{name} = {_value(example)}")
        else:
            lines.append(f"{indent}{name} = {_value(default)}")
    return lines


def example_config() -> str:
    """The whole example file."""
    out = [
        "# SmartSofar configuration (TOML). Check it with: smartsofar config check FILE",
        "# Power is in watts: grid > 0 is import, battery > 0 is charge. The values below are the defaults",
        "# unless they are an example (addresses, names); lines starting with '#' are optional.",
        "",
        "# One [[buses]] per RS485 line (USB adapter or RS485-to-Ethernet gateway in transparent mode),",
        "# each with its units. Give every unit its own slave id on its screen, and select Passive mode there.",
        "[[buses]]",
        *_section(BusConfig, "buses", values={"url": _EXAMPLES["buses.url"]}),
    ]
    for unit_id, name in ((1, "garage"), (2, "cellar")):
        out += ["", "[[buses.units]]", *_section(UnitConfig, "buses.units", values={"id": unit_id, "name": name})]
    out += ["", "# The grid meter: a Shelly Pro 3EM (also Pro 3EM monophase, Pro EM / EM Gen3, 3EM-63, 3EM and EM",
            "# Gen1). Another meter? Give its URL instead, and drop the Shelly's keys (README: Grid meters):",
            '#   url = "mqtt://user:password@192.0.2.30/tele/sml/SENSOR?path=SML.Power_curr"  (any meter on MQTT)',
            '#   url = "sma://"                    (SMA Energy Meter, Sunny Home Manager 2.0)',
            '#   url = "serial:///dev/ttyUSB0"     (a DSMR P1 port; or "p1://HOST:PORT" for a P1 network bridge)',
            '#   url = "fronius://192.0.2.50"      (a Fronius Smart Meter)',
            '#   url = "ha://192.0.2.60:8123/sensor.grid_power" and token = "..."  (a sensor in Home Assistant)',
            "[meter]", *_section(ShellyMeterConfig, "meter", values={"url": _EXAMPLES["meter.url"]}), "",
            "[control]", *_section(ControlConfig, "control"), "",
            "# SmartSofar v1's filter: act only after N consecutive readings agree (off by default).",
            "[control.stability_filter]", *_section(StabilityFilterConfig, "control.stability_filter"), "",
            "# Set the password with 'smartsofar passwd' and an API token with 'smartsofar token'.",
            "[web]", *_section(WebConfig, "web"), "",
            "# MQTT and Home Assistant discovery: off while url is not set.",
            "[mqtt]", *_section(MqttConfig, "mqtt"), "",
            "[storage]", *_section(StorageConfig, "storage"), ""]
    return "\n".join(out)
