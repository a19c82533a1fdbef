"""Benchmark: a 24 h soak in accelerated time, with faults, through the service's own long-lived parts.

    .venv/bin/python bench/soak.py                    # 24 simulated hours
    .venv/bin/python bench/soak.py --hours 4          # quicker look
    .venv/bin/python bench/soak.py --write docs/benchmarks.md

The real engine (``Site``, with its monitor and meter poller) runs on the simulated plant (two units, a
measured day) one cycle per simulated second, and its snapshots feed what runs beside it in the service for
days: the history recorder (SQLite), the lifetime energy counters, and the MQTT bridge connected to a real
Mosquitto on 127.0.0.1. Faults, on a fixed schedule: the meter silent for 30 s every 2 h, one unit silent for
20 s every 3 h, and the broker stopped for 3 s (real time) and started again every 6 h.

Simulated time runs as fast as the engine goes; the next simulated second waits while a subscriber has
more than 10 snapshots not yet taken (a write to disk under way), as the service's real second would.

Measured:
- resident memory (VmRSS) after a 2 h warm-up and at the end, and the Python heap (tracemalloc) the same way;
- the history: every 10 s row of the run written (none lost through the faults), and the day's grid import
  and export as the recorder integrated them against the plant's own account;
- the lifetime counters on disk against the recorder's, and the MQTT bridge connected again after the
  last broker restart, with the broker holding a state message from after it.

Target (issue 17): memory flat within 5 MB after warm-up, nothing lost in the history.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import aiomqtt
from markers import write_between_markers
from processes import free_port, wait_for_port

from smartsofar.config import parse_config
from smartsofar.engine.commands import SiteCommands
from smartsofar.engine.monitor import UnitMonitor
from smartsofar.engine.site import Site
from smartsofar.engine.units import UnitRuntime
from smartsofar.meter.poller import MeterPoller
from smartsofar.modes import Mode, ModeState
from smartsofar.mqtt.bridge import MqttBridge
from smartsofar.mqtt.discovery import DiscoveryContext
from smartsofar.plan.service import Planning
from smartsofar.sim.household import DayProfile
from smartsofar.sim.inprocess import PlantUnitPort, SecondMeter
from smartsofar.sim.plant import Plant
from smartsofar.storage.energy_totals import EnergyTotals
from smartsofar.storage.history import History
from smartsofar.storage.recorder import HistoryRecorder
from smartsofar.tasks import cancel_and_wait

HOUR = 3600
DAY = Path(__file__).resolve().parents[2] / "shared" / "data" / "days" / "2007-06-10.csv"  # the measured day played
MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Mosquitto:
    """A broker process on 127.0.0.1 that can be stopped and started on the same port."""

    def __init__(self, directory: Path) -> None:
        self.port = free_port()
        self.conf = directory / "mosquitto.conf"
        self.conf.write_text(f"user root\nallow_anonymous true\npersistence false\nlistener {self.port} 127.0.0.1\n")
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(10)
            self.process = None


class SoakEngine:
    """The engine facade the MQTT bridge talks to, over the simulated site."""

    def __init__(self, config: Any, site: Site) -> None:
        self.config = config
        self.site = site
        self.commands = SiteCommands(site, None, (-6000, 6000))
        self.planning = Planning(config, site, None)

    @property
    def snapshots(self) -> Any:
        return self.site.snapshots

    @property
    def events(self) -> Any:
        return self.site.events

    def latest(self) -> Any:
        return self.site.snapshots.latest or self.site.snapshot()


async def soak(hours: float, directory: Path) -> dict[str, Any]:
    t = 0.0
    epoch0 = time.time() - hours * HOUR  # the simulated day ends now: the history keeps it (7 days of detail)

    def clock() -> float:
        return t

    household = DayProfile.from_csv(DAY)
    plant = Plant(household, [1, 2], clock=clock, day_start_s=0.0)
    meter = SecondMeter(noise_w=5.0)
    ports = {uid: PlantUnitPort(plant, uid) for uid in (1, 2)}
    broker = Mosquitto(directory)
    broker.start()
    config = parse_config({"buses": [{"url": "tcp://127.0.0.1:9", "units": [{"id": 1}, {"id": 2}]}],
                           "meter": {"url": "http://127.0.0.1:9"},
                           "mqtt": {"url": f"mqtt://127.0.0.1:{broker.port}", "publish_interval_s": 1},
                           "storage": {"data_dir": str(directory)}})
    units = [UnitRuntime(unit, ports[unit.id], "simulated bus", i + 1) for i, (_b, unit) in enumerate(config.units)]
    poller = MeterPoller(meter, interval_s=1.0, stale_after_s=5.0, clock=clock)
    site = Site(config.control, units, poller, ModeState(Mode.AUTO), clock=clock, wall_clock=lambda: epoch0 + t)
    site.keep_snapshots = True
    monitor = UnitMonitor(site)
    history = History(directory / "history.db")
    recorder = HistoryRecorder(history, flush_every_s=2.0)
    totals = EnergyTotals(directory, save_every_s=2.0)
    totals.load()
    engine = SoakEngine(config, site)
    bridge = MqttBridge(config.mqtt, engine, DiscoveryContext("soak", "http://127.0.0.1:8080/"),  # type: ignore[arg-type]
                        recorder.today, totals.persisted)
    tasks = [asyncio.create_task(recorder.run(site.snapshots)), asyncio.create_task(totals.run(site.snapshots)),
             asyncio.create_task(bridge.run())]
    await monitor.read_all()
    true_import_wh = true_export_wh = 0.0
    last_wh = 0.0
    warm: dict[str, float] = {}
    restarts = 0
    tracemalloc.start()
    started = time.monotonic()
    seconds = int(hours * HOUR)
    for second in range(1, seconds + 1):
        t = float(second)
        plant.advance(t)
        net_wh = sum(u.charged_wh - u.discharged_wh for u in plant.units.values())
        battery_w, last_wh = (net_wh - last_wh) * 3600, net_wh
        day_second = plant.second_of_day(t - 1.0)
        grid = household.load_w(day_second) - household.pv_w(day_second) + battery_w
        true_import_wh += max(grid, 0.0) / 3600
        true_export_wh += max(-grid, 0.0) / 3600
        meter.silent = second % (2 * HOUR) < 30 and second > 60  # the meter silent for 30 s every 2 h
        ports[2].offline = second % (3 * HOUR) < 20 and second > 60  # unit 2 silent for 20 s every 3 h
        if not meter.silent:
            meter.publish(grid, t)
        await poller.poll_once()
        await monitor.read_due(t)
        await site.step(t)
        # The recorder, the counters and the bridge take this snapshot. The service makes one a second; here the
        # next one waits while one of them is behind (a write to disk in progress), as a second would.
        await asyncio.sleep(0)
        while site.snapshots.backlog() > 10:  # noqa: ASYNC110  # polled: the subscribers signal nothing back
            await asyncio.sleep(0.002)
        if second % (6 * HOUR) == 0 and second < seconds:
            broker.stop()
            await asyncio.sleep(3.0)
            broker.start()
            restarts += 1
        if second == 2 * HOUR:
            warm = {"rss_mb": rss_mb(), "heap_mb": tracemalloc.get_traced_memory()[0] / 2**20}
    elapsed = time.monotonic() - started
    end = {"rss_mb": rss_mb(), "heap_mb": tracemalloc.get_traced_memory()[0] / 2**20}
    for _ in range(100):  # the last state, after the last restart
        if bridge.connected and bridge.published:
            break
        await asyncio.sleep(0.1)
    await asyncio.sleep(2.0)
    retained = await retained_state(broker.port)
    dropped = site.snapshots.dropped()
    site.snapshots.close()
    site.events.close()
    await cancel_and_wait(tasks)
    await recorder.flush(close_open_bucket=True)
    with sqlite3.connect(directory / "history.db") as db:
        rows = int(db.execute("SELECT count(*) FROM site_10s").fetchone()[0])
        energy = db.execute("SELECT sum(import_wh), sum(export_wh) FROM daily").fetchone()
    history.close()
    broker.stop()
    on_disk = json.loads((directory / "energy_totals.json").read_text())["site"]
    return {"hours": hours, "real_s": round(elapsed, 1), "warm": warm, "end": end, "restarts": restarts,
            "rows": rows, "rows_expected": seconds // 10, "import_wh": energy[0], "export_wh": energy[1],
            "true_import_wh": true_import_wh, "true_export_wh": true_export_wh,
            "totals_import_wh": on_disk["grid_import_wh"], "totals_export_wh": on_disk["grid_export_wh"],
            "mqtt_connected": bridge.connected, "retained_state": retained is not None,
            "commands": sum(p.commands for p in ports.values()), "dropped": dropped}


async def retained_state(port: int) -> dict[str, Any] | None:
    async with aiomqtt.Client("127.0.0.1", port, identifier="soak-check") as client:
        await client.subscribe("smartsofar/state")
        try:
            async with asyncio.timeout(3):
                async for message in client.messages:
                    payload = message.payload
                    state: dict[str, Any] = json.loads(payload if isinstance(payload, bytes | str) else b"{}")
                    return state
        except TimeoutError:
            return None
    return None


def table(r: dict[str, Any], command: str) -> str:
    grew_rss = r["end"]["rss_mb"] - r["warm"]["rss_mb"]
    grew_heap = r["end"]["heap_mb"] - r["warm"]["heap_mb"]
    return (f"Measured with `{command}`: {r['hours']:g} simulated hours in {r['real_s']:.0f} s, "
            f"{r['restarts']} broker restarts, {r['commands']} commands.\n\n"
            "| | after 2 h warm-up | at the end | grew |\n| --- | --- | --- | --- |\n"
            f"| resident memory | {r['warm']['rss_mb']:.1f} MB | {r['end']['rss_mb']:.1f} MB | {grew_rss:+.1f} MB |\n"
            f"| Python heap (tracemalloc) | {r['warm']['heap_mb']:.2f} MB | {r['end']['heap_mb']:.2f} MB | "
            f"{grew_heap:+.2f} MB |\n\n"
            "| history and counters | value | reference |\n| --- | --- | --- |\n"
            f"| 10 s rows written | {r['rows']} | {r['rows_expected']} (one per 10 s of the run) |\n"
            f"| snapshots dropped by a subscriber that fell behind | {r['dropped']} | 0 |\n"
            f"| grid import (recorder) | {r['import_wh']:.0f} Wh | {r['true_import_wh']:.0f} Wh (the plant) |\n"
            f"| grid export (recorder) | {r['export_wh']:.0f} Wh | {r['true_export_wh']:.0f} Wh (the plant) |\n"
            f"| lifetime import on disk | {r['totals_import_wh']:.0f} Wh | the recorder's {r['import_wh']:.0f} Wh |\n"
            f"| MQTT after the last restart | {'connected' if r['mqtt_connected'] else 'NOT connected'}, "
            f"{'state retained' if r['retained_state'] else 'NO state retained'} | |\n")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hours", type=float, default=24.0)
    parser.add_argument("--write", type=Path, help="put the result table into this Markdown file")
    args = parser.parse_args(argv)
    if not DAY.exists():
        print(f"{DAY} is missing: the soak plays that measured day (../shared is not there)", file=sys.stderr)
        return 2
    if not Path(MOSQUITTO).exists():
        print("mosquitto is not installed (scripts/install --dev installs it)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="smartsofar-soak-") as tmp:
        result = asyncio.run(soak(args.hours, Path(tmp)))
    command = "python bench/soak.py" + (f" --hours {args.hours:g}" if args.hours != 24 else "")
    text = table(result, command)
    print(text)
    print(json.dumps(result))
    if args.write:
        write_between_markers(args.write, "soak.py", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
