"""Lifetime energy counters that never go down: the statistics source for Home Assistant's Energy dashboard.

From the site's snapshots (about one a second) it integrates:

- **grid import and export, netted**: the signed total of the meter's phases, sample by sample, as a meter
  that nets across phases bills it (Germany, Belgium, ...). The meter's own counters, which add up each
  phase on its own, stay separate (``grid_import_kwh`` in the state message);
- **battery charged and discharged, per unit and for the site**: the DC side, from each unit's battery power
  (0x020D, + charging). The ME3000SP's own lifetime counters (0x0226-0x0229) are undocumented, so they are
  not used.

A gap longer than ``MAX_GAP_S`` (no fresh meter sample, a unit not read) is not integrated. The counters go
to ``energy_totals.json`` atomically, at most every ``SAVE_EVERY_S`` and on stop, and only what is on disk
is ever shown (``persisted``): a crash or a power cut loses the last seconds of energy, but a published
value never decreases, so Home Assistant never mistakes a restart for a meter reset. A file that cannot be
read is set aside as ``energy_totals.json.bad`` and the counters start again from zero, with a warning.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

from smartsofar.engine.hub import Topic, TopicClosedError
from smartsofar.engine.snapshot import SiteSnapshot
from smartsofar.storage.atomic import atomic_write, remove_orphans

log = logging.getLogger(__name__)
TOTALS_FILE = "energy_totals.json"
SAVE_EVERY_S = 30.0
MAX_GAP_S = 10.0
SITE_KEYS = ("grid_import_wh", "grid_export_wh", "charged_wh", "discharged_wh")
UNIT_KEYS = ("charged_wh", "discharged_wh")


def _counters(data: object, keys: tuple[str, ...], where: str) -> dict[str, float]:
    if not isinstance(data, dict):
        raise ValueError(f"{where} is not an object")
    out = {}
    for key in keys:
        value = data.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or value < 0:
            raise ValueError(f"{where}.{key} is not a non-negative number")
        out[key] = float(value)
    return out


class EnergyTotals:
    """Integrates snapshots into lifetime Wh counters and keeps them on disk."""

    def __init__(self, data_dir: Path, *, save_every_s: float = SAVE_EVERY_S) -> None:
        self.path = data_dir / TOTALS_FILE
        self.save_every_s = save_every_s
        self.site: dict[str, float] = dict.fromkeys(SITE_KEYS, 0.0)
        self.units: dict[int, dict[str, float]] = defaultdict(lambda: dict.fromkeys(UNIT_KEYS, 0.0))
        self._persisted: dict[str, Any] | None = None  # nothing is shown before the saved counters are read
        self._last_at: float | None = None
        self._dirty = False
        remove_orphans(self.path)

    # --- the counters ----------------------------------------------------------------------------------------

    def add(self, snapshot: SiteSnapshot) -> None:
        """Integrate from the previous snapshot to this one."""
        at, last = snapshot.at, self._last_at
        self._last_at = at
        if last is None or not 0 < at - last <= MAX_GAP_S:
            return
        hours = (at - last) / 3600
        if snapshot.grid_w is not None:  # None: no fresh sample
            self.site["grid_import_wh" if snapshot.grid_w > 0 else "grid_export_wh"] += abs(snapshot.grid_w) * hours
        for unit in snapshot.units:
            reading, age = unit.reading, unit.reading_age_s
            if reading is None or age is None or age > MAX_GAP_S:
                continue
            key = "charged_wh" if reading.battery_w > 0 else "discharged_wh"
            energy = abs(reading.battery_w) * hours
            self.units[unit.unit_id][key] += energy
            self.site[key] += energy
        self._dirty = True

    def persisted(self) -> dict[str, Any] | None:
        """What is on disk (Wh): ``{"site": {...}, "units": {"<id>": {...}}}``; only this is ever shown. None
        until ``load`` has read the saved counters: a zero shown before them would look like a meter reset."""
        return self._persisted

    def _as_json(self) -> dict[str, Any]:
        return {"site": {k: round(v, 3) for k, v in self.site.items()},
                "units": {str(uid): {k: round(v, 3) for k, v in c.items()} for uid, c in sorted(self.units.items())}}

    # --- the file --------------------------------------------------------------------------------------------

    def load(self) -> None:
        """Start from the saved counters (zero when there are none, or they cannot be read). Call it once,
        before ``run`` and before anything shows the counters."""
        self._persisted = self._as_json()
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            site = _counters(data.get("site", {}), SITE_KEYS, "site")
            units_data = data.get("units", {})
            if not isinstance(units_data, dict):
                raise ValueError("units is not an object")
            units = {int(uid): _counters(c, UNIT_KEYS, f"units.{uid}") for uid, c in units_data.items()}
        except FileNotFoundError:
            return
        except ValueError as exc:  # JSONDecodeError and a bad unit id included
            bad = self.path.with_name(TOTALS_FILE + ".bad")
            self.path.replace(bad)
            log.warning("%s could not be read (%s); kept as %s, the lifetime energy counters start again from 0 "
                        "(Home Assistant counts that as a meter reset)", self.path, exc, bad)
            return
        self.site.update(site)
        self.units.clear()
        self.units.update(units)
        self._persisted = self._as_json()

    async def save(self) -> None:
        """Write the counters atomically, from a worker thread; from then on they are what is shown."""
        snapshot = self._as_json()
        try:
            await asyncio.to_thread(atomic_write, self.path, json.dumps(snapshot, indent=1) + "\n")
        except OSError as exc:
            log.error("the lifetime energy counters could not be saved: %s", exc)
            return
        self._persisted = snapshot
        self._dirty = False

    async def run(self, snapshots: Topic[SiteSnapshot]) -> None:
        """Integrate until cancelled or the topic closes; save every ``save_every_s`` and on the way out."""
        if self._persisted is None:
            raise RuntimeError("EnergyTotals.load must run before run")
        next_save = time.monotonic() + self.save_every_s
        with snapshots.subscribe() as subscription:
            try:
                while True:
                    timeout = max(0.0, next_save - time.monotonic())
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(timeout):
                            try:
                                self.add(await subscription.get())
                            except TopicClosedError:
                                return
                    if time.monotonic() >= next_save:
                        if self._dirty:
                            await self.save()
                        next_save = time.monotonic() + self.save_every_s
            finally:
                if self._dirty:
                    await asyncio.shield(self.save())
