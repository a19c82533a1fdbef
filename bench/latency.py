"""Benchmark: from the meter's measurement to the command on the wire, for each meter path.

    .venv/bin/python bench/latency.py                         # everything, printed
    .venv/bin/python bench/latency.py --write docs/benchmarks.md
    .venv/bin/python bench/latency.py --paths mqtt,sma --steps 10

**Part 1, in real time.** For each path the real engine (``app.build_engine``) runs against the simulated
units behind an RTU-over-TCP gateway on 127.0.0.1 and a simulated meter that measures on its own clock
(every second; the SMA meter every 200 ms), reached through the real client of that path:

- ``shelly-polled``: the simulated Pro 3EM over HTTP, polled (push off; polls steered by ``PollPhase``);
- ``shelly-pushed``: the same device's WebSocket notifications;
- ``mqtt``: the meter published to a real Mosquitto at each update;
- ``sma``: Speedwire datagrams multicast from 127.0.0.1.

The house steps between 500 W and 2500 W every 5 s, at instants unrelated to the meter's clock. For each step:
the meter's first measurement that includes it (``m``); the arrival of the first sample showing it that the
poller hands to the control (``a``); the first command on the wire that answers it (``c``, a 0x42 frame seen
by the simulated gateway, changing a unit's power by more than 300 W), and when the engine handed that
command to the bus (``i``), in a control cycle that started at ``s``. Reported: ``m -> a`` (what the meter
and its transport impose: waiting for the poll, the broker), ``a -> s`` (the hand-over to the cycle; a
sample that arrives while a cycle runs, its command on the bus, waits for that cycle to end), ``s -> i``
*our software time* (the cycle that takes the sample: the poller's hand-over, the decision, the command
built and given to the bus), ``i -> c`` the bus (a half-duplex RS485 line that may be finishing a unit's
read, then the frame), and ``m -> c`` in all; median and p99 over the steps.

**Part 2, tracking.** The robust-control benchmark's busiest second-resolution site, simulated in virtual
time (``smartsofar.sim.simulate``) with each path's timing: a 1 Hz meter polled at three chance phases
(0.1, 0.5 and 0.9 s after it updates), polled with steering from the worst of them, pushed (0.05 s), and a
5 Hz meter (0.01 s, averaged to 1 s by the poller).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from markers import write_between_markers
from pymodbus.pdu import ModbusPDU

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the test suite's Mosquitto runner

from smartsofar.app import build_engine  # noqa: E402
from smartsofar.bus.client import Bus  # noqa: E402
from smartsofar.bus.priority import Priority  # noqa: E402
from smartsofar.config import parse_config  # noqa: E402
from smartsofar.engine.site import Site  # noqa: E402
from smartsofar.sim.controllers import simulate  # noqa: E402
from smartsofar.sim.household import SecondSeries  # noqa: E402
from smartsofar.sim.inverter_server import InverterBus, serve_tcp  # noqa: E402
from smartsofar.sim.meter_server import SimMeter, create_meter_app  # noqa: E402
from smartsofar.sim.mqtt_meter import SIM_MQTT_QUERY, publish_meter  # noqa: E402
from smartsofar.sim.plant import Plant  # noqa: E402
from smartsofar.sim.simulate import Scenario  # noqa: E402
from smartsofar.sim.sma_meter import send_speedwire  # noqa: E402
from smartsofar.sofar.passive import PassiveCommand, PassiveRequest, PassiveResponse  # noqa: E402
from smartsofar.web.server import start_http  # noqa: E402
from tests.mqtt_broker import MOSQUITTO, Broker, free_port  # noqa: E402

PATHS = ("shelly-polled", "shelly-pushed", "mqtt", "sma")
LOW_W, HIGH_W = 500.0, 2500.0
STEP_EVERY_S = 5.0
WARM_UP_S = 12.0
SHOWS_STEP_W = 1000.0  # a sample this far from the level before the step shows it
ANSWERS_STEP_W = 300.0  # a command changing a unit's power this much answers it
SMA_GROUP = "239.12.255.254"
SHARED = ROOT.parent / "shared" / "data" / "hz"
TRACKING_SITE = ("tracebase_composite_C_couple_3days_1s.csv", 64200, "hope_melpitz_20130908_sensor28_1s_pv5kWp.csv",
                 150.0)  # bench/robust.py's "tracebase couple (1 s) + PV 1 s"
TRACKING_SECONDS = 1800
# name: (meter period s, phase s, steered, what each sample says of its age (s; None: nothing))
TRACKING_PATHS: dict[str, tuple[float, float, bool, float | None]] = {
    "1 Hz polled, 0.1 s after the update": (1.0, 0.1, False, None),
    "1 Hz polled, 0.5 s after": (1.0, 0.5, False, None),
    "1 Hz polled, 0.9 s after": (1.0, 0.9, False, None),
    "1 Hz polled, steered (from 0.9 s)": (1.0, 0.9, True, None),
    "1 Hz pushed over MQTT, 0.05 s": (1.0, 0.05, False, None),
    "1 Hz pushed by the Shelly (at most 0.2 s old), 0.05 s": (1.0, 0.05, False, 0.2),
    "5 Hz pushed by the SMA meter (at most 0.2 s old), 0.01 s": (0.2, 0.01, False, 0.2),
}


@dataclass
class SteppingHouse:
    """A house whose load the benchmark switches."""

    load: float = LOW_W

    def load_w(self, second_of_day: float) -> float:
        return self.load

    def pv_w(self, second_of_day: float) -> float:
        return 0.0


@dataclass
class Trace:
    """What one run saw, in the plant's clock (monotonic seconds)."""

    steps: list[float] = field(default_factory=list)  # when the house stepped
    measurements: list[float] = field(default_factory=list)
    handed: list[tuple[float, float]] = field(default_factory=list)  # (arrival, grid W) given to the control
    commands: list[tuple[float, int, float]] = field(default_factory=list)  # (time, unit, battery W)
    issued: list[tuple[float, int]] = field(default_factory=list)  # (time, unit) a 0x42 was given to the bus
    cycles: list[float] = field(default_factory=list)  # when each control cycle started

    def command_seen(self, request: ModbusPDU, now: float) -> None:
        if isinstance(request, PassiveRequest):
            with contextlib.suppress(ValueError):
                command = PassiveCommand.from_register(request.address, request.value)
                self.commands.append((now, request.dev_id, float(command.battery_w)))


