"""MQTT and Home Assistant discovery, against a real Mosquitto on 127.0.0.1 and a live service."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.live_service import LiveService, eventually, live_service
from tests.mqtt_broker import MOSQUITTO, Broker, Listener, make_certificates, retained

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto is not installed "
                                "(scripts/install --dev installs it)")
NODE = "smartsofar_smartsofar"


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    broker = Broker(tmp_path)
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
async def listener(broker: Broker) -> AsyncIterator[Listener]:
    async with Listener(broker.port) as heard:
        yield heard


def mqtt_config(broker: Broker, **extra: Any) -> dict[str, Any]:
    return {"mqtt": {"url": broker.url, "publish_interval_s": 1, **extra}}


@pytest.fixture
async def live(tmp_path: Path, broker: Broker, listener: Listener) -> AsyncIterator[LiveService]:
    async with live_service(tmp_path, config=mqtt_config(broker, sofar2mqtt_topics=True)) as site:
        await listener.wait_for("smartsofar/status", lambda p: p == "online")
        yield site


def live_port(listener: Listener) -> int:
    return listener.port


def discovery(listener: Listener) -> dict[str, dict[str, Any]]:
    return {topic: json.loads(values[-1]) for topic, values in listener.messages.items()
            if topic.startswith("homeassistant/") and topic.endswith("/config") and values[-1]}


async def test_discovery_describes_every_entity_home_assistant_needs(live: LiveService, listener: Listener) -> None:
    assert await eventually(lambda: len(discovery(listener)) == 15 + 2 * 12)  # the controller, 2 units
    # once the units' identity registers are read, their devices are described again with it
    assert await eventually(lambda: all("serial_number" in c["device"] for c in discovery(listener).values()
                                        if c["device"].get("model") == "ME3000SP"))
    configs = discovery(listener)
    mode_topic = f"homeassistant/select/{NODE}/mode/config"
    assert json.loads(await retained(live_port(listener), mode_topic) or "{}")["unique_id"] == f"{NODE}_mode"
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
            assert config["state_class"] == "total_increasing" and config["unit_of_measurement"] == "kWh"
        if config.get("device_class") == "power" and component == "sensor":
            assert config["state_class"] == "measurement" and config["unit_of_measurement"] == "W"
    units = {json.dumps(c["device"], sort_keys=True) for c in configs.values()
             if c["device"].get("model") == "ME3000SP"}
    assert len(units) == 2
    cellar = next(c["device"] for c in configs.values() if c["device"].get("name") == "cellar")
    assert cellar["serial_number"].startswith("SE1ES") and cellar["via_device"] == NODE
    unit_entity = configs[f"homeassistant/sensor/{NODE}/unit2_soc/config"]
    assert unit_entity["availability_mode"] == "all"
    assert {"topic": "smartsofar/unit/2/availability"} in unit_entity["availability"]
    assert listener.last("smartsofar/unit/2/availability") == "online"


async def test_state_is_published_and_retained(live: LiveService, listener: Listener) -> None:
    assert await eventually(lambda: live.battery_w() < -1200)
    text = await listener.wait_for("smartsofar/state", lambda p: json.loads(p)["battery_w"] is not None
                                   and json.loads(p)["battery_w"] < -1200)
    state = json.loads(text)
    assert state["mode"] == "auto" and state["allow_charge"] == "ON" and len(state["phases_w"]) == 3
    assert json.loads(await retained(live_port(listener), "smartsofar/state") or "{}")["mode"] == "auto"
    unit = listener.last_json("smartsofar/unit/1/state")
    assert unit["name"] == "garage" and unit["running_state"] in ("discharging", "check_discharge")


async def test_commands_drive_the_engine(live: LiveService, listener: Listener) -> None:
    await listener.publish("smartsofar/set/mode", "manual")
    await listener.publish("smartsofar/set/power", "1500")
    assert await eventually(lambda: abs(live.battery_w() - 1500) < 30)
    await listener.wait_for("smartsofar/state", lambda p: json.loads(p)["manual_power_w"] == 1500)
    await listener.publish("smartsofar/set/mode", "1")  # v1's "auto"
    await listener.publish("smartsofar/set/target", "25")
    await listener.publish("smartsofar/set/allow_charge", "OFF")
    await listener.wait_for("smartsofar/state", lambda p: json.loads(p)["target_w"] == 25
                            and json.loads(p)["allow_charge"] == "OFF" and json.loads(p)["mode"] == "auto")
    await listener.publish("smartsofar/set/standby", "standby")
    assert await eventually(lambda: live.battery_w() == 0)
    event = await listener.wait_for("smartsofar/events", lambda p: json.loads(p)["kind"] == "command")
    assert "status" in json.loads(event)


@pytest.mark.parametrize(("topic", "payload", "message"), [
    ("smartsofar/set/power", "lots", "power must be a number"),
    ("smartsofar/set/power", "500", "switch to manual"),
    ("smartsofar/set/mode", "turbo", "mode must be auto, manual or standby"),
    ("smartsofar/set/allow_charge", "maybe", "allow_charge must be on or off"),
    ("Sofar2mqtt/set/discharge", "-5", "positive number of watts"),
    ("Sofar2mqtt/set/charge", "99999", "between -6000 and 6000"),
], ids=["power not a number", "power in auto", "unknown mode", "bad switch", "negative Sofar2mqtt power",
        "Sofar2mqtt power out of range"])
async def test_a_bad_payload_is_answered_on_error_and_changes_nothing(
        live: LiveService, listener: Listener, topic: str, payload: str, message: str) -> None:
    assert live.service.engine is not None
    before = live.service.engine.site.mode
    await listener.publish(topic, payload)
    error = json.loads(await listener.wait_for("smartsofar/error", lambda p: json.loads(p)["topic"] == topic))
    assert message in error["error"] and error["payload"] == payload
    assert live.service.engine.site.mode == before


async def test_a_retained_command_is_not_replayed_on_connect(tmp_path: Path, broker: Broker,
                                                             listener: Listener) -> None:
    await listener.publish("smartsofar/set/mode", "standby", retain=True)  # someone left it on the broker
    async with live_service(tmp_path, config=mqtt_config(broker)) as site:
        error = json.loads(await listener.wait_for("smartsofar/error"))
        assert "retained" in error["error"]
        assert site.service.engine is not None and str(site.service.engine.site.mode.mode) == "auto"
    await listener.publish("smartsofar/set/mode", "", retain=True)  # clear it from the broker


async def test_sofar2mqtt_topics_for_people_moving_from_it(live: LiveService, listener: Listener) -> None:
    await listener.publish("Sofar2mqtt/set/discharge", "800")
    assert await eventually(lambda: abs(live.battery_w() + 800) < 30)
    await listener.publish("Sofar2mqtt/set/standby", "true")
    assert await eventually(lambda: live.battery_w() == 0)


async def test_an_offline_unit_makes_its_entities_unavailable(live: LiveService, listener: Listener) -> None:
    live.gateway.bus.faults.offline_units.add(2)
    assert await listener.wait_for("smartsofar/unit/2/availability", lambda p: p == "offline", timeout_s=30)
    live.gateway.bus.faults.offline_units.clear()
    assert await listener.wait_for("smartsofar/unit/2/availability", lambda p: p == "online", timeout_s=40)


async def test_home_assistant_restarting_gets_the_discovery_again(live: LiveService, listener: Listener) -> None:
    topic = f"homeassistant/select/{NODE}/mode/config"
    await listener.wait_for(topic)
    seen = len(listener.messages[topic])
    await listener.publish("homeassistant/status", "online")
    assert await eventually(lambda: len(listener.messages[topic]) > seen)


async def test_the_bridge_survives_a_broker_restart(live: LiveService, broker: Broker, tmp_path: Path) -> None:
    broker.stop()
    bridge_status = live.service.context.extra_status["mqtt"] if live.service.context else None
    assert bridge_status is not None
    assert await eventually(lambda: not bridge_status()["connected"], 10)
    broker.start()  # the same port, an empty broker: nothing retained survived
    async with Listener(broker.port) as fresh:
        await fresh.wait_for("smartsofar/status", lambda p: p == "online", timeout_s=30)
        await fresh.wait_for(f"homeassistant/select/{NODE}/mode/config")
        await fresh.publish("smartsofar/set/mode", "standby")
        assert await eventually(lambda: live.service.engine is not None
                                and str(live.service.engine.site.mode.mode) == "standby")


async def test_removed_units_lose_their_entities_and_a_stop_says_offline(
        tmp_path: Path, broker: Broker, listener: Listener) -> None:
    gone = f"homeassistant/sensor/{NODE}/unit9_soc/config"  # left over from a unit no longer configured
    await listener.publish(gone, json.dumps({"name": "old", "unique_id": f"{NODE}_unit9_soc"}), retain=True)
    async with live_service(tmp_path, config=mqtt_config(broker)):
        await listener.wait_for(gone, lambda p: p == "")
    assert await eventually(lambda: listener.last("smartsofar/status") == "offline")
    assert await retained(broker.port, "smartsofar/status") == "offline"


# paho leaves the socket of a failed TLS handshake to the garbage collector (it is closed, with a warning).
@pytest.mark.filterwarnings("ignore:Exception ignored in.*ssl.SSLSocket:pytest.PytestUnraisableExceptionWarning")
async def test_mqtts_checks_the_broker_certificate(tmp_path: Path) -> None:
    ca, cert, key = make_certificates(tmp_path)
    other_ca, _, _ = make_certificates(tmp_path, "other")
    broker = Broker(tmp_path, tls=(cert, key))
    broker.start()
    (tmp_path / "good").mkdir()
    (tmp_path / "wrong").mkdir()
    try:
        url = f"mqtts://127.0.0.1:{broker.tls_port}"
        async with Listener(broker.port) as heard, live_service(tmp_path / "good", config={
                "mqtt": {"url": url, "tls_ca_file": str(ca)}}) as site:
            await heard.wait_for("smartsofar/status", lambda p: p == "online")
            assert site.service.context is not None
            assert site.service.context.extra_status["mqtt"]()["connected"]
        wrong_ca = {"mqtt": {"url": url, "tls_ca_file": str(other_ca)}}
        async with live_service(tmp_path / "wrong", config=wrong_ca) as site:
            assert site.service.context is not None
            status = site.service.context.extra_status["mqtt"]
            assert await eventually(lambda: status()["last_error"] is not None)
            assert not status()["connected"] and "certificate" in status()["last_error"].lower()
    finally:
        broker.stop()
