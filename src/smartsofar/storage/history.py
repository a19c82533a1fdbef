"""The history database: SQLite in the data directory, embedded, no server.

Tables: ``site_10s`` / ``unit_10s`` (10 s means, kept ``fine_days``; the site's grid also per phase where
the meter has phases), ``site_5min`` / ``unit_5min`` (5 min
means, kept ``coarse_days``) and ``daily`` (energies per local day: imported, exported, charged,
discharged, and PV / load where a unit measures PV). Writes come in batches, one transaction each, in WAL
mode: a ``kill -9`` or a power cut loses at most the batch not yet written, never the database.

All methods block; the recorder calls them from a worker thread, one at a time.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from smartsofar.errors import StorageError

FINE_S = 10
COARSE_S = 300
PHASE_COLUMNS = ("grid_a_w", "grid_b_w", "grid_c_w")
SITE_COLUMNS = ("grid_w", "battery_w", "soc_pct", "house_w", "pv_w", *PHASE_COLUMNS)
ENERGY_COLUMNS = ("import_wh", "export_wh", "charged_wh", "discharged_wh", "pv_wh", "load_wh")

_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS site_10s (ts INTEGER PRIMARY KEY, {", ".join(f"{c} REAL" for c in SITE_COLUMNS)});
CREATE TABLE IF NOT EXISTS site_5min (ts INTEGER PRIMARY KEY, {", ".join(f"{c} REAL" for c in SITE_COLUMNS)});
CREATE TABLE IF NOT EXISTS unit_10s (ts INTEGER, unit_id INTEGER, battery_w REAL, soc_pct REAL, state INTEGER,
                                     PRIMARY KEY (ts, unit_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unit_5min (ts INTEGER, unit_id INTEGER, battery_w REAL, soc_pct REAL, state INTEGER,
                                      PRIMARY KEY (ts, unit_id)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS daily (day TEXT PRIMARY KEY, {", ".join(f"{c} REAL DEFAULT 0" for c in ENERGY_COLUMNS)});
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value REAL);
"""


@dataclass(frozen=True, slots=True)
class SiteRow:
    """One 10 s mean of the site (None: not known during those 10 s)."""

    ts: int
    grid_w: float | None
    battery_w: float | None
    soc_pct: float | None
    house_w: float | None
    pv_w: float | None
    grid_a_w: float | None = None  # per phase, where the meter has phases
    grid_b_w: float | None = None
    grid_c_w: float | None = None

    def values(self) -> tuple[float | None, ...]:
        """The columns in ``SITE_COLUMNS`` order."""
        return tuple(getattr(self, c) for c in SITE_COLUMNS)


@dataclass(frozen=True, slots=True)
class UnitRow:
    """One 10 s mean of one unit."""

    ts: int
    unit_id: int
    battery_w: float | None
    soc_pct: float | None
    state: int | None


