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
