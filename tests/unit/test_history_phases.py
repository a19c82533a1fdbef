"""The history keeps the grid per phase where the meter has phases, and a database from before per-phase
history opens with its rows intact and the new columns empty."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from smartsofar.storage.history import History, SiteRow

OLD_SCHEMA = """
CREATE TABLE site_10s (ts INTEGER PRIMARY KEY, grid_w REAL, battery_w REAL, soc_pct REAL, house_w REAL, pv_w REAL);
CREATE TABLE site_5min (ts INTEGER PRIMARY KEY, grid_w REAL, battery_w REAL, soc_pct REAL, house_w REAL, pv_w REAL);
"""


def test_the_grid_per_phase_is_kept_and_read_back(tmp_path: Path) -> None:
    history = History(tmp_path / "history.db")
    bucket = int(time.time()) // 300 * 300 - 300  # the last whole 5 minutes: both rows fold into one mean
    history.write([SiteRow(bucket + 10, -300.0, 0.0, 50.0, -300.0, 0.0, -900.0, 250.0, 350.0),
                   SiteRow(bucket + 20, 40.0, 0.0, 50.0, 40.0, 0.0)], [], {})
    series = history.series(bucket, bucket + 60)
    assert series["grid_a_w"] == [-900.0, None] and series["grid_c_w"] == [350.0, None]
    history.maintain(bucket + 900)  # folded into 5 min means: the phases too
    coarse = history.series(bucket - 3600 * 24 * 30, bucket + 300, resolution_s=300)
    assert coarse["grid_b_w"] == [250.0]
    history.close()


def test_a_database_from_before_gets_the_phase_columns_and_keeps_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "history.db"
    now = int(time.time()) // 10 * 10
    with sqlite3.connect(path) as old:
        old.executescript(OLD_SCHEMA)
        old.execute("INSERT INTO site_10s VALUES (?, 120.0, -800.0, 61.0, 920.0, 0.0)", (now - 30,))
    history = History(path)
    series = history.series(now - 60, now)
    assert series["grid_w"] == [120.0] and series["grid_a_w"] == [None]
    history.write([SiteRow(now - 10, 5.0, 0.0, 60.0, 5.0, 0.0, 1.0, 2.0, 2.0)], [], {})
    assert history.series(now - 60, now)["grid_a_w"] == [None, 1.0]
    history.close()