@dataclass(frozen=True)
class StepTiming:
    meter_s: float  # measurement -> arrival
    queued_s: float  # arrival of the triggering sample -> the start of the cycle that took it
    ours_s: float  # that cycle's start -> command given to the bus
    bus_s: float  # given to the bus -> on the wire
    total_s: float  # measurement -> command on the wire
    first_sample: bool  # the first sample showing the step triggered the command


def analyse(trace: Trace) -> list[StepTiming]:
    """One timing per step that could be followed from measurement to command."""
    out = []
    for at in trace.steps:
        m = next((t for t in trace.measurements if t >= at), None)
        if m is None:
            continue
        before = [w for t, w in trace.handed if t < at]
        if not before:
            continue
        shown = next(((t, w) for t, w in trace.handed if t >= m and abs(w - before[-1]) > SHOWS_STEP_W), None)
        if shown is None:
            continue
        a = shown[0]
        last: dict[int, float] = {}
        answer = None
        for t, unit, watts in trace.commands:
            if t < at:
                last[unit] = watts
            elif t >= a and abs(watts - last.get(unit, 0.0)) > ANSWERS_STEP_W:
                answer = (t, unit)
                break
        if answer is None:
            continue
        wire, unit = answer
        issued = max((t for t, u in trace.issued if u == unit and t <= wire), default=wire)
        trigger = max(t for t, _ in trace.handed if t <= issued)
        cycle = max((t for t in trace.cycles if t <= issued), default=trigger)
        start = max(cycle, trigger)  # a cycle that began before the sample arrived took it at once
        out.append(StepTiming(a - m, start - trigger, issued - start, wire - issued, wire - m, trigger == a))
    return out