class History:
    """One history database file."""

    def __init__(self, path: Path, *, fine_days: int = 7, coarse_days: int = 730) -> None:
        self.path = path
        self.fine_days = fine_days
        self.coarse_days = coarse_days
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)
            self._add_missing_columns()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the history database {path}: {exc}") from None

    def _add_missing_columns(self) -> None:
        """A database from an earlier version gets the columns added since (empty for its old rows)."""
        for table in ("site_10s", "site_5min"):
            have = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column in SITE_COLUMNS:
                if column not in have:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} REAL")

    def close(self) -> None:
        """Close the file (a checkpoint folds the WAL back in)."""
        with self._lock:
            self._db.close()

    # --- writing --------------------------------------------------------------------------------------------

    def write(self, sites: Sequence[SiteRow], units: Sequence[UnitRow],
              energies: dict[str, dict[str, float]]) -> None:
        """One batch, in one transaction: rows and per-day energy increments."""
        with self._lock:
            try:
                self._db.execute("BEGIN")
                self._db.executemany(
                    f"INSERT OR REPLACE INTO site_10s (ts, {', '.join(SITE_COLUMNS)}) "
                    f"VALUES (?, {', '.join('?' * len(SITE_COLUMNS))})", [(r.ts, *r.values()) for r in sites])
                self._db.executemany("INSERT OR REPLACE INTO unit_10s VALUES (?, ?, ?, ?, ?)",
                                     [(r.ts, r.unit_id, r.battery_w, r.soc_pct, r.state) for r in units])
                for day, values in energies.items():
                    columns = [c for c in ENERGY_COLUMNS if values.get(c)]
                    if not columns:
                        continue
                    self._db.execute(
                        f"INSERT INTO daily (day, {', '.join(columns)}) VALUES (?, {', '.join('?' * len(columns))}) "
                        f"ON CONFLICT(day) DO UPDATE SET {', '.join(f'{c} = {c} + excluded.{c}' for c in columns)}",
                        [day, *(values[c] for c in columns)])
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise StorageError(f"history not written: {exc}") from None

    def maintain(self, now: float | None = None) -> None:
        """Fold finished 10 s rows into 5 min means, then drop what is past its retention."""
        now = time.time() if now is None else now
        done_until = int(now // COARSE_S) * COARSE_S
        with self._lock:
            start = self._meta("downsampled_until") or 0.0
            self._db.execute("BEGIN")
            averages = ", ".join(f"avg({c})" for c in SITE_COLUMNS)
            self._db.execute(f"INSERT OR REPLACE INTO site_5min (ts, {', '.join(SITE_COLUMNS)}) "
                             f"SELECT (ts / {COARSE_S}) * {COARSE_S}, {averages} "
                             "FROM site_10s WHERE ts >= ? AND ts < ? GROUP BY 1", (start, done_until))
            self._db.execute(f"INSERT OR REPLACE INTO unit_5min SELECT (ts / {COARSE_S}) * {COARSE_S}, unit_id, "
                             "avg(battery_w), avg(soc_pct), max(state) FROM unit_10s WHERE ts >= ? AND ts < ? "
                             "GROUP BY 1, 2", (start, done_until))
            self._db.execute("INSERT OR REPLACE INTO meta VALUES ('downsampled_until', ?)", (done_until,))
            fine_limit = now - self.fine_days * 86400
            coarse_limit = now - self.coarse_days * 86400
            for table, limit in (("site_10s", fine_limit), ("unit_10s", fine_limit), ("site_5min", coarse_limit),
                                 ("unit_5min", coarse_limit)):
                self._db.execute(f"DELETE FROM {table} WHERE ts < ?", (limit,))
            self._db.execute("COMMIT")

    def _meta(self, key: str) -> float | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else float(row[0])

    # --- reading --------------------------------------------------------------------------------------------

    def series(self, start: float, end: float, resolution_s: int | None = None) -> dict[str, Any]:
        """Site and per-unit means between ``start`` and ``end`` (Unix s), as columns (uPlot's shape).

        Without a resolution, one is chosen so that at most about 1000 points come back.
        """
        span = max(end - start, 1.0)
        resolution = resolution_s or max(FINE_S, int(span / 1000 // FINE_S * FINE_S) or FINE_S)
        fine_ok = start >= time.time() - self.fine_days * 86400 and resolution < COARSE_S
        suffix = "10s" if fine_ok else "5min"
        resolution = max(resolution, FINE_S if fine_ok else COARSE_S)
        averages = ", ".join(f"avg({c})" for c in SITE_COLUMNS)
        with self._lock:
            site = self._db.execute(
                f"SELECT (ts / {resolution}) * {resolution} AS b, {averages} FROM site_{suffix} "
                "WHERE ts >= ? AND ts < ? GROUP BY b ORDER BY b", (start, end)).fetchall()
            units = self._db.execute(
                f"SELECT (ts / {resolution}) * {resolution} AS b, unit_id, avg(battery_w), avg(soc_pct) "
                f"FROM unit_{suffix} WHERE ts >= ? AND ts < ? GROUP BY b, unit_id ORDER BY b", (start, end)).fetchall()
        times = [row[0] for row in site]
        out: dict[str, Any] = {"resolution_s": resolution, "t": times}
        for index, column in enumerate(SITE_COLUMNS, start=1):
            out[column] = [_round(row[index]) for row in site]
        position = {t: i for i, t in enumerate(times)}
        per_unit: dict[str, dict[str, list[float | None]]] = {}
        for ts, unit_id, battery, soc in units:
            if ts not in position:
                continue
            series = per_unit.setdefault(str(unit_id), {"battery_w": [None] * len(times),
                                                        "soc_pct": [None] * len(times)})
            series["battery_w"][position[ts]] = _round(battery)
            series["soc_pct"][position[ts]] = _round(soc)
        out["units"] = per_unit
        return out

    def house_means(self, start: float, end: float) -> list[tuple[float, float, float | None]]:
        """The house's own power (grid - batteries) and the PV's (None where no unit reported any) as 5-minute
        means, for the planner's forecast: the 5-minute table where it has the rows, the 10 s rows folded where
        it has not yet."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT ts, house_w, pv_w FROM site_5min WHERE ts >= ? AND ts < ? AND house_w IS NOT NULL "
                f"UNION ALL SELECT (ts / {COARSE_S}) * {COARSE_S} AS b, avg(house_w), avg(pv_w) FROM site_10s "
                f"WHERE ts >= ? AND ts < ? AND house_w IS NOT NULL AND ts >= coalesce((SELECT value FROM meta "
                f"WHERE key = 'downsampled_until'), 0) GROUP BY b ORDER BY 1", (start, end, start, end)).fetchall()
        return [(float(ts), float(w), None if pv is None else float(pv)) for ts, w, pv in rows]

    def days(self, first: str, last: str) -> list[dict[str, Any]]:
        """Energies per day from ``first`` to ``last`` (YYYY-MM-DD, inclusive)."""
        with self._lock:
            rows = self._db.execute(f"SELECT day, {', '.join(ENERGY_COLUMNS)} FROM daily WHERE day >= ? AND day <= ? "
                                    "ORDER BY day", (first, last)).fetchall()
        return [_day(row) for row in rows]

    def count(self, table: str) -> int:
        """Rows in one table (diagnostics)."""
        if table not in ("site_10s", "site_5min", "unit_10s", "unit_5min", "daily"):
            raise ValueError(table)
        with self._lock:
            return int(self._db.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 1)


def _day(row: Iterable[Any]) -> dict[str, Any]:
    day, *values = row
    out: dict[str, Any] = {"day": day}
    out.update({c: round(v or 0.0, 1) for c, v in zip(ENERGY_COLUMNS, values, strict=True)})
    load = out["load_wh"]
    pv = out["pv_wh"]
    out["self_sufficiency"] = round(1 - out["import_wh"] / load, 3) if load > 0 else None
    out["self_consumption"] = round(1 - out["export_wh"] / pv, 3) if pv > 0 else None
    return out
