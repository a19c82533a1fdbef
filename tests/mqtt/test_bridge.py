"""MQTT and Home Assistant discovery: the bridge against a real Mosquitto on 127.0.0.1, in front of a stub
engine. The end-to-end path (MQTT commands moving real simulated units) is in ``test_end_to_end.py``."""

from __future__ import annotations

import asyncio
import gc
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from smartsofar.config import parse_config
from smartsofar.modes import Mode
from smartsofar.mqtt.bridge import MqttBridge
from smartsofar.mqtt.discovery import DiscoveryContext
from smartsofar.tasks import cancel_and_wait
from tests.live_service import eventually
from tests.mqtt.conftest import TlsBroker
from tests.mqtt_broker import MOSQUITTO, Broker, Listener, retained
from tests.web.stub import SITE, StubEngine

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto is not installed "
                                "(scripts/install --dev installs it)")
NODE = "smartsofar_site1"
TODAY = {"import_wh": 1234.0, "export_wh": 10.0, "charged_wh": 2000.0, "discharged_wh": 1500.0}
TOTALS = {"site": {"grid_import_wh": 81234.0, "grid_export_wh": 10.0, "charged_wh": 5000.0, "discharged_wh": 4000.0},
          "units": {"1": {"charged_wh": 2500.0, "discharged_wh": 2000.0}}}
ENTITIES = 25 + 2 * 15  # the controller's, and each unit's


@dataclass
class Bridged:
    bridge: MqttBridge
    engine: StubEngine

    def cycle(self) -> None:
        """What the engine does after each control cycle: publish its snapshot."""
        self.engine.snapshots.publish(self.engine.latest())


@asynccontextmanager
async def bridged(url: str, **mqtt: Any) -> AsyncIterator[Bridged]:
    config = parse_config({**SITE, "mqtt": {"url": url, "publish_interval_s": 1, **mqtt}})
    engine = StubEngine(config)
    bridge = MqttBridge(config.mqtt, engine, DiscoveryContext("site1", "http://127.0.0.1:8080/"), lambda: TODAY,
                        lambda: TOTALS)
    bridge.birth_delay_s = (0.2, 0.4)
    task = asyncio.create_task(bridge.run())
    try:
        yield Bridged(bridge, engine)
    finally:
        await bridge.stop()
        engine.snapshots.close()
        engine.events.close()
        await asyncio.wait_for(task, 5)  # the bridge ends by itself when the engine's topics close
        await cancel_and_wait([task])


@pytest.fixture
async def listener(broker: Broker) -> AsyncIterator[Listener]:
    async with Listener(broker.port) as heard:
        yield heard


@pytest.fixture
async def live(broker: Broker, listener: Listener) -> AsyncIterator[Bridged]:
    async with bridged(broker.url, sofar2mqtt_topics=True) as site:
        await listener.wait_for("smartsofar/status", lambda p: p == "online")
        yield site


def discovery(listener: Listener) -> dict[str, dict[str, Any]]:
    return {topic: json.loads(values[-1]) for topic, values in listener.messages.items()
            if topic.startswith("homeassistant/") and topic.endswith("/config") and values[-1]}


