"""The demo's simulated history: the real engine on the demo's plant, written through the real recorder; a
database that already holds the range is left alone."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from smartsofar.sim.prefill import local_midnight, main
from smartsofar.storage.history import History


def test_two_hours_of_a_day_are_simulated_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "history.db"
    midnight = local_midnight(time.time(), 0)
    args = ["--db", str(db), "--days", "0", "--until", str(midnight + 7200)]
    assert main(args) == 0
    history = History(db)
    try:
        rows = history.count("site_10s")
        assert 700 <= rows <= 721  # one 10 s mean each 10 s of the two hours
        day = history.days(time.strftime("%Y-%m-%d", time.localtime(midnight)),
                           time.strftime("%Y-%m-%d", time.localtime(midnight)))[0]
        assert day["discharged_wh"] > 300  # the night's house, from the batteries
    finally:
        history.close()
    assert main(args) == 0
    assert "left as it is" in capsys.readouterr().out
    again = History(db)
    try:
        assert again.count("site_10s") == rows
    finally:
        again.close()
