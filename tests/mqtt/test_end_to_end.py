"""MQTT end to end: a live service against both simulators and a real Mosquitto. Home Assistant's commands
move the simulated units, and the state it reads follows them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.live_service import eventually, live_service
from tests.mqtt_broker import MOSQUITTO, Broker, Listener

pytestmark = pytest.mark.skipif(not Path(MOSQUITTO).exists(), reason="mosquitto is not installed "
                                "(scripts/install --dev installs it)")


@pytest.mark.slow
async def test_home_assistant_drives_the_units_and_sees_them_follow(tmp_path: Path, broker: Broker) -> None:
    config = {"mqtt": {"url": broker.url, "publish_interval_s": 1}}
    async with Listener(broker.port) as ha:
        async with live_service(tmp_path, config=config) as live:
            await ha.wait_for("smartsofar/status", lambda p: p == "online")
            state = await ha.wait_for("smartsofar/state", lambda p: (json.loads(p)["battery_w"] or 0) < -1200)
            assert json.loads(state)["mode"] == "auto"  # the house's 1300 W is covered by the batteries
            await ha.publish("smartsofar/set/mode", "manual")
            await ha.publish("smartsofar/set/power", "1500")
            assert await eventually(lambda: abs(live.battery_w() - 1500) < 30)
            await ha.wait_for("smartsofar/state", lambda p: (json.loads(p)["battery_w"] or 0) > 1400)
            await ha.wait_for("smartsofar/unit/1/state", lambda p: json.loads(p)["running_state"] == "charging")
            event = await ha.wait_for("smartsofar/events", lambda p: json.loads(p)["kind"] == "command")
            assert json.loads(event)["status"]["result"] == "accepted"
            await ha.publish("smartsofar/set/standby", "standby")
            assert await eventually(lambda: live.battery_w() == 0)
        await ha.wait_for("smartsofar/status", lambda p: p == "offline")  # a clean stop says so


@pytest.mark.slow
async def test_the_energy_dashboard_counters_never_drop_across_a_restart(tmp_path: Path, broker: Broker) -> None:
    config = {"mqtt": {"url": broker.url, "publish_interval_s": 1}}
    async with Listener(broker.port) as ha:
        async with live_service(tmp_path, config=config) as live:
            await ha.wait_for("smartsofar/state", lambda p: (json.loads(p)["battery_w"] or 0) < -1200)
            assert await eventually(lambda: (live.service.totals is not None
                                             and live.service.totals.site["discharged_wh"] > 3), 20)
            node = next(t.split("/")[2] for t in ha.messages if t.startswith("homeassistant/sensor/"))
            first = json.loads(ha.last(f"homeassistant/sensor/{node}/battery_discharged_total/config") or "{}")
        saved = json.loads((tmp_path / "data" / "energy_totals.json").read_text())
        assert saved["site"]["discharged_wh"] > 3  # written on the way out
        assert first["default_entity_id"] == "sensor.smartsofar_battery_discharged_total"
        assert first["device"]["configuration_url"].startswith("http://127.0.0.1:")
        ha.messages.clear()
        async with live_service(tmp_path, config=config):
            state = json.loads(await ha.wait_for("smartsofar/state"))
            assert state["battery_discharged_kwh"] >= round(saved["site"]["discharged_wh"] / 1000, 3)
            again = await ha.wait_for(f"homeassistant/sensor/{node}/battery_discharged_total/config")
            assert json.loads(again)["unique_id"] == first["unique_id"]  # the same site, the same entities