async def test_discovery_describes_every_entity_home_assistant_needs(live: Bridged, listener: Listener) -> None:
    assert await eventually(lambda: len(discovery(listener)) == ENTITIES)
    configs = discovery(listener)
    mode_topic = f"homeassistant/select/{NODE}/mode/config"
    mode = json.loads(await retained(listener.port, mode_topic) or "{}")
    assert mode["unique_id"] == f"{NODE}_mode" and mode["options"] == list(Mode.names())
    unique_ids = [c["unique_id"] for c in configs.values()]
    assert len(unique_ids) == len(set(unique_ids))
    for topic, config in configs.items():
        component = topic.split("/")[1]
        assert topic.split("/")[2] == NODE
        assert config["name"] and config["device"]["identifiers"] and config["origin"]["name"] == "SmartSofar"
        assert {"topic": "smartsofar/status"} in config["availability"]
        if component != "button":
            assert config["state_topic"] in listener.messages, f"{topic}: nothing published on {config['state_topic']}"
        if component in ("select", "number", "switch", "button"):
            assert config["command_topic"].startswith("smartsofar/set/")
        if config.get("device_class") == "energy":
            assert config["unit_of_measurement"] == "kWh"
            assert config.get("state_class") == "total_increasing" or config["entity_category"] == "diagnostic"
        if config.get("device_class") == "power" and component == "sensor":
            assert config["state_class"] == "measurement" and config["unit_of_measurement"] == "W"
    cellar = next(c["device"] for c in configs.values() if c["device"].get("name") == "cellar")
    assert cellar["serial_number"] == "SE1ES230M2000" and cellar["via_device"] == NODE
    unit_entity = configs[f"homeassistant/sensor/{NODE}/unit2_soc/config"]
    assert unit_entity["availability_mode"] == "all"
    assert {"topic": "smartsofar/unit/2/availability"} in unit_entity["availability"]
    assert listener.last("smartsofar/unit/2/availability") == "online"


async def test_a_unit_described_anew_is_announced_again(live: Bridged, listener: Listener) -> None:
    topic = f"homeassistant/sensor/{NODE}/unit1_soc/config"
    await listener.wait_for(topic)
    live.engine.software = "V120"  # the unit was updated
    live.cycle()
    text = await listener.wait_for(topic, lambda p: json.loads(p)["device"]["sw_version"] == "V120")
    assert json.loads(text)["device"]["serial_number"] == "SE1ES230M1000"


async def test_state_is_published_and_retained(live: Bridged, listener: Listener) -> None:
    text = await listener.wait_for("smartsofar/state")
    state = json.loads(text)
    assert state["mode"] == "auto" and state["allow_charge"] == "ON" and len(state["phases_w"]) == 3
    assert state["battery_w"] == -1400 and state["grid_import_kwh"] == 1520.336
    assert state["today_import_kwh"] == 1.234 and state["today_discharged_kwh"] == 1.5
    assert state["grid_import_net_kwh"] == 81.234 and state["battery_discharged_kwh"] == 4.0
    assert json.loads(await retained(listener.port, "smartsofar/state") or "{}")["mode"] == "auto"
    unit = listener.last_json("smartsofar/unit/1/state")
    assert unit["name"] == "garage" and unit["running_state"] == "discharging" and unit["soc_pct"] == 50
    assert unit["battery_charged_kwh"] == 2.5


async def test_commands_reach_the_engine(live: Bridged, listener: Listener) -> None:
    mode = live.engine.holder
    await listener.publish("smartsofar/set/mode", "manual")
    await listener.publish("smartsofar/set/power", "1500")
    assert await eventually(lambda: mode.mode.manual_power_w == 1500)
    live.cycle()
    await listener.wait_for("smartsofar/state", lambda p: json.loads(p)["manual_power_w"] == 1500)
    await listener.publish("smartsofar/set/mode", "1")  # v1's "auto"
    await listener.publish("smartsofar/set/target", "25")
    await listener.publish("smartsofar/set/allow_charge", "OFF")
    assert await eventually(lambda: mode.mode.target_w == 25 and not mode.mode.allow_charge)
    assert mode.mode.mode is Mode.AUTO
    await listener.publish("smartsofar/set/standby", "standby")
    assert await eventually(lambda: mode.mode.mode is Mode.STANDBY)


