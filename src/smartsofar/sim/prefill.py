"""A week of history for the demo, made in accelerated simulation before anyone looks at the History page.

The real engine (``engine.site.Site``) runs against the demo's plant (the same household day, the same two
units) in simulated time, from local midnight ``days`` ago up to now, and its snapshots go through the real
``HistoryRecorder`` into the demo's history database: 10 s means, 5 minute means and the daily energies, as if
the demo had been running all week. For speed the simulated meter publishes a 10 s mean and the engine
decides once per sample (the live demo decides every second); the plant itself is integrated each step.

So that the week does not look like one day seven times, each day before today is the demo's day with its own
weather and routine (``varied_days``, a fixed seed): its PV scaled by a sky drawn from clear to overcast, its
load scaled by up to ±15 % and shifted by up to ±40 minutes. Today is the day itself, as the live demo plays it.

It runs as its own process (``python -m smartsofar.sim.prefill``), started by the demo, so it takes the
other core and never the live control loop's time, and its simulated log lines stay out of the demo's log.
SQLite's write-ahead log lets both write the same file. A database that already holds history for the
range (a kept demo directory) is left as it is.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import time
from pathlib import Path

from smartsofar.config import ControlConfig, UnitConfig
from smartsofar.engine.monitor import UnitMonitor
from smartsofar.engine.site import Site
from smartsofar.engine.units import UnitRuntime
from smartsofar.meter.poller import MeterPoller
from smartsofar.modes import Mode, ModeState
from smartsofar.sim.cli import household_from_arg
from smartsofar.sim.household import DayProfile
from smartsofar.sim.inprocess import PlantUnitPort, SecondMeter
from smartsofar.sim.plant import Plant
from smartsofar.storage.history import History
from smartsofar.storage.recorder import HistoryRecorder, local_day

STEP_S = 10.0  # one meter sample and one decision per step
DAY_S = 86400.0
SKIES = (1.0, 0.9, 0.7, 0.45, 0.25)  # the PV of a clear, hazy, cloudy, overcast and grey day, of the day's
LOAD_SCALE = 0.15  # up to this much more or less load
SHIFT_MIN = 40  # the routine up to this many minutes earlier or later
SEED = 2007


def varied_days(day: DayProfile, before: int, seed: int = SEED) -> DayProfile:
    """``before`` days of ``day``, each with its own sky and routine, then ``day`` itself (today)."""
    rng = random.Random(seed)
    minutes = 1440
    load: list[float] = []
    pv: list[float] = []
    for _ in range(before):
        sky, scale = rng.choice(SKIES), 1 + rng.uniform(-LOAD_SCALE, LOAD_SCALE)
        shift = rng.randint(-SHIFT_MIN, SHIFT_MIN)
        load += [day.load_minute_w((m - shift) % minutes) * scale for m in range(minutes)]
        pv += [day.pv_minute_w(m) * sky for m in range(minutes)]
    load += [day.load_minute_w(m) for m in range(minutes)]
    pv += [day.pv_minute_w(m) for m in range(minutes)]
    return DayProfile(load, pv, name=f"{day.name}, varied")


def local_midnight(t: float, days_before: int) -> float:
    """Unix time of the local midnight ``days_before`` days before the day of ``t``."""
    lt = time.localtime(t)
    midnight = time.mktime((lt.tm_year, lt.tm_mon, lt.tm_mday - days_before, 0, 0, 0, 0, 0, -1))
    return float(midnight)


def already_filled(history: History, start: float, end: float) -> bool:
    """True when the database has daily energies for a day of the range."""
    return bool(history.days(local_day(start), local_day(end)))


async def prefill(history: History, day: str, unit_ids: list[int], start: float, end: float,
                  soc_pct: float = 50.0) -> int:
    """Simulate from ``start`` to ``end`` (Unix times) into ``history``; how many 10 s rows were written."""
    given = household_from_arg(day)
    assert isinstance(given, DayProfile)
    days_before = round((local_midnight(end, 0) - start) / DAY_S)
    household = varied_days(given, days_before) if given.days == 1 and start == local_midnight(start, 0) else given
    t = 0.0

    def clock() -> float:
        return t

    lt = time.localtime(start)
    plant = Plant(household, unit_ids, soc_pct=soc_pct, clock=clock,
                  day_start_s=lt.tm_hour * 3600 + lt.tm_min * 60 + lt.tm_sec)
    meter = SecondMeter(noise_w=5.0)
    control = ControlConfig()
    units = [UnitRuntime(UnitConfig(id=uid), PlantUnitPort(plant, uid), "simulated bus", i + 1)
             for i, uid in enumerate(unit_ids)]
    poller = MeterPoller(meter, interval_s=STEP_S, stale_after_s=2 * STEP_S, clock=clock)
    site = Site(control, units, poller, ModeState(Mode.AUTO), clock=clock, wall_clock=lambda: start + t)
    site.keep_snapshots = True
    monitor = UnitMonitor(site)
    recorder = HistoryRecorder(history)
    recorder.pv_measured = True  # the simulated units report the plant's PV, as a fitted PV CT does
    await monitor.read_all()
    written = 0
    last_wh = 0.0
    next_flush = DAY_S
    while start + t < end:
        t += STEP_S
        plant.advance(t)
        net_wh = sum(u.charged_wh - u.discharged_wh for u in plant.units.values())
        battery_w, last_wh = (net_wh - last_wh) * 3600 / STEP_S, net_wh
        second = plant.second_of_day(t - STEP_S / 2)
        meter.publish(household.load_w(second) - household.pv_w(second) + battery_w, t)
        await poller.poll_once()
        await monitor.read_due(t)
        await site.step(t)
        snapshot = site.snapshots.latest
        if snapshot is not None:
            recorder.add(snapshot)
        if t >= next_flush or start + t >= end:  # a day at a time: the charts fill while it runs
            sites, unit_rows, energy = recorder.take_batch(close_open_bucket=True)
            await asyncio.to_thread(history.write, sites, unit_rows, energy)
            written += len(sites)
            next_flush += DAY_S
    await asyncio.to_thread(history.maintain, end)
    return written


def main(argv: list[str] | None = None) -> int:
    """``python -m smartsofar.sim.prefill --db FILE --day DAY --units 1,2 --days 7 [--until UNIX]``."""
    parser = argparse.ArgumentParser(prog="python -m smartsofar.sim.prefill", description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True, help="the history database to fill")
    parser.add_argument("--day", default="summer", help="a built-in day or a minute CSV, repeated every day")
    parser.add_argument("--units", default="1,2", help="the units' slave ids")
    parser.add_argument("--days", type=int, default=7, help="how many days before today (default 7)")
    parser.add_argument("--until", type=float, help="the end, Unix time (default now)")
    args = parser.parse_args(argv)
    end = args.until if args.until is not None else time.time()
    start = local_midnight(end, args.days)
    history = History(args.db)
    try:
        if already_filled(history, start, end):
            print(f"{args.db}: already holds history from {local_day(start)}: left as it is")
            return 0
        began = time.monotonic()
        rows = asyncio.run(prefill(history, args.day, [int(u) for u in args.units.split(",")], start, end))
        print(f"{args.db}: {rows} rows from {local_day(start)} to now, simulated in {time.monotonic() - began:.1f} s")
    finally:
        history.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
