"""SmartSofar v1.0's control loop (the ESP8266 firmware), re-implemented as a benchmark baseline only.

Faithful to its timings and rules, as described in the shared protocol reference (§9.6, §9.8) and the
compatibility notes:

- the Shelly is read every 2 s; a reading within ±40 W of zero changes nothing;
- below 500 W the meter is re-read 1 s apart until two consecutive readings agree within 30 W (at most
  10 readings), and the average of all readings taken is used;
- the setpoint integrates blindly (``setpoint -= meter``), clamped to ±3000 W per unit, and is split
  equally: every unit is sent its share, 300 ms apart, then the loop pauses 2 s;
- every 10 s each unit is read (with the firmware's pause quirk), and when every unit reports the wait
  state the setpoint is reset to 0; every 15 s each unit gets a heartbeat.

Bus and meter exchanges take the time they take on a real 9600-baud line.
"""

from __future__ import annotations

from smartsofar.sim.simulate import Simulation
from smartsofar.sofar.limits import MAX_UNIT_POWER_W
from smartsofar.sofar.passive import PassiveCommand
from smartsofar.sofar.status import RunningState

SHELLY_EVERY_S = 2.0
UNIT_READ_EVERY_S = 10.0
HEARTBEAT_EVERY_S = 15.0
DEADBAND_W = 40.0
STABLE_WITHIN_W = 30.0
IMMEDIATE_ABOVE_W = 500.0
MAX_READINGS = 10
PAUSE_BETWEEN_UNITS_S = 0.3
PAUSE_AFTER_ROUND_S = 2.0
READ_S = 0.4  # 86 registers at 9600 baud (~184 ms on the wire) plus the unit's ~150 ms
COMMAND_S = 0.2
SHELLY_S = 0.05


async def run_seed_v1(sim: Simulation) -> None:
    """Run v1's loop until the simulation ends."""
    ports = list(sim.ports.values())
    limit = MAX_UNIT_POWER_W * len(ports)
    setpoint = 0.0
    last_read = last_heartbeat = float("-inf")
    while not sim.done:
        started = sim.t
        if sim.t - last_read >= UNIT_READ_EVERY_S:
            states = []
            for port in ports:
                states.append((await port.read()).running_state)
                await sim.sleep(READ_S)
                await sim.sleep(READ_S)  # ensure_delay_between_reads sleeps the elapsed time, not the rest
                await sim.sleep(PAUSE_BETWEEN_UNITS_S)
            last_read = sim.t
            if all(state is RunningState.WAIT for state in states):
                setpoint = 0.0
        if sim.t - last_heartbeat >= HEARTBEAT_EVERY_S:
            for port in ports:
                await port.heartbeat()
                await sim.sleep(COMMAND_S)
            last_heartbeat = sim.t
        readings = [(await sim.meter.read()).power_w]
        await sim.sleep(SHELLY_S)
        if DEADBAND_W < abs(readings[0]) <= IMMEDIATE_ABOVE_W:
            while len(readings) < MAX_READINGS and not sim.done:
                await sim.sleep(1.0)
                readings.append((await sim.meter.read()).power_w)
                if abs(readings[-1] - readings[-2]) <= STABLE_WITHIN_W or abs(readings[-1]) > IMMEDIATE_ABOVE_W:
                    break
        measured = sum(readings) / len(readings)
        if abs(measured) > DEADBAND_W:
            setpoint = max(-limit, min(limit, setpoint - measured))
            share = round(setpoint / len(ports))
            for port in ports:
                await port.command(PassiveCommand.battery(share))
                await sim.sleep(COMMAND_S + PAUSE_BETWEEN_UNITS_S)
            await sim.sleep(PAUSE_AFTER_ROUND_S)
        await sim.sleep(max(0.0, SHELLY_EVERY_S - (sim.t - started)))
        if sim.t == started:
            await sim.sleep(SHELLY_EVERY_S)
