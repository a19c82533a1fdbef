"""Table tests of what the MQTT bridge publishes: the discovery configs and the state messages, built from a
site payload (pure functions: no broker)."""

from __future__ import annotations

import pytest

from smartsofar.config import parse_config
from smartsofar.modes import Mode, ModeState
from smartsofar.mqtt.discovery import discovery_messages, node_id
from smartsofar.mqtt.topics import Topics, site_payload, unit_payload
from smartsofar.payloads import SitePayload
from tests.web.stub import SITE, StubEngine

CONFIG = parse_config({**SITE, "mqtt": {"url": "mqtt://127.0.0.1:1883"}})
NODE = node_id(CONFIG.mqtt)


def site(offline: frozenset[int] = frozenset()) -> SitePayload:
    return SitePayload.of(StubEngine(CONFIG, offline=set(offline)).latest())


@pytest.mark.parametrize(("topic", "keys"), [
    pytest.param(f"homeassistant/select/{NODE}/mode/config", {"options": list(Mode.names()),
                                                              "command_topic": "smartsofar/set/mode"}, id="mode"),
    pytest.param(f"homeassistant/number/{NODE}/manual_power/config", {"min": -6000, "max": 6000, "step": 50},
                 id="manual power, within the units' range"),
    pytest.param(f"homeassistant/sensor/{NODE}/grid_import/config",
                 {"device_class": "energy", "state_class": "total_increasing", "unit_of_measurement": "kWh"},
                 id="an energy sensor the Energy dashboard accepts"),
    pytest.param(f"homeassistant/sensor/{NODE}/unit2_soc/config",
                 {"state_topic": "smartsofar/unit/2/state", "availability_mode": "all", "unit_of_measurement": "%"},
                 id="a unit's sensor, unavailable with its unit"),
])
def test_discovery_config(topic: str, keys: dict[str, object]) -> None:
    config = discovery_messages(CONFIG.mqtt, site())[topic]
    assert {k: config[k] for k in keys} == keys
    assert config["unique_id"].startswith(f"{NODE}_") and config["origin"]["name"] == "SmartSofar"


def test_discovery_names_each_unit_as_its_own_device() -> None:
    configs = discovery_messages(CONFIG.mqtt, site()).values()
    devices = {c["device"]["name"]: c["device"] for c in configs if c["device"].get("model") == "ME3000SP"}
    assert set(devices) == {"garage", "cellar"}
    assert devices["cellar"]["serial_number"] == "SE1ES230M2000" and devices["cellar"]["via_device"] == NODE
    unique = [c["unique_id"] for c in configs]
    assert len(unique) == len(set(unique)) == 20 + 2 * 12


def test_a_renamed_prefix_and_client_move_every_topic() -> None:
    config = parse_config({**SITE, "mqtt": {"url": "mqtt://127.0.0.1", "discovery_prefix": "ha",
                                            "client_id": "garage box!", "base_topic": "battery"}})
    topics = discovery_messages(config.mqtt, site())
    assert all(t.startswith("ha/") and "/smartsofar_garage_box_/" in t for t in topics)
    assert all(c["availability"][0]["topic"] == "battery/status" for c in topics.values())


MANUAL_NO_DISCHARGE = ModeState(Mode.MANUAL, -800, 0, True, False)


@pytest.mark.parametrize(("grid_w", "mode", "expected"), [
    pytest.param(12.0, ModeState(), {"mode": "auto", "allow_charge": "ON", "grid_w": 12.0, "battery_w": -1400,
                                     "grid_import_kwh": 1520.336}, id="a healthy site"),
    pytest.param(None, ModeState(), {"grid_w": None, "phases_w": [], "grid_import_kwh": None,
                                     "meter_state": "unavailable"}, id="a silent meter: no stale values"),
    pytest.param(12.0, MANUAL_NO_DISCHARGE, {"mode": "manual", "manual_power_w": -800, "allow_discharge": "OFF"},
                 id="manual mode, discharge forbidden"),
])
def test_the_state_message(grid_w: float | None, mode: ModeState, expected: dict[str, object]) -> None:
    engine = StubEngine(CONFIG, grid_w=grid_w)
    engine.holder.mode = mode
    message = site_payload(SitePayload.of(engine.latest()), {"import_wh": 2500.0}).model_dump(mode="json")
    assert {k: message[k] for k in expected} == expected
    assert message["today_import_kwh"] == 2.5 and message["today_export_kwh"] is None


@pytest.mark.parametrize(("offline", "expected"), [
    pytest.param(False, {"available": True, "running_state": "discharging", "soc_pct": 50, "pv_today_kwh": 0.0},
                 id="a unit read"),
    pytest.param(True, {"available": False, "link": "offline", "running_state": None, "soc_pct": None,
                        "faults": []}, id="an offline unit: nothing stale"),
])
def test_a_unit_message(offline: bool, expected: dict[str, object]) -> None:
    state = site(frozenset({2}) if offline else frozenset())
    message = unit_payload(state.units[1]).model_dump(mode="json")
    assert {k: message[k] for k in expected} == expected


def test_command_topics() -> None:
    topics = Topics("smartsofar")
    assert topics.command_name("smartsofar/set/power") == "power"
    assert topics.command_name("smartsofar/set/reboot") is None
    assert topics.command_name("other/set/power") is None