@contextlib.asynccontextmanager
async def meter_path(name: str, meter: SimMeter, directory: Path) -> AsyncIterator[dict[str, Any]]:
    """The path's front end running; yields the ``[meter]`` section that reaches it."""
    tasks: list[asyncio.Task[None]] = []
    if name.startswith("shelly"):
        http = await start_http(create_meter_app(meter, "pro3em", push=name == "shelly-pushed"))
        try:
            yield {"url": http.url, "model": "pro3em", "push": "on" if name == "shelly-pushed" else "off"}
        finally:
            await http.stop()
        return
    if name == "mqtt":
        broker = Broker(directory)
        broker.start()
        tasks.append(asyncio.create_task(publish_meter(meter, "127.0.0.1", broker.port, "site/grid")))
        section = {"url": f"mqtt://127.0.0.1:{broker.port}/site/grid?{SIM_MQTT_QUERY}"}
    else:
        port = free_port()
        tasks.append(asyncio.create_task(send_speedwire(meter, SMA_GROUP, port)))
        section = {"url": f"sma://{SMA_GROUP}:{port}?interface=127.0.0.1"}
    try:
        yield section
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if name == "mqtt":
            broker.stop()


async def run_path(name: str, steps: int) -> list[StepTiming]:
    """One path in real time."""
    house = SteppingHouse()
    plant = Plant(house, unit_ids=(1, 2))
    trace = Trace()
    bus = InverterBus(plant, latency_s=0.05)
    bus.on_request = trace.command_seen
    server = await serve_tcp(bus, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    meter = SimMeter(plant, noise_w=2.0, update_period_s=0.2 if name == "sma" else 1.0)
    meter.on_measure = trace.measurements.append
    updates = asyncio.create_task(meter.run_updates())
    with tempfile.TemporaryDirectory() as scratch:
        async with server, meter_path(name, meter, Path(scratch)) as section:
            config = parse_config({"buses": [{"url": f"tcp://127.0.0.1:{port}", "units": [{"id": 1}, {"id": 2}]}],
                                   "meter": section, "storage": {"data_dir": scratch}})
            engine = await build_engine(config, Path(scratch))
            poller = engine.poller
            assert poller is not None
            for engine_bus in engine.buses:
                watch_commands(engine_bus, trace.issued)
            watch_cycles(engine.site, trace.cycles)
            await engine.runner.start()
            wake = poller.on_poll

            def handed_on() -> None:
                if poller.latest is not None:
                    trace.handed.append((poller.latest.taken_at, poller.latest.power_w))
                if wake is not None:
                    wake()

            poller.on_poll = handed_on
            try:
                await asyncio.sleep(WARM_UP_S)
                for index in range(steps):
                    await asyncio.sleep(STEP_EVERY_S + 0.37 * (index % 3))  # not in step with the meter's clock
                    trace.steps.append(plant.now())
                    house.load = HIGH_W if house.load == LOW_W else LOW_W
                await asyncio.sleep(STEP_EVERY_S)
            finally:
                await engine.runner.stop()
                await engine.aclose()
    updates.cancel()
    await asyncio.gather(updates, return_exceptions=True)
    return analyse(trace)


def quantile(values: list[float], q: float) -> float:
    """The q-quantile (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def ms(seconds: float) -> str:
    """Milliseconds, with a decimal below 10 ms."""
    value = seconds * 1000
    return f"{value:.1f}" if value < 10 else f"{value:.0f}"


def latency_table(results: dict[str, list[StepTiming]]) -> list[str]:
    lines = ["| meter path | steps | measurement → arrival | arrival → its cycle | cycle → command to the bus "
             "(ours) | bus → wire | measurement → wire | acted on the first sample |",
             "|---|---|---|---|---|---|---|---|"]
    for name, timings in results.items():
        if not timings:
            lines.append(f"| {name} | 0 | – | – | – | – | – | – |")
            continue

        def cell(values: list[float]) -> str:
            return f"{ms(statistics.median(values))} / {ms(quantile(values, 0.99))} ms"

        first = sum(t.first_sample for t in timings)
        lines.append(f"| {name} | {len(timings)} | {cell([t.meter_s for t in timings])} | "
                     f"{cell([t.queued_s for t in timings])} | "
                     f"{cell([t.ours_s for t in timings])} | {cell([t.bus_s for t in timings])} | "
                     f"{cell([t.total_s for t in timings])} | {first} of {len(timings)} |")
    return [*lines, "", "Each cell: median / p99 over the steps."]


def watch_cycles(site: Site, starts: list[float]) -> None:
    """Note when each control cycle starts."""
    step = site.step

    async def timed(*args: Any, **kwargs: Any) -> Any:
        starts.append(time.monotonic())
        return await step(*args, **kwargs)

    site.step = timed  # type: ignore[method-assign]


def watch_commands(bus: Bus, issued: list[tuple[float, int]]) -> None:
    """Note when the engine gives the bus a 0x42 command (before any wait for the line)."""
    exchange = bus.request

    async def request(unit: int, build: Callable[[], ModbusPDU], expected: type[Any], valid: Callable[[Any], bool],
                      retries: int | None = None, priority: Priority = Priority.READ) -> Any:
        if expected is PassiveResponse:
            issued.append((time.monotonic(), unit))
        return await exchange(unit, build, expected, valid, retries, priority)

    bus.request = request  # type: ignore[method-assign]


async def run_tracking(name: str, period: float, phase: float, steered: bool, lag: float | None) -> dict[str, Any]:
    load_file, start, pv_file, base = TRACKING_SITE
    household = SecondSeries.from_files(SHARED / load_file, SHARED / pv_file, base_load_w=base, start_second=start)
    scenario = Scenario(household, start_s=0.0, duration_s=TRACKING_SECONDS, meter_period_s=period,
                        meter_phase_s=phase, steer_polls=steered, meter_lag_s=lag)
    return {"path": name, **await simulate(scenario)}


def tracking_table(rows: list[dict[str, Any]]) -> list[str]:
    lines = ["| meter path (as the engine gets the samples) | capture | mean abs error | commands/h |",
             "|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row['path']} | {row['capture']:.3f} | {row['mean_abs_error_w']:.0f} W | "
                     f"{row['commands_per_hour']:.0f} |")
    return lines


async def main_async(args: argparse.Namespace) -> list[str]:
    out = [f"Measured {time.strftime('%Y-%m-%d')} with `.venv/bin/python bench/latency.py` "
           f"({args.steps} steps per path).", "", "**From the meter's measurement to the command on the wire**, "
           "real time, real clients, simulated meter and units on 127.0.0.1:", ""]
    results: dict[str, list[StepTiming]] = {}
    for name in args.paths:
        if name == "mqtt" and not args.have_mosquitto:
            print("mqtt: mosquitto is not installed (scripts/install --dev installs it); skipped", file=sys.stderr)
            continue
        results[name] = await run_path(name, args.steps)
        print(f"{name}: {len(results[name])} steps timed", file=sys.stderr)
    out += latency_table(results)
    if not SHARED.exists():
        out += ["", f"Tracking: {SHARED} is missing (the shared data directory); not measured."]
        return out
    rows = [await run_tracking(name, *timing) for name, timing in TRACKING_PATHS.items()]
    out += ["", f"**Tracking with each meter path**: bench/robust.py's tracebase couple (1 s) + PV 1 s site, "
            f"{TRACKING_SECONDS // 60} minutes, simulated (matched plant):", "", *tracking_table(rows)]
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--paths", default=",".join(PATHS), type=lambda s: s.split(","))
    parser.add_argument("--steps", type=int, default=24)
    parser.add_argument("--write", type=Path, help="put the tables between the latency markers of this file")
    args = parser.parse_args()
    args.have_mosquitto = Path(MOSQUITTO).exists()
    logging.basicConfig(level=logging.ERROR)
    lines = asyncio.run(main_async(args))
    print("\n".join(lines))
    if args.write:
        write_between_markers(args.write, "latency", "\n".join(lines))


if __name__ == "__main__":
    main()
