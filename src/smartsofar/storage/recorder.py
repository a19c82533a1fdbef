"""Turning the engine's snapshots into history: 10 s means and daily energies, written in batches.

Subscribes to the site's snapshots (about one a second), averages them over 10 s buckets, and integrates
energy per local day: grid import and export from the meter, battery charge and discharge from the units'
reports, PV (and so the house's load) where a unit's PV CT measures it. A CT reads 0 W at night just as a unit
without one does, so PV counts as measured once any unit has reported some (now, or on an earlier day in the
database): from then on the load is counted day and night, not only while the sun shines. A gap longer than
``MAX_GAP_S`` is not integrated. Batches go to the database every ``flush_every_s`` from a worker thread, so
the event loop never waits on the disk; maintenance (5 min means, retention) runs hourly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import defaultdict
from dataclasses import dataclass, field

from smartsofar.engine.hub import Topic, TopicClosedError
from smartsofar.engine.snapshot import SiteSnapshot
from smartsofar.errors import StorageError
from smartsofar.storage.history import FINE_S, PHASE_COLUMNS, SITE_COLUMNS, History, SiteRow, UnitRow

log = logging.getLogger(__name__)
MAX_GAP_S = 10.0
PV_LOOKBACK_DAYS = 30  # at start, PV seen on one of these days means a PV CT is fitted


@dataclass(slots=True)
class _Mean:
    total: float = 0.0
    count: int = 0

    def add(self, value: float | None) -> None:
        if value is not None:
            self.total += value
            self.count += 1

    @property
    def value(self) -> float | None:
        return self.total / self.count if self.count else None


@dataclass(slots=True)
class _Bucket:
    ts: int
    site: dict[str, _Mean] = field(default_factory=lambda: defaultdict(_Mean))
    units: dict[int, dict[str, _Mean]] = field(default_factory=lambda: defaultdict(lambda: defaultdict(_Mean)))
    states: dict[int, int] = field(default_factory=dict)


def _phase_powers(snapshot: SiteSnapshot) -> tuple[float | None, float | None, float | None]:
    """The grid per phase from a fresh meter sample (None where it has no such phase)."""
    meter = snapshot.meter
    if meter is None or not meter.fresh or meter.sample is None:
        return (None, None, None)
    phases = [p.power_w for p in meter.sample.phases[:3]]
    if len(phases) < 2:
        return (None, None, None)  # one channel: that is the grid itself
    padded: list[float | None] = [*phases, None, None]
    return (padded[0], padded[1], padded[2])


def local_day(t: float) -> str:
    """The local calendar day of a Unix time."""
    return time.strftime("%Y-%m-%d", time.localtime(t))


class HistoryRecorder:
    """Snapshots in, batched rows out."""

    def __init__(self, history: History, *, flush_every_s: float = 60.0, maintain_every_s: float = 3600.0) -> None:
        self.history = history
        self.flush_every_s = flush_every_s
        self.maintain_every_s = maintain_every_s
        self._bucket: _Bucket | None = None
        self._sites: list[SiteRow] = []
        self._units: list[UnitRow] = []
        self._energy: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self._last_at: float | None = None
        self._today: tuple[str, dict[str, float]] = (local_day(time.time()), defaultdict(float))
        self.failures = 0
        self.pv_measured = False  # a unit has reported PV: a CT is fitted, and its 0 W at night is a reading

    def add(self, snapshot: SiteSnapshot) -> None:
        """Take one snapshot into the current bucket and the day's energies."""
        at = snapshot.at
        ts = int(at // FINE_S) * FINE_S
        if self._bucket is None or ts != self._bucket.ts:
            self._close_bucket()
            self._bucket = _Bucket(ts)
        bucket = self._bucket
        pv = max((u.reading.pv_w for u in snapshot.units if u.reading is not None), default=None)
        if pv:
            self.pv_measured = True
        house = None if snapshot.grid_w is None or snapshot.battery_w is None else snapshot.grid_w - snapshot.battery_w
        for name, value in (("grid_w", snapshot.grid_w), ("battery_w", snapshot.battery_w),
                            ("soc_pct", snapshot.soc_pct), ("house_w", house), ("pv_w", pv or None),
                            *zip(PHASE_COLUMNS, _phase_powers(snapshot), strict=True)):
            bucket.site[name].add(value)
        for unit in snapshot.units:
            if unit.reading is None:
                continue
            bucket.units[unit.unit_id]["battery_w"].add(unit.reading.battery_w)
            bucket.units[unit.unit_id]["soc_pct"].add(unit.reading.soc_pct)
            bucket.states[unit.unit_id] = int(unit.reading.running_state)
        self._integrate(snapshot, house, pv)

    def _integrate(self, snapshot: SiteSnapshot, house_w: float | None, pv_w: float | None) -> None:
        at, last = snapshot.at, self._last_at
        self._last_at = at
        if last is None or not 0 < at - last <= MAX_GAP_S:
            return
        hours = (at - last) / 3600
        name = local_day(at)
        if self._today[0] != name:
            self._today = (name, defaultdict(float))
        totals = self._today[1]
        day = self._energy[name]
        before = dict(day)
        if snapshot.grid_w is not None:
            day["import_wh" if snapshot.grid_w > 0 else "export_wh"] += abs(snapshot.grid_w) * hours
        for unit in snapshot.units:
            if unit.reading is not None:
                battery = unit.reading.battery_w
                day["charged_wh" if battery > 0 else "discharged_wh"] += abs(battery) * hours
        if self.pv_measured and pv_w is not None and house_w is not None:
            day["pv_wh"] += pv_w * hours
            day["load_wh"] += max(0.0, house_w + pv_w) * hours
        for key, value in day.items():
            totals[key] += value - before.get(key, 0.0)

    def today(self) -> dict[str, float]:
        """Today's energies so far (Wh): what is written plus what is pending."""
        if self._today[0] != local_day(time.time()):
            return {}
        return dict(self._today[1])

    async def load_today(self) -> None:
        """Start today's totals from what the database already holds (after a restart), and whether PV was
        measured on a recent day."""
        now = time.time()
        name = local_day(now)
        recent = await asyncio.to_thread(self.history.days, local_day(now - PV_LOOKBACK_DAYS * 86400), name)
        if any(day.get("pv_wh") for day in recent):
            self.pv_measured = True
        rows = [day for day in recent if day["day"] == name]
        totals: dict[str, float] = defaultdict(float)
        for key, value in (rows[0] if rows else {}).items():
            if key.endswith("_wh"):
                totals[key] = float(value)
        self._today = (name, totals)

    def _close_bucket(self) -> None:
        bucket = self._bucket
        if bucket is None:
            return
        site = bucket.site
        self._sites.append(SiteRow(bucket.ts, *(site[c].value for c in SITE_COLUMNS)))
        for unit_id, means in bucket.units.items():
            self._units.append(UnitRow(bucket.ts, unit_id, means["battery_w"].value, means["soc_pct"].value,
                                       bucket.states.get(unit_id)))
        self._bucket = None

    def take_batch(self, close_open_bucket: bool = False) -> tuple[list[SiteRow], list[UnitRow],
                                                                   dict[str, dict[str, float]]]:
        """Everything not yet written (the open bucket too, when asked: at shutdown)."""
        if close_open_bucket:
            self._close_bucket()
        batch = (self._sites, self._units, {d: dict(v) for d, v in self._energy.items()})
        self._sites, self._units = [], []
        self._energy = defaultdict(lambda: defaultdict(float))
        return batch

    async def flush(self, close_open_bucket: bool = False) -> None:
        """Write what is pending, from a worker thread."""
        sites, units, energy = self.take_batch(close_open_bucket)
        if not sites and not units and not energy:
            return
        try:
            await asyncio.to_thread(self.history.write, sites, units, energy)
        except StorageError as exc:
            self.failures += 1
            if self.failures in (1, 10) or self.failures % 100 == 0:
                log.error("%s", exc)

    async def run(self, snapshots: Topic[SiteSnapshot]) -> None:
        """Record until cancelled or the topic closes; flush what is pending on the way out."""
        await self.load_today()
        next_flush = time.monotonic() + self.flush_every_s
        next_maintenance = time.monotonic() + 60.0
        with snapshots.subscribe() as subscription:
            try:
                while True:
                    timeout = max(0.0, min(next_flush, next_maintenance) - time.monotonic())
                    with contextlib.suppress(TimeoutError):  # asyncio.timeout keeps a cancel; 3.11's wait_for may not
                        async with asyncio.timeout(timeout):
                            try:
                                self.add(await subscription.get())
                            except TopicClosedError:
                                return
                    now = time.monotonic()
                    if now >= next_flush:
                        await self.flush()
                        next_flush = now + self.flush_every_s
                    if now >= next_maintenance:
                        await asyncio.to_thread(self.history.maintain)
                        next_maintenance = now + self.maintain_every_s
            finally:
                await asyncio.shield(self.flush(close_open_bucket=True))
