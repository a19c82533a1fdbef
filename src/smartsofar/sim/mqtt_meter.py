"""A simulated meter publishing to MQTT, as a Tasmota SML reader or a bridge would: one JSON message per update.

The message is ``{"power": W, "phases": [W, W, W], "import_kwh": kWh, "export_kwh": kWh}``; SmartSofar reads
it with ``mqtt://HOST:PORT/TOPIC?path=power&phases=phases.0,phases.1,phases.2&import=import_kwh&export=
export_kwh&energy_scale=1000``. With the meter's ``update_period_s`` set, a message goes out at each update;
otherwise every ``interval_s``.
"""

from __future__ import annotations

import json

import aiomqtt

from smartsofar.sim.meter_server import SimMeter

SIM_MQTT_QUERY = "path=power&phases=phases.0,phases.1,phases.2&import=import_kwh&export=export_kwh&energy_scale=1000"


def message(meter: SimMeter) -> bytes:
    """The message for the meter's values now."""
    phases = meter.phases()
    state = meter.state
    return json.dumps({"power": round(sum(p.power for p in phases), 1), "phases": [p.power for p in phases],
                       "import_kwh": round(sum(state.import_wh) / 1000, 4),
                       "export_kwh": round(sum(state.export_wh) / 1000, 4)}).encode()


async def publish_meter(meter: SimMeter, host: str, port: int, topic: str, interval_s: float = 1.0) -> None:
    """Publish until cancelled (an outage fault publishes nothing; a frozen one repeats itself)."""
    async with aiomqtt.Client(host, port) as client:
        while True:
            await meter.next_update(interval_s)
            if not meter.faults.outage:
                await client.publish(topic, message(meter))
