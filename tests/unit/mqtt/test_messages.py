"""Table tests of what the MQTT bridge publishes: the discovery configs and the state messages, built from a
site payload (pure functions: no broker)."""

from __future__ import annotations

import pytest

from smartsofar.config import parse_config
from smartsofar.modes import Mode, ModeState
from smartsofar.mqtt.discovery import DiscoveryContext, discovery_messages
from smartsofar.mqtt.topics import Topics, site_payload, unit_payload
from smartsofar.payloads import SitePayload
from tests.web.stub import SITE, StubEngine

CONFIG = parse_config({**SITE, "mqtt": {"url": "mqtt://127.0.0.1:1883"}})
CONTEXT = DiscoveryContext("1a2b3c4d", "http://battery.local:8080/")
NODE = "smartsofar_1a2b3c4d"
ENTITIES = 25 + 2 * 15  # the controller's, and each unit's


def site(offline: frozenset[int] = frozenset()) -> SitePayload:
    return SitePayload.of(StubEngine(CONFIG, offline=set(offline)).latest())


@pytest.mark.parametrize(("topic", "keys"), [
    pytest.param(f"homeassistant/select/{NODE}/mode/config", {"options": list(Mode.names()),
                                                              "command_topic": "smartsofar/set/mode"}, id="mode"),
    pytest.param(f"homeassistant/number/{NODE}/manual_power/config", {"min": -6000, "max": 6000, "step": 50},
                 id="manual power, within the units' range"),
    pytest.param(f"homeassistant/sensor/{NODE}/grid_import_net/config",
                 {"device_class": "energy", "state_class": "total_increasing", "unit_of_measurement": "kWh",
                  "value_template": "{{ value_json.get('grid_import_net_kwh') }}",
                  "default_entity_id": "sensor.smartsofar_grid_import_net"},
                 id="the Energy dashboard's grid import: lifetime, netted"),
    pytest.param(f"homeassistant/sensor/{NODE}/unit2_battery_discharged/config",
                 {"state_class": "total_increasing", "state_topic": "smartsofar/unit/2/state"},
                 id="a unit as a battery in the Energy dashboard"),
    pytest.param(f"homeassistant/sensor/{NODE}/charged_today/config",
                 {"device_class": "energy", "entity_category": "diagnostic", "suggested_display_precision": 2},
                 id="today's energy is shown but makes no statistics"),
    pytest.param(f"homeassistant/sensor/{NODE}/unit1_pv_today/config", {"entity_category": "diagnostic"},
                 id="an ME3000SP has no PV: a diagnostic"),
    pytest.param(f"homeassistant/sensor/{NODE}/unit2_soc/config",
                 {"state_topic": "smartsofar/unit/2/state", "availability_mode": "all", "unit_of_measurement": "%",
                  "expire_after": 30, "suggested_display_precision": 0},
                 id="a unit's sensor, unavailable with its unit or when the service stalls"),
    pytest.param(f"homeassistant/sensor/{NODE}/unit1_state/config",
                 {"device_class": "enum", "options": ["standby", "checking before charging", "charging",
                                                      "checking before discharging", "discharging",
                                                      "EPS (off-grid backup)", "fault", "permanent fault",
                                                      "unknown state"]},
                 id="the running state as an enum"),
    pytest.param(f"homeassistant/binary_sensor/{NODE}/unit1_fault/config", {"device_class": "problem"},
                 id="faults as a problem"),
])
def test_discovery_config(topic: str, keys: dict[str, object]) -> None:
    config = discovery_messages(CONFIG.mqtt, site(), CONTEXT)[topic]
    assert {k: config[k] for k in keys} == keys
    assert config["unique_id"].startswith(f"{NODE}_") and config["origin"]["name"] == "SmartSofar"
    assert config["origin"]["support_url"] == config["device"]["configuration_url"] == "http://battery.local:8080/"
    assert "object_id" not in config  # deprecated by Home Assistant 2025.10, refused from 2026.4


def test_only_one_statistics_sensor_per_quantity() -> None:
    configs = discovery_messages(CONFIG.mqtt, site(), CONTEXT)
    counted = sorted(topic.split("/")[3] for topic, c in configs.items() if c.get("state_class") == "total_increasing")
    assert counted == ["battery_charged_total", "battery_discharged_total", "grid_export", "grid_export_net",
                       "grid_import", "grid_import_net", "unit1_battery_charged", "unit1_battery_discharged",
                       "unit2_battery_charged", "unit2_battery_discharged"]
    assert all("expire_after" not in c for t, c in configs.items() if t.split("/")[1] in ("select", "number"))


def test_discovery_names_each_unit_as_its_own_device() -> None:
    configs = discovery_messages(CONFIG.mqtt, site(), CONTEXT).values()
    devices = {c["device"]["name"]: c["device"] for c in configs if c["device"].get("model") == "ME3000SP"}
    assert set(devices) == {"garage", "cellar"}
    assert devices["cellar"]["serial_number"] == "SE1ES230M2000" and devices["cellar"]["via_device"] == NODE
    unique = [c["unique_id"] for c in configs]
    assert len(unique) == len(set(unique)) == ENTITIES


def test_a_renamed_prefix_and_base_move_every_topic_but_not_the_ids() -> None:
    config = parse_config({**SITE, "mqtt": {"url": "mqtt://127.0.0.1", "discovery_prefix": "ha",
                                            "client_id": "garage box!", "base_topic": "battery"}})
    topics = discovery_messages(config.mqtt, site(), CONTEXT)
    assert all(t.startswith("ha/") and f"/{NODE}/" in t for t in topics)
    assert all(c["availability"][0]["topic"] == "battery/status" for c in topics.values())
    assert {c["unique_id"] for c in topics.values()} == \
        {c["unique_id"] for c in discovery_messages(CONFIG.mqtt, site(), CONTEXT).values()}


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


TOTALS = {"site": {"grid_import_wh": 81234.5678, "grid_export_wh": 0.0, "charged_wh": 5000.0, "discharged_wh": 4000.0},
          "units": {"2": {"charged_wh": 2500.0, "discharged_wh": 1999.9996}}}


def test_the_lifetime_counters_in_the_messages() -> None:
    state = site()
    message = site_payload(state, None, None, TOTALS).model_dump(mode="json")
    assert (message["grid_import_net_kwh"], message["grid_export_net_kwh"]) == (81.235, 0.0)
    assert (message["battery_charged_kwh"], message["battery_discharged_kwh"]) == (5.0, 4.0)
    unit2 = unit_payload(state.units[1], TOTALS).model_dump(mode="json")
    assert (unit2["battery_charged_kwh"], unit2["battery_discharged_kwh"]) == (2.5, 2.0)
    unit1 = unit_payload(state.units[0], TOTALS).model_dump(mode="json")
    assert unit1["battery_charged_kwh"] is None  # not counted yet: unknown, not 0
    assert site_payload(state).model_dump(mode="json")["grid_import_net_kwh"] is None


def test_command_topics() -> None:
    topics = Topics("smartsofar")
    assert topics.command_name("smartsofar/set/power") == "power"
    assert topics.command_name("smartsofar/set/reboot") is None
    assert topics.command_name("other/set/power") is None