async def test_another_system_sets_the_battery_mode_and_home_assistant_sees_it(live: Bridged,
                                                                            listener: Listener) -> None:
    planning = live.engine.planning
    await listener.publish("smartsofar/set/battery_mode", "hold")
    assert await eventually(lambda: planning.steering.external is not None)
    external = planning.steering.external
    assert external is not None and external.mode == "hold" and external.who == "mqtt"
    assert 55 < external.expires_at - planning.clock() <= 60  # evcc's lease: renew it, or it lapses
    select = json.loads(await retained(listener.port, f"homeassistant/select/{NODE}/battery_mode/config") or "{}")
    assert select["options"] == ["normal", "hold", "charge", "export"]
    assert '"lease_s": 3600' in select["command_template"]
    await listener.publish("smartsofar/set/battery_mode", '{"mode": "charge", "lease_s": 3600, "soc_pct": 80}')
    assert await eventually(lambda: planning.steering.external is not None and
                            planning.steering.external.mode == "charge" and planning.steering.external.soc_pct == 80)
    await listener.publish("smartsofar/set/battery_mode", '{"mode": "charge", "lease_s": "long"}')
    error = json.loads(await listener.wait_for("smartsofar/error",
                                               lambda p: json.loads(p)["topic"] == "smartsofar/set/battery_mode"))
    assert "lease_s must be a number" in error["error"]
    assert planning.steering.external is not None and planning.steering.external.mode == "charge"


async def test_events_are_published(live: Bridged, listener: Listener) -> None:
    from smartsofar.engine.snapshot import Event
    live.engine.events.publish(Event(1.0, "command", "garage: discharge 700 W: accepted", 1, {"status": {}}))
    event = json.loads(await listener.wait_for("smartsofar/events"))
    assert event["kind"] == "command" and event["unit_id"] == 1 and "status" in event


@pytest.mark.parametrize(("topic", "payload", "message"), [
    ("smartsofar/set/power", "lots", "power must be a whole number of watts"),
    ("smartsofar/set/power", "500", "switch to manual"),
    ("smartsofar/set/mode", "turbo", "mode must be auto, manual or standby"),
    ("smartsofar/set/allow_charge", "maybe", "allow_charge must be on or off"),
    ("Sofar2mqtt/set/discharge", "-5", "positive number of watts"),
    ("Sofar2mqtt/set/charge", "99999", "between -6000 and 6000"),
], ids=["power not a number", "power in auto", "unknown mode", "bad switch", "negative Sofar2mqtt power",
        "Sofar2mqtt power out of range"])
async def test_a_bad_payload_is_answered_on_error_and_changes_nothing(
        live: Bridged, listener: Listener, topic: str, payload: str, message: str) -> None:
    before = live.engine.holder.mode
    await listener.publish(topic, payload)
    error = json.loads(await listener.wait_for("smartsofar/error", lambda p: json.loads(p)["topic"] == topic))
    assert message in error["error"] and error["payload"] == payload
    assert live.engine.holder.mode == before


async def test_a_huge_payload_is_refused_unread_and_echoed_short(
        live: Bridged, listener: Listener, caplog: pytest.LogCaptureFixture) -> None:
    before = live.engine.holder.mode
    huge = "1" * 1_000_000  # 1 MB: before, it was logged whole and echoed back at 7.5 times the size
    await listener.publish("smartsofar/set/mode", huge)
    echoed = await listener.wait_for("smartsofar/error", lambda p: json.loads(p)["topic"] == "smartsofar/set/mode")
    error = json.loads(echoed)
    assert "at most 256 characters" in error["error"] and len(echoed) < 1000
    assert error["payload"].endswith("(1000000 characters)")
    assert live.engine.holder.mode == before
    assert all(len(r.getMessage()) < 1000 for r in caplog.records if "refused" in r.getMessage())


async def test_a_retained_command_is_not_replayed_on_connect(broker: Broker, listener: Listener) -> None:
    await listener.publish("smartsofar/set/mode", "standby", retain=True)  # someone left it on the broker
    async with bridged(broker.url) as site:
        error = json.loads(await listener.wait_for("smartsofar/error"))
        assert "retained" in error["error"] and site.engine.holder.mode.mode is Mode.AUTO
    await listener.publish("smartsofar/set/mode", "", retain=True)  # clear it from the broker


async def test_sofar2mqtt_topics_for_people_moving_from_it(live: Bridged, listener: Listener) -> None:
    await listener.publish("Sofar2mqtt/set/discharge", "800")
    assert await eventually(lambda: live.engine.holder.mode.manual_power_w == -800)
    assert live.engine.holder.mode.mode is Mode.MANUAL
    await listener.publish("Sofar2mqtt/set/standby", "true")
    assert await eventually(lambda: live.engine.holder.mode.mode is Mode.STANDBY)


async def test_an_offline_unit_makes_its_entities_unavailable(live: Bridged, listener: Listener) -> None:
    await listener.wait_for("smartsofar/unit/2/availability", lambda p: p == "online")
    live.engine.offline.add(2)
    live.cycle()
    assert await listener.wait_for("smartsofar/unit/2/availability", lambda p: p == "offline")
    live.engine.offline.clear()
    live.cycle()
    assert await listener.wait_for("smartsofar/unit/2/availability", lambda p: p == "online")


async def test_home_assistant_restarting_gets_the_discovery_again_once(live: Bridged, listener: Listener) -> None:
    topic = f"homeassistant/select/{NODE}/mode/config"
    await listener.wait_for(topic)
    seen = len(listener.messages[topic])
    for _ in range(3):  # one birth, heard three times
        await listener.publish("homeassistant/status", "online")
    await asyncio.sleep(0.1)
    assert len(listener.messages[topic]) == seen  # not at once: after a short random delay
    assert await eventually(lambda: len(listener.messages[topic]) > seen)
    await asyncio.sleep(0.6)
    assert len(listener.messages[topic]) == seen + 1


async def test_a_retained_birth_on_connecting_is_not_answered_twice(broker: Broker, listener: Listener) -> None:
    await listener.publish("homeassistant/status", "online", retain=True)
    topic = f"homeassistant/select/{NODE}/mode/config"
    async with bridged(broker.url):
        await listener.wait_for(topic)
        await asyncio.sleep(0.8)
        assert len(listener.messages[topic]) == 1


async def test_the_bridge_survives_a_broker_restart(live: Bridged, broker: Broker) -> None:
    broker.stop()
    assert await eventually(lambda: not live.bridge.status()["connected"], 10)
    broker.start()  # the same port, an empty broker: nothing retained survived
    async with Listener(broker.port) as fresh:
        await fresh.wait_for("smartsofar/status", lambda p: p == "online", timeout_s=30)
        await fresh.wait_for(f"homeassistant/select/{NODE}/mode/config")
        await fresh.publish("smartsofar/set/mode", "standby")
        assert await eventually(lambda: live.engine.holder.mode.mode is Mode.STANDBY)


async def test_removed_units_lose_their_entities_and_a_stop_says_offline(broker: Broker, listener: Listener) -> None:
    gone = f"homeassistant/sensor/{NODE}/unit9_soc/config"  # left over from a unit no longer configured
    await listener.publish(gone, json.dumps({"name": "old", "unique_id": f"{NODE}_unit9_soc"}), retain=True)
    async with bridged(broker.url):
        await listener.wait_for(gone, lambda p: p == "")
    assert await eventually(lambda: listener.last("smartsofar/status") == "offline")
    assert await retained(broker.port, "smartsofar/status") == "offline"


# paho leaves the socket of a failed TLS handshake to the garbage collector (it is closed, with a warning):
# collected here, before the test ends, so that the warning is not raised in whichever test runs next.
@pytest.mark.filterwarnings("ignore:Exception ignored in.*ssl.SSLSocket:pytest.PytestUnraisableExceptionWarning")
@pytest.mark.filterwarnings("ignore:unclosed <ssl.SSLSocket:ResourceWarning")
async def test_mqtts_checks_the_broker_certificate(tls_broker: TlsBroker) -> None:
    url = f"mqtts://127.0.0.1:{tls_broker.broker.tls_port}"
    async with Listener(tls_broker.broker.port) as heard, bridged(url, tls_ca_file=str(tls_broker.ca)) as site:
        await heard.wait_for("smartsofar/status", lambda p: p == "online")
        assert site.bridge.status()["connected"]
    async with bridged(url, tls_ca_file=str(tls_broker.other_ca)) as site:
        status = site.bridge.status
        assert await eventually(lambda: status()["last_error"] is not None)
        assert not status()["connected"] and "certificate" in status()["last_error"].lower()
    gc.collect()
